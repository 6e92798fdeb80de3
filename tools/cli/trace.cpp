// tools/cli/trace.cpp: `slotdiff trace`, one sentence taken apart by a noising and grown back from
// its keywords by a model, as two underscores diagrams on stdout or as one HTML page
// (slotdiff/io/trace_html.hpp).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "corpus_ngram.hpp"
#include "decoding_options.hpp"
#include "options.hpp"
#include "slotdiff/backends/ngram.hpp"
#include "slotdiff/backends/ngram_text.hpp"
#include "slotdiff/backends/reference/reference.hpp"
#include "slotdiff/denoise/decoding.hpp"
#include "slotdiff/denoise/denoise.hpp"
#include "slotdiff/io/trace_html.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/scoring/random.hpp"
#include "slotdiff/scoring/unigram.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff::cli {
namespace {

struct settings {
  std::string sentence = "a quick brown fox jumps over the lazy dog";
  std::string scorer = "idf", corpus, backend = "ngram", model, vocab, html, title;
  std::size_t per_step = 2, keep = 3, threads = 2;
  std::uint64_t seed = 0;
  decoding_preset decoding{};
};

// The noising: word statistics over every word of the corpus (a vocabulary would fold rare words
// into <unk>, as common as "the"), the sentence noised `per_step` words a step down to `keep`.
struct noised {
  std::vector<std::string> words;
  trajectory<side_layout> tr;
  noising_view view;
};

noised noise_sentence(const settings& s) {
  const auto lines = read_lines(s.corpus.empty() ? default_corpus_path() : s.corpus);
  const tokenizer all_words = tokenizer::build(lines, {.max_size = std::size_t{1} << 31});
  unigram_model counts;
  for (const auto& line : lines) counts.observe(all_words.encode(line));
  noised n;
  split_words(s.sentence, [&](std::string_view w) { n.words.emplace_back(w); });
  if (n.words.empty()) throw option_error("--sentence: no words in \"" + s.sentence + "\"");
  const std::vector<token_id> ids = all_words.encode(s.sentence);
  const noise_options opts{.schedule = noise_schedule::per_step(s.per_step), .keep_keywords = s.keep, .seed = s.seed};
  auto with = [&](const auto& scorer) {
    n.tr = noise<side_layout>(ids, scorer, opts);
    n.view = make_noising_view(n.tr, n.words, scorer, s.scorer);
  };
  if (s.scorer == "idf") with(idf_scorer(counts));
  else if (s.scorer == "info") with(self_information_scorer(counts));
  else if (s.scorer == "tfidf") with(tfidf_scorer(counts));
  else with(random_scorer{s.seed});
  return n;
}

// A removed word's place: one underscore per character, as underscores_diagram draws it.
std::string blank(const std::string& w) {
  std::size_t chars = 0;
  for (unsigned char c : w) chars += (c & 0xC0) != 0x80;
  return std::string(std::max<std::size_t>(1, chars), '_');
}

std::string diagram_of_noising(const noised& n) {
  std::string out;
  for (step_index t = 0; t <= n.tr.steps(); ++t) {
    std::string line;
    for (std::size_t i = 0; i < n.words.size(); ++i) {
      if (!line.empty()) line += ' ';
      line += n.tr.removed_at()[i] > t ? n.words[i] : blank(n.words[i]);
    }
    out += "  " + line + '\n';
  }
  return out;
}

template <class Backend>
int trace_with(Backend& model, const tokenizer& vocab, const settings& s, const noised& n) {
  if (model.vocabulary_size() != vocab.size())
    throw model_error("the model has a vocabulary of " + std::to_string(model.vocabulary_size()) + " ids, the vocabulary file " +
                      s.vocab + " has " + std::to_string(vocab.size()));
  // The keywords the noising kept, in the model's vocabulary (a word it lacks is <unk> to the model,
  // shown as typed).
  std::string keywords;
  for (std::size_t i = 0; i < n.words.size(); ++i)
    if (n.tr.removed_at()[i] > n.tr.steps()) keywords += (keywords.empty() ? "" : " ") + n.words[i];
  const encoded_words e = vocab.encode_words(keywords);
  const std::vector<std::vector<token_id>> starts{e.ids};
  const auto gens = denoise(model, std::span<const std::vector<token_id>>(starts), s.decoding.stop(), s.decoding.options(s.seed));
  const generation& g = gens[0];
  const std::vector<std::string> shown = tokenizer::shown_words(e);
  const std::vector<std::string> words = generation_words(g, [&](token_id t) { return vocab.word(t); }, shown);

  std::cout << "noising \"" << s.sentence << "\" (scorer " << s.scorer << ", " << s.per_step << " words a step, keep "
            << s.keep << "):\n"
            << diagram_of_noising(n) << "denoising from \"" << keywords << "\" (" << s.backend << "):\n";
  const std::string d = underscores_diagram(g, std::span<const std::string>(words));
  for (std::size_t at = 0, nl; (nl = d.find('\n', at)) != std::string::npos; at = nl + 1)
    std::cout << "  " << d.substr(at, nl - at) << '\n';
  if (!s.html.empty()) {
    const std::string title = s.title.empty() ? s.sentence : s.title;
    const std::string caption = "noised by " + s.scorer + " (" + std::to_string(s.per_step) + " words a step, keep " +
                                std::to_string(s.keep) + "), grown back from its keywords by the " + s.backend +
                                " model; seed " + std::to_string(s.seed) + ".";
    const std::string page = trace_html(n.view, make_denoising_view(g, words, s.backend), {.title = title, .caption = caption});
    std::ofstream out(s.html, std::ios::binary | std::ios::trunc);
    if (!out) throw file_write_error("cannot open " + s.html + " for writing");
    out << page;
    check_written(out, s.html);
    std::cout << "wrote " << s.html << '\n';
  }
  return 0;
}

int run_ngram(const settings& s, const noised& n) {
  const tokenizer vocab = tokenizer::load(s.vocab);
  ngram_backend<side_layout> model = [&] {
    if (!s.model.empty()) return ngram_backend<side_layout>::load(s.model);
    // The same cache as `slotdiff generate` (corpus_ngram.hpp).
    const auto corpus = bundled_corpus();
    const auto cache = default_model_cache(side_layout::name, corpus, s.vocab);
    if (std::filesystem::exists(cache)) {
      try {
        return ngram_backend<side_layout>::load(cache);
      } catch (const error& e) {
        std::cerr << "slotdiff trace: ignoring the damaged cache (" << e.what() << ")\n";
      }
    }
    std::cerr << "slotdiff trace: training the n-gram model on the bundled corpus (once; cached at " << cache.string() << ")\n";
    ngram_text_options recipe = augmented_ngram_recipe();
    recipe.evaluate = false;
    auto m = train_ngram_on_text<side_layout>(read_all(corpus), vocab, recipe);
    std::filesystem::create_directories(cache.parent_path());
    m.save(cache);
    return m;
  }();
  return trace_with(model, vocab, s, n);
}

int run(settings& s) {
  if (s.vocab.empty())  // the bundled transformer brings its own vocabulary
    s.vocab = (s.backend == "reference" && s.model.empty()) ? default_model_vocab_path() : std::string(SLOTDIFF_DEFAULT_VOCAB);
  const noised n = noise_sentence(s);
  if (s.backend == "reference") {
    const tokenizer vocab = tokenizer::load(s.vocab);
    auto model = reference_backend::load(s.model.empty() ? std::string(SLOTDIFF_DEFAULT_MODEL) : s.model, vocab,
                                         {.threads = s.threads});
    return trace_with(model, vocab, s, n);
  }
  return run_ngram(s, n);
}

}  // namespace

