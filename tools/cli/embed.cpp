// tools/cli/embed.cpp: `slotdiff embed`, the SIF sentence embedder that `slotdiff noise --scorer
// shift|dynamic` reads, built from a corpus alone (PPMI-SVD word vectors, SIF weights and component).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "options.hpp"
#include "slotdiff/embed/sif_model.hpp"
#include "slotdiff/embed/sif_train.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff::cli {
namespace {

struct train_settings {
  std::vector<std::string> inputs;
  std::string out;
  sif_train_options o;
  train_settings() { o.min_count = 3; }
};

int train(const train_settings& s) {
  const std::string out = check_output_file("--out", s.out);
  sif_train_options o = s.o;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> lines;
  std::size_t bad = 0;
  for (const auto& in : s.inputs)
    for (auto& l : read_lines(in)) {
      if (detail::find_invalid_utf8(l) != std::string_view::npos) {
        ++bad;
        continue;
      }
      lines.push_back(std::move(l));
    }
  const tokenizer words = tokenizer::build(lines, {.max_size = std::size_t{1} << 31});
  std::vector<std::vector<token_id>> corpus;
  corpus.reserve(lines.size());
  std::size_t tokens = 0;
  for (const auto& l : lines) {
    corpus.push_back(words.encode(l));
    tokens += corpus.back().size();
  }
  std::vector<std::string> word_list;
  for (std::size_t i = 0; i < words.size(); ++i) word_list.push_back(words.word(static_cast<token_id>(i)));
  o.vectors.first_word_id = static_cast<token_id>(tokenizer::special_count);
  const sif_model m = train_sif_model(corpus, word_list, o);
  m.save(out);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << "slotdiff embed: " << lines.size() << " lines (" << bad << " invalid UTF-8 skipped), " << tokens << " tokens, "
            << words.size() - tokenizer::special_count << " distinct words; kept " << m.size() << " words of dimension "
            << m.dimension() << " (count >= " << o.min_count << ") -> " << s.out << " (" << std::filesystem::file_size(s.out)
            << " bytes) in " << secs << " s\n";
  return 0;
}

int info(const std::string& file) {
  const sif_model m = sif_model::load(std::filesystem::path(file));
  std::cout << file << ": " << m.size() << " words, dimension " << m.dimension() << ", a = " << m.a() << ", "
            << (m.component().empty() ? "no common component" : "common component removed") << '\n';
  for (std::string_view w : {"the", "of", "a", "quick", "brown", "fox", "jumps", "over", "lazy", "dog"}) {
    const auto r = m.find(w);
    if (r < 0) {
      std::cout << "  " << w << ": not in the file (hashed vector, weight of the rarest word)\n";
      continue;
    }
    const double p = m.probabilities()[static_cast<std::size_t>(r)];
    std::cout << "  " << w << ": p = " << p << ", SIF weight a/(a+p) = " << m.a() / (m.a() + p) << '\n';
  }
  return 0;
}

int near(const std::string& file, const std::string& typed, std::size_t n) {
  const sif_model m = sif_model::load(std::filesystem::path(file));
  std::string word;
  tokenizer::normalize(typed, word);
  const auto r = m.find(word);
  if (r < 0) throw input_error("embed near: \"" + word + "\" is not in " + file);
  const std::size_t d = m.dimension();
  std::vector<float> q(d), v(d);
  m.vector(static_cast<std::size_t>(r), q);
  std::vector<std::pair<float, std::size_t>> sims;
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (i == static_cast<std::size_t>(r)) continue;
    m.vector(i, v);
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t k = 0; k < d; ++k) ab += q[k] * v[k], aa += q[k] * q[k], bb += v[k] * v[k];
    sims.emplace_back(static_cast<float>(ab / std::sqrt(aa * bb + 1e-30)), i);
  }
  const std::size_t top = std::min(n, sims.size());
  std::partial_sort(sims.begin(), sims.begin() + static_cast<std::ptrdiff_t>(top), sims.end(), std::greater<>());
  for (std::size_t i = 0; i < top; ++i) std::cout << m.words()[sims[i].second] << '\t' << sims[i].first << '\n';
  return 0;
}

}  // namespace

std::function<int()> embed_command(CLI::App& app) {
  struct settings {
    train_settings train;
    std::string file, word;
    std::size_t n = 10;
  };
  auto s = std::make_shared<settings>();
  app.require_subcommand(0, 1);
  auto positional = [](CLI::App& a, const std::string& name, std::string& target, const std::string& help) {
    return a.add_option_function<std::string>(name, [&target, name](const std::string& v) { target = parse_text(name, v); }, help)
        ->required();
  };

  CLI::App* t = app.add_subcommand("train", "train an embedder from text and write it to one file");
  t->footer(
      "A SIF sentence embedder (Arora et al. 2017) over PPMI-SVD word vectors (Levy & Goldberg\n"
      "2014) learned from the text lines of INPUT (UTF-8, one sentence a line; invalid lines are\n"
      "skipped), written as one binary file (float16 vectors; format in\n"
      "include/slotdiff/embed/sif_model.hpp).");
  house_style(*t);
  auto& o = s->train.o;
  t->add_option_function<std::vector<std::string>>(
       "INPUT", [s](const std::vector<std::string>& v) { for (const auto& f : v) s->train.inputs.push_back(parse_text("INPUT", f)); },
       "text files, one sentence a line (- for stdin)")
      ->required()
      ->type_name("");
  text_option(*t, "-o,--out", s->train.out, "the embedder file to write")->required()->type_name("FILE");
  count_option(*t, "--dim", o.vectors.dimension, "vector dimension", {.min = 1, .max = 4096});
  count_option(*t, "--window", o.vectors.window, "co-occurrence window, in words each side", {.min = 1});
  count_option(*t, "--min-count", o.min_count, "words seen fewer times are left out of the file");
  count_option(*t, "--max-words", o.max_words, "keep at most the N most frequent words (0: all)");
  number_option(*t, "--a", o.a, "SIF smoothing a in a / (a + p(w))", {.min = 0, .min_open = true})->type_name("A");
  t->add_flag_callback("--no-component", [s] { s->train.o.remove_component = false; }, "do not remove the first principal component");
  count_option(*t, "--seed", o.vectors.seed, "seed of the randomised SVD");

  CLI::App* i = app.add_subcommand("info", "Sizes and a few weights of an embedder file.");
  house_style(*i);
  positional(*i, "FILE", s->file, "an embedder file (slotdiff embed train)");

  CLI::App* n = app.add_subcommand("near", "The N words whose vectors are closest to WORD's by cosine.");
  house_style(*n);
  positional(*n, "FILE", s->file, "an embedder file (slotdiff embed train)");
  positional(*n, "WORD", s->word, "the word");
  n->add_option_function<std::string>("N", [s](const std::string& v) { s->n = parse_count("N", v, {.min = 1}); }, "how many (10)");

  return [s, t, i, n, &app] {
    if (t->parsed()) return train(s->train);
    if (i->parsed()) return info(s->file);
    if (n->parsed()) return near(s->file, s->word, s->n);
    std::cerr << app.help("slotdiff");  // no action: the usage, status 2 (as the program without a command)
    return 2;
  };
}

}  // namespace slotdiff::cli
