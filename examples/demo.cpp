// The README's demo: noise a sentence, keyword by keyword, with the IDF scorer learned from the
// bundled corpus; then grow sentences back from keywords with the bundled model, step by step.
//
//     slotdiff_demo ["a sentence to noise"] [keywords...]
#include <slotdiff/backends/ngram_text.hpp>
#include <slotdiff/denoise/denoise.hpp>
#include <slotdiff/noise/noise.hpp>
#include <slotdiff/scoring/unigram.hpp>
#include <slotdiff/text/tokenizer.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
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

// The notes' diagram of a noising trajectory: x_0 first, removed words as underscores.
void print_noising(const trajectory<side_slots>& tr, const std::vector<std::string>& words) {
  for (step_index t = 0; t <= tr.steps(); ++t) {
    std::string line;
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (!line.empty()) line += ' ';
      line += tr.removed_at()[i] > t ? words[i] : std::string(words[i].size(), '_');
    }
    std::printf("  %s\n", line.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string data = SLOTDIFF_DATA_DIR;
  const std::string sentence = argc > 1 ? argv[1] : "a quick brown fox jumps over the lazy dog";
  std::vector<std::string> keyword_sets;
  for (int i = 2; i < argc; ++i) keyword_sets.emplace_back(argv[i]);
  if (keyword_sets.empty()) keyword_sets = {"music", "river water", "king queen"};

  const tokenizer vocab = tokenizer::load(data + "/vocab.txt");
  std::vector<std::string> corpus = read_lines(data + "/examples.txt");
  for (auto& l : read_lines(data + "/glosses.txt")) corpus.push_back(std::move(l));

  // 1. Noising: the IDF scorer learned from the bundled corpus removes the least significant first.
  // IDF is counted over every word of the corpus (an 8k vocabulary would fold rare words into <unk>,
  // which is as common as "the"); the model below works in the 8k vocabulary.
  const tokenizer all_words = tokenizer::build(corpus, {.max_size = std::size_t{1} << 31});
  unigram_model counts;
  for (const auto& line : corpus) counts.observe(all_words.encode(line));
  const auto ids = all_words.encode(sentence);
  std::vector<std::string> words;
  split_words(sentence, [&](std::string_view w) { words.emplace_back(w); });
  const auto tr = noise<side_slots>(ids, idf_scorer(counts), {.schedule = noise_schedule::per_step(2), .keep_keywords = 3});
  std::printf("slotdiff demo\n\n1. Noising \"%s\" (IDF learned from %zu corpus lines, side_slots, 2 words a step):\n\n",
              sentence.c_str(), corpus.size());
  print_noising(tr, words);

  // 2. Denoising: the n-gram insertion model, trained on the corpus's own noising trajectories.
  const auto t0 = std::chrono::steady_clock::now();
  ngram_text_report report;
  auto model = train_ngram_on_text<side_slots>(corpus, vocab, {.heldout_every = 20}, &report);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("\n2. Growing sentences back. Model: the n-gram insertion model P(word | left, right, side), trained on\n"
              "   the trajectories of %zu corpus sentences in %.1f s; held-out %.3f nats/slot (unigram baseline %.3f).\n",
              report.train_sentences, secs, report.heldout_nll, report.unigram_nll);

  // Keywords from the noising above: its last state, in the model's vocabulary.
  std::string from_noise;
  for (token_id id : tr.state(tr.steps())) {
    if (const auto v = vocab.find(all_words.word(id)))
      from_noise += (from_noise.empty() ? "" : " ") + vocab.word(*v);
  }
  if (!from_noise.empty()) keyword_sets.insert(keyword_sets.begin(), from_noise);

  const auto stop = stop::any_of(stop::max_steps{6}, stop::max_length{30}, stop::probability_below{0.02f}, stop::no_change{});
  for (const auto& k : keyword_sets) {
    std::vector<std::vector<token_id>> starts(2, vocab.encode(k));
    const auto gens = denoise(model, std::span<const std::vector<token_id>>(starts), stop,
                              {.sampling = {.temperature = 0.7f, .top_p = 0.95f, .repetition_penalty = 1.5f},
                               .candidates = 32, .seed = 7});
    std::printf("\n   keywords \"%s\":\n", k.c_str());
    for (const auto& g : gens) {
      const std::string diagram = underscores_diagram(g, [&](token_id t) { return vocab.word(t); });
      std::size_t at = 0;
      for (std::size_t nl; (nl = diagram.find('\n', at)) != std::string::npos; at = nl + 1)
        std::printf("     %s\n", diagram.substr(at, nl - at).c_str());
      std::printf("     -> %s\n\n", vocab.decode(g.tokens).c_str());
    }
  }
  std::printf("The n-gram model sees only a slot's two neighbours, so its text is locally plausible and globally\n"
              "loose; the reference transformer denoiser is the model meant for real text.\n");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "slotdiff_demo: %s\n", e.what());
  return 1;
}
