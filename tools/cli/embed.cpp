// tools/cli/embed.cpp: `slotdiff embed`, the SIF sentence embedder that `slotdiff noise --scorer
// shift|dynamic` reads, built from a corpus alone (PPMI-SVD word vectors, SIF weights and component).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "slotdiff/embed/sif_model.hpp"
#include "slotdiff/embed/sif_train.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff::cli {
namespace {

constexpr std::string_view help = R"(usage: slotdiff embed train INPUT... -o FILE [options]
       slotdiff embed info FILE
       slotdiff embed near FILE WORD [N]
train: a SIF sentence embedder (Arora et al. 2017) over PPMI-SVD word vectors (Levy & Goldberg
2014) learned from the text lines of INPUT (UTF-8, one sentence a line; invalid lines are skipped),
written as one binary file (float16 vectors; format in include/slotdiff/embed/sif_model.hpp).
  --dim D          vector dimension                                                  (100)
  --window W       co-occurrence window, in words each side                            (5)
  --min-count C    words seen fewer times are left out of the file                     (3)
  --max-words N    keep at most the N most frequent words (0: all)                     (0)
  --a A            SIF smoothing a in a / (a + p(w))                               (0.001)
  --no-component   do not remove the first principal component
  --seed S         seed of the randomised SVD                                          (7)
info: sizes and a few weights. near: the N (10) words whose vectors are closest by cosine.
)";

int train(std::span<const std::string_view> args) {
  std::vector<std::string_view> inputs;
  std::string out;
  sif_train_options o;
  o.min_count = 3;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= args.size()) throw error("option " + std::string(a) + " needs a value");
      return args[++i];
    };
    if (a == "-o" || a == "--out") out = value();
    else if (a == "--dim") o.vectors.dimension = parse_count(a, value());
    else if (a == "--window") o.vectors.window = parse_count(a, value());
    else if (a == "--min-count") o.min_count = parse_count(a, value());
    else if (a == "--max-words") o.max_words = parse_count(a, value());
    else if (a == "--seed") o.vectors.seed = parse_count(a, value());
    else if (a == "--a") {
      const auto v = value();
      o.a = parse_number(a, v);
      if (!(o.a > 0) || !std::isfinite(o.a)) throw error("--a: expected a finite number > 0, got \"" + std::string(v) + "\"");
    } else if (a == "--no-component") o.remove_component = false;
    else if (a.starts_with("-") && a != "-") throw error("unknown option " + std::string(a) + " (see slotdiff embed --help)");
    else inputs.push_back(a);
  }
  if (out.empty() || inputs.empty()) throw error("embed train: need INPUT... and -o FILE (see slotdiff embed --help)");
  if (o.vectors.dimension == 0) throw error("--dim: expected a positive count, got \"0\"");
  if (o.vectors.window == 0) throw error("--window: expected a positive count, got \"0\"");
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> lines;
  std::size_t bad = 0;
  for (auto in : inputs)
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
            << m.dimension() << " (count >= " << o.min_count << ") -> " << out << " (" << std::filesystem::file_size(out)
            << " bytes) in " << secs << " s\n";
  return 0;
}

int info(std::span<const std::string_view> args) {
  if (args.size() != 1) throw error("embed info: expected one FILE");
  const sif_model m = sif_model::load(std::filesystem::path(args[0]));
  std::cout << args[0] << ": " << m.size() << " words, dimension " << m.dimension() << ", a = " << m.a() << ", "
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

int near(std::span<const std::string_view> args) {
  if (args.size() < 2 || args.size() > 3) throw error("embed near: expected FILE WORD [N]");
  const sif_model m = sif_model::load(std::filesystem::path(args[0]));
  const std::size_t n = args.size() == 3 ? parse_count("N", args[2]) : 10;
  std::string word;
  tokenizer::normalize(args[1], word);
  const auto r = m.find(word);
  if (r < 0) throw error("embed near: \"" + word + "\" is not in " + std::string(args[0]));
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

int embed_command(std::span<const std::string_view> args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::cout << help;
    return args.empty() ? 2 : 0;
  }
  const auto rest = args.subspan(1);
  if (args[0] == "train") return train(rest);
  if (args[0] == "info") return info(rest);
  if (args[0] == "near") return near(rest);
  throw error("embed: unknown action \"" + std::string(args[0]) + "\" (expected train, info or near)");
}

}  // namespace slotdiff::cli