std::function<int()> trace_command(CLI::App& app) {
  auto s = std::make_shared<settings>();
  app.description(
      "Takes one sentence apart with a noising (the least important words first) and grows it back\n"
      "from the keywords left with a model: both as the notes' underscores diagrams, and with --html\n"
      "as one self-contained page with a step slider and per-word scores (docs/tutorial.md).");
  text_option(app, "--sentence", s->sentence, "the sentence to noise")->type_name("\"TEXT\"");
  choice_option(app, "--scorer", s->scorer, {"idf", "info", "tfidf", "random"},
                "what goes first (low importance first; docs/noising.md)");
  text_option(app, "--corpus", s->corpus, "text to learn the word statistics from (data/corpus/train.txt)")->type_name("PATH");
  count_option(app, "--per-step", s->per_step, "words removed a step", {.min = 1});
  count_option(app, "--keep", s->keep, "keywords left at the end", {.min = 1});
  choice_option(app, "--backend", s->backend, {"ngram", "reference"},
                "ngram: the n-gram insertion model, trained from the bundled corpus (cached);\n"
                "reference: the bundled transformer (its own WordNet vocabulary)");
  text_option(app, "--model", s->model, "the model file (default: the bundled or cached one)")->type_name("PATH");
  text_option(app, "--vocab", s->vocab, "the model's vocabulary file")->type_name("PATH");
  count_option(app, "--threads", s->threads, "threads of the reference model's forward pass", {.min = 1});
  count_option(app, "--seed", s->seed, "random seed (the random scorer, sampling); same seed, same output");
  text_option(app, "--html", s->html, "also write the trace as one self-contained HTML page")->type_name("OUT")->group("Output");
  text_option(app, "--title", s->title, "the page's title (the sentence)")->type_name("\"TEXT\"")->group("Output");
  add_decoding_options(app, s->decoding);
  app.parse_complete_callback([s] { s->decoding.validate(); });
  return [s] { return run(*s); };
}

}  // namespace slotdiff::cli
