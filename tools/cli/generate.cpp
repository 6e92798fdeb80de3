// tools/cli/generate.cpp: `slotdiff generate`, grow sentences from keywords (or from nothing).
#include <charconv>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "corpus_ngram.hpp"
#include "decoding_options.hpp"
#include "options.hpp"
#include "slotdiff/backends/ngram.hpp"
#include "slotdiff/backends/ngram_text.hpp"
#include "slotdiff/backends/reference/reference.hpp"
#if SLOTDIFF_CLI_CUDA
#include "slotdiff/cuda/handle.hpp"
#endif
#include "slotdiff/denoise/decoding.hpp"
#include "slotdiff/denoise/denoise.hpp"
#include "slotdiff/denoise/predictive_change.hpp"
#include "slotdiff/metrics/probability.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff::cli {
namespace {

struct settings {
  std::vector<std::string> keywords;
  std::size_t count = 1;
  std::string model, vocab, layout = "side", backend = "ngram";
  std::size_t threads = 2;
  decoding_preset decoding{};
  std::uint64_t seed = 0;
  float budget = 0.0f;  // 0: no semantic budget
  bool trace = false, json = false;
};

template <class Backend>
int generate_with(Backend& model, const tokenizer& vocab, const settings& s) {
  if (model.vocabulary_size() != vocab.size())
    throw model_error("the model has a vocabulary of " + std::to_string(model.vocabulary_size()) + " ids, the vocabulary file " +
                      s.vocab + " has " + std::to_string(vocab.size()));
  std::vector<std::vector<token_id>> starts;
  std::vector<std::vector<std::string>> shown;  // per start: the typed word of each unknown keyword
  std::vector<std::string> labels;
  const std::vector<std::string> given = s.keywords.empty() ? std::vector<std::string>{""} : s.keywords;
  for (const auto& k : given) {
    const encoded_words e = vocab.encode_words(k);
    for (std::size_t i = 0; i < e.ids.size(); ++i) {
      if (e.ids[i] == tokenizer::unk)
        std::cerr << "slotdiff generate: \"" << e.words[i] << "\" is not in the vocabulary (" << s.vocab
                  << "); the model sees <unk> in its place\n";
    }
    for (std::size_t c = 0; c < s.count; ++c) {
      starts.push_back(e.ids);
      shown.push_back(tokenizer::shown_words(e));
      labels.push_back(k);
    }
  }
  const auto stop = s.decoding.stop();
  denoise_options opts = s.decoding.options(s.seed);
  // The semantic budget measures a step by how much it moves the model's own predictive
  // distribution (Jensen-Shannon distance between the slot-averaged distributions before and after).
  std::vector<generation> gens;
  if (s.budget > 0) {
    opts.fill.budget = s.budget;
    gens = denoise(model, std::span<const std::vector<token_id>>(starts), stop, opts,
                   predictive_change<Backend, jensen_shannon_distance>(model, {}));
  } else {
    gens = denoise(model, std::span<const std::vector<token_id>>(starts), stop, opts);
  }
  auto word = [&](token_id t) { return vocab.word(t); };
  for (std::size_t i = 0; i < gens.size(); ++i) {
    const generation& g = gens[i];
    if (s.json) {
      std::cout << to_json(g, word, shown[i]) << '\n';
      continue;
    }
    const std::vector<std::string> words = generation_words(g, word, shown[i]);
    if (s.trace) {
      std::cout << "keywords: \"" << labels[i] << "\"\n" << underscores_diagram(g, std::span<const std::string>(words));
      for (std::size_t t = 0; t < g.trace.size(); ++t) {
        std::cout << "  step " << t + 1 << ":";
        for (std::size_t j = 0; j < g.trace[t].inserted.size(); ++j) {
          char p[16];
          std::snprintf(p, sizeof p, "%.2f", static_cast<double>(g.trace[t].probability[j]));
          std::cout << " +" << vocab.word(g.trace[t].inserted[j].token) << "@" << g.trace[t].inserted[j].slot << " (" << p << ")";
        }
        if (g.trace[t].forced > 0) std::cout << "  [" << g.trace[t].forced << " by the progress rule]";
        std::cout << '\n';
      }
    }
    std::cout << tokenizer::join(words) << '\n';
    if (s.trace) std::cout << '\n';
  }
  return 0;
}


template <class Layout>
int run_ngram(const settings& s) {
  const tokenizer vocab = tokenizer::load(s.vocab);
  ngram_backend<Layout> model = [&] {
    if (!s.model.empty()) return ngram_backend<Layout>::load(s.model);
    const auto corpus = bundled_corpus();
    const auto cache = default_model_cache(Layout::name, corpus, s.vocab);
    if (std::filesystem::exists(cache)) {
      try {
        return ngram_backend<Layout>::load(cache);
      } catch (const error& e) {
        std::cerr << "slotdiff generate: ignoring the damaged cache (" << e.what() << ")\n";
      }
    }
    std::cerr << "slotdiff generate: training the n-gram model on the bundled corpus (once; cached at " << cache.string()
              << ")\n";
    ngram_text_report report;
    ngram_text_options recipe = augmented_ngram_recipe();
    recipe.evaluate = false;
    auto m = train_ngram_on_text<Layout>(read_all(corpus), vocab, recipe, &report);
    std::cerr << "  " << report.train_sentences << " sentences noised in " << report.noise_seconds << " s, model trained in "
              << report.train_seconds << " s\n";
    try {  // a cache that cannot be written costs the next run the training, nothing more
      std::filesystem::create_directories(cache.parent_path());
      m.save(cache);
    } catch (const std::exception& e) {
      std::cerr << "slotdiff generate: note: the model was not cached (" << e.what() << ")\n";
    }
    return m;
  }();
  return generate_with(model, vocab, s);
}


int run_reference(const settings& s) {
  const tokenizer vocab = tokenizer::load(s.vocab);
  auto model = reference_backend::load(s.model.empty() ? std::string(SLOTDIFF_DEFAULT_MODEL) : s.model, vocab,
                                       {.threads = s.threads});
  return generate_with(model, vocab, s);
}

int run_cuda([[maybe_unused]] const settings& s) {
#if SLOTDIFF_CLI_CUDA
  const tokenizer vocab = tokenizer::load(s.vocab);
  if (cuda::visible_devices() == 0) throw backend_error("--backend cuda: no CUDA device is visible");
  auto model = cuda::reference_handle::load(s.model.empty() ? std::string(SLOTDIFF_DEFAULT_MODEL) : s.model, vocab);
  return generate_with(model, vocab, s);
#else
  throw option_error("--backend cuda: this slotdiff was built without a CUDA compiler");
#endif
}

void check(settings& s) {
  s.decoding.validate();
  if ((s.backend == "reference" || s.backend == "cuda") && s.layout != "side")
    throw option_error("--backend " + s.backend + ": the reference model is trained for the side layout, got --layout " + s.layout);
}

int run(settings& s) {
  if (s.vocab.empty())  // the bundled transformer brings its own vocabulary; a user's model uses the corpus's
    s.vocab = (s.backend != "ngram" && s.model.empty()) ? default_model_vocab_path() : std::string(SLOTDIFF_DEFAULT_VOCAB);
  if (s.backend == "reference") return run_reference(s);
  if (s.backend == "cuda") return run_cuda(s);
  if (s.layout == "gap") return run_ngram<gap_layout>(s);
  return run_ngram<side_layout>(s);
}

}  // namespace

