// The README's demo: noise a sentence, keyword by keyword, with the IDF scorer learned from the
// bundled fluent corpus (docs/corpus.md); then grow sentences back from keywords with the n-gram
// insertion model trained from that corpus here, step by step (--reference: with the bundled
// reference transformer instead, trained on WordNet with its own vocabulary).
//
//     slotdiff_demo [--reference] ["a sentence to noise"] [keywords...]
#include <slotdiff/backends/ngram_text.hpp>
#include <slotdiff/backends/reference/reference.hpp>
#include <slotdiff/denoise/decoding.hpp>
#include <slotdiff/denoise/denoise.hpp>
#include <slotdiff/noise/noise.hpp>
#include <slotdiff/scoring/unigram.hpp>
#include <slotdiff/text/tokenizer.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace slotdiff;

namespace {

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw error("cannot open " + path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// Prints a diagram (underscores_diagram, '\n'-terminated lines) with every line indented.
void print_indented(const std::string& diagram, const char* indent) {
  std::size_t at = 0;
  for (std::size_t nl; (nl = diagram.find('\n', at)) != std::string::npos; at = nl + 1)
    std::printf("%s%s\n", indent, diagram.substr(at, nl - at).c_str());
}

// The notes' diagram of a noising trajectory: x_0 first, removed words as underscores.
void print_noising(const trajectory<side_layout>& tr, const std::vector<std::string>& words) {
  const auto removed = tr.removed_at();
  print_indented(underscores_diagram(std::span<const std::string>(words), static_cast<std::size_t>(tr.steps()),
                                     [&](std::size_t i, std::size_t t) { return static_cast<std::size_t>(removed[i]) > t; }),
                 "  ");
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string data = SLOTDIFF_DATA_DIR;
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool use_ngram = args.empty() || args.front() != "--reference";
  if (!args.empty() && (args.front() == "--reference" || args.front() == "--ngram")) args.erase(args.begin());
  const std::string sentence = !args.empty() ? args[0] : "a quick brown fox jumps over the lazy dog";
  std::vector<std::string> keyword_sets;
  for (std::size_t i = 1; i < args.size(); ++i) keyword_sets.push_back(args[i]);
  if (keyword_sets.empty()) keyword_sets = {"ship sea", "congress law", "whale captain"};

  // The n-gram model works in the corpus's vocabulary; the bundled transformer in its own.
  const tokenizer vocab = tokenizer::load(data + (use_ngram ? "/corpus/vocab.txt" : "/wordnet/vocab.txt"));
  const std::vector<std::string> corpus = read_lines(data + "/corpus/train.txt");

  // 1. Noising: the IDF scorer learned from the bundled corpus removes the least significant first.
  // IDF is counted over every word of the corpus (a vocabulary would fold rare words into <unk>,
  // which is as common as "the"); the model below works in its vocabulary.
  const tokenizer all_words = tokenizer::build(corpus, {.max_size = std::size_t{1} << 31});
  unigram_model counts;
  for (const auto& line : corpus) counts.observe(all_words.encode(line));
  const auto ids = all_words.encode(sentence);
  std::vector<std::string> words;
  split_words(sentence, [&](std::string_view w) { words.emplace_back(w); });
  const auto tr = noise<side_layout>(ids, idf_scorer(counts), {.schedule = noise_schedule::per_step(2), .keep_keywords = 3});
  std::printf("slotdiff demo\n\n1. Noising \"%s\" (IDF learned from %zu corpus lines, side_slots, 2 words a step):\n\n",
              sentence.c_str(), corpus.size());
  print_noising(tr, words);

  // 2. Denoising with the bundled model (or the n-gram model, trained here in a few seconds).
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<reference_backend> reference;  // holds a thread pool: not movable
  std::optional<ngram_backend<side_layout>> ngram;
  if (use_ngram) {
    ngram_text_report report;
    ngram_text_options recipe = augmented_ngram_recipe();  // 8 trajectories a line (docs/ablation.md)
    recipe.threads = 2;
    ngram = train_ngram_on_text<side_layout>(corpus, vocab, recipe, &report);
    std::printf("\n2. Growing sentences back. Model: the n-gram insertion model P(word | left, right, side), trained on\n"
                "   %zu trajectories (8 per corpus sentence) in %.1f s; held-out %.3f nats/slot (unigram baseline %.3f).\n",
                report.train_sentences, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                report.heldout_nll, report.unigram_nll);
  } else {
    reference = std::make_unique<reference_backend>(reference_weights::load(SLOTDIFF_MODEL, vocab), reference_options{.threads = 2});
    std::printf("\n2. Growing sentences back. Model: the bundled reference transformer (%s, trained on WordNet\n"
                "   glosses and examples, loaded in %.2f s).\n",
                SLOTDIFF_MODEL, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  // The decoding defaults of `slotdiff generate` (include/slotdiff/denoise/decoding.hpp).
  const decoding_preset decoding;
  std::printf("   Decoding: temperature %g, top-p %g, repetition penalty %g, no word below probability %g,\n"
              "   one insertion per gap per step, at least %zu insertion(s) a step while any word is admissible,\n"
              "   at most %zu a step; stop when no slot offers a word above %g (or at %zu words, %zu steps).\n",
              static_cast<double>(decoding.temperature), static_cast<double>(decoding.top_p),
              static_cast<double>(decoding.repetition_penalty), static_cast<double>(decoding.min_probability),
              decoding.min_insertions, decoding.max_insertions, static_cast<double>(decoding.stop_probability),
              decoding.max_length, decoding.max_steps);

  // Keywords from the noising above: its last state, in the model's vocabulary.
  std::string from_noise;
  for (token_id id : tr.state(tr.steps())) {
    if (const auto v = vocab.find(all_words.word(id)))
      from_noise += (from_noise.empty() ? "" : " ") + vocab.word(*v);
  }
  if (!from_noise.empty()) keyword_sets.insert(keyword_sets.begin(), from_noise);

  for (const auto& k : keyword_sets) {
    // A keyword outside the vocabulary is fed to the model as <unk> and printed as typed.
    const encoded_words e = vocab.encode_words(k);
    const std::vector<std::string> shown = tokenizer::shown_words(e);
    std::vector<std::vector<token_id>> starts(2, e.ids);
    const denoise_options opts = decoding.options(7);
    const auto gens = use_ngram ? denoise(*ngram, std::span<const std::vector<token_id>>(starts), decoding.stop(), opts)
                                : denoise(*reference, std::span<const std::vector<token_id>>(starts), decoding.stop(), opts);
    std::printf("\n   keywords \"%s\"%s:\n", k.c_str(), e.unknown ? " (a word outside the vocabulary is <unk> to the model)" : "");
    for (const auto& g : gens) {
      const auto words = generation_words(g, [&](token_id t) { return vocab.word(t); }, shown);
      print_indented(underscores_diagram(g, std::span<const std::string>(words)), "     ");
      std::printf("     -> %s\n\n", tokenizer::join(words).c_str());
    }
  }
  std::printf("Neither bundled model writes fluent English yet (the n-gram sees only the two words around a\n"
              "slot; a transformer trained on this corpus needs a GPU: docs/ablation.md). Read these as the\n"
              "mechanics of growing text into slots. Measured quality: docs/eval.md.\n");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "slotdiff_demo: %s\n", e.what());
  return 1;
}
