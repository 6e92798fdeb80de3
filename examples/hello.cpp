// Include and go: one header, no files. Noise a sentence with IDF counted over a dozen sentences,
// then grow its keywords back into a sentence with an n-gram insertion model trained on the same
// dozen sentences (in milliseconds), and print both as the notes' underscores diagrams.
#include <slotdiff/slotdiff.hpp>
#include <slotdiff/backends/ngram_text.hpp>
#include <slotdiff/denoise/decoding.hpp>

#include <cstdio>
#include <string>
#include <vector>

int main() {
  using namespace slotdiff;
  const std::vector<std::string> corpus{
      "the quick brown fox jumps over the lazy dog", "a lazy dog sleeps in the warm sun",
      "the brown fox runs into the dark forest",    "a quick rabbit jumps over the old fence",
      "the old dog barks at the quick fox",         "the fox and the dog are friends now",
      "a small bird sings in the tall tree",        "the dark forest is quiet at night",
      "the lazy cat sleeps on the warm floor",      "a brown dog jumps into the cold river",
      "the quick fox jumps over the sleeping cat",  "the tall tree stands by the river"};
  const tokenizer vocab = tokenizer::build(corpus);
  unigram_model counts;
  for (const auto& line : corpus) counts.observe(vocab.encode(line));

  // Noising: two words a step, least important (lowest IDF) first, down to three keywords.
  const std::vector<token_id> ids = vocab.encode("the quick brown fox jumps over the lazy dog");
  noise_options how;
  how.schedule = noise_schedule::per_step(2);
  how.keep_keywords = 3;
  const trajectory<side_layout> tr = noise<side_layout>(ids, idf_scorer(counts), how);
  std::printf("noising, %d steps:\n", tr.steps());
  for (step_index t = 0; t <= tr.steps(); ++t) std::printf("  x%d  %s\n", t, vocab.decode(tr.state(t)).c_str());

  // Denoising: an n-gram insertion model P(word | left word, right word, side) trained on the
  // corpus's own noising trajectories, decoded with the recommended settings (decoding_preset:
  // nucleus sampling, a repetition penalty, stop when nothing likely is left to insert).
  ngram_text_options recipe;
  recipe.heldout_every = 0;
  recipe.evaluate = false;
  recipe.threads = 1;
  auto model = train_ngram_on_text<side_layout>(corpus, vocab, recipe);
  const decoding_preset preset;
  const std::vector<std::vector<token_id>> starts{tr.state(tr.steps())};
  const std::vector<generation> grown =
      denoise(model, std::span<const std::vector<token_id>>(starts), preset.stop(), preset.options(/*seed=*/1));
  std::printf("denoising from \"%s\", %zu steps:\n%s", vocab.decode(starts[0]).c_str(), grown[0].steps,
              underscores_diagram(grown[0], [&](token_id t) { return vocab.word(t); }).c_str());
  return 0;
}