std::function<int()> generate_command(CLI::App& app) {
  auto s = std::make_shared<settings>();
  app.description(
      "Grows sentences by inserting words into the slots next to existing words, step by step, until\n"
      "the model no longer wants to insert anything (see Stopping below).");
  list_option(app, "--keywords", s->keywords,
              "start words, kept in order; repeat for several starts (none: from nothing).\n"
              "A word the vocabulary lacks is fed to the model as <unk> and printed as\n"
              "typed (a note goes to stderr)")
      ->type_name("\"WORDS\"");
  count_option(app, "--count", s->count, "generations per start, each with its own seed", {.min = 1});
  choice_option(app, "--backend", s->backend, {"ngram", "reference", "cuda"},
                "ngram: the n-gram insertion model, trained from the bundled corpus;\n"
                "reference: the bundled transformer (models/reference.safetensors, trained\n"
                "on WordNet with its own vocabulary: docs/ablation.md);\n"
                "cuda: the same transformer on an NVIDIA GPU (when built with CUDA)");
  text_option(app, "--model", s->model,
              "the model file (reference: the bundled one; ngram: trained from\n"
              "data/corpus/train.txt on first use, about 20 s, then cached under\n"
              "~/.cache/slotdiff, keyed on the vocabulary's and the corpus's bytes)")
      ->type_name("PATH");
  count_option(app, "--threads", s->threads, "threads of the reference model's forward pass", {.min = 1});
  text_option(app, "--vocab", s->vocab,
              "vocabulary file (data/corpus/vocab.txt; the bundled transformer's own,\n"
              "data/wordnet/vocab.txt, when --backend reference or cuda runs it)")
      ->type_name("PATH");
  choice_option(app, "--layout", s->layout, {"side", "gap"}, "slot layout");
  number_option(app, "--budget", s->budget,
                "semantic budget per step: insertions are accepted, most confident first,\n"
                "while the Jensen-Shannon distance between the model's slot-averaged\n"
                "predictive distributions before and after stays <= B (default: none)",
                {.min = 0, .min_open = true})
      ->type_name("B")
      ->default_str("");
  count_option(app, "--seed", s->seed, "random seed; same seed, same output");
  app.add_flag("--trace", s->trace, "print every step: the notes' underscores diagram and the insertions")->group("Output");
  app.add_flag("--json", s->json, "one JSON object per generation (with the trace)")->group("Output");
  add_decoding_options(app, s->decoding);
  app.footer(stopping_help());
  app.parse_complete_callback([s] { check(*s); });
  return [s] { return run(*s); };
}

}  // namespace slotdiff::cli
