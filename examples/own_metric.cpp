// Your own distance metric as the semantic budget: any `float operator()(span<const float>,
// span<const float>) const`. Here the Chebyshev distance (the largest coordinate difference) between
// sentence embeddings before and after a step. With a budget B, a step accepts insertions, most
// confident first, only while the text's embedding moves by at most B; a smaller budget makes more,
// smaller steps (the notes' semantic noising schedule, run backwards).
#include <slotdiff/slotdiff.hpp>
#include <slotdiff/backends/ngram_text.hpp>
#include <slotdiff/denoise/decoding.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace slotdiff;

struct chebyshev_distance {
  float operator()(std::span<const float> a, std::span<const float> b) const {
    if (a.size() != b.size()) throw error("chebyshev_distance: " + std::to_string(a.size()) + " vs " + std::to_string(b.size()));
    float d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
    return d;
  }
};
static_assert(distance_metric<chebyshev_distance>);

// A stand-in sentence embedder: the mean of a fixed pseudo-random vector per token id (use
// slotdiff::sif_embedder, or your own model, for real meaning).
struct hashed_mean_embedder {
  std::size_t dimension() const { return 16; }
  void embed(std::span<const token_id> tokens, std::span<float> out) const {
    std::fill(out.begin(), out.end(), 0.0f);
    for (token_id t : tokens)
      for (std::size_t d = 0; d < out.size(); ++d) {
        const std::uint64_t h = (static_cast<std::uint64_t>(t) * 0x9E3779B97F4A7C15ull) ^ (d * 0xBF58476D1CE4E5B9ull);
        out[d] += static_cast<float>((h >> 11) % 2001) / 1000.0f - 1.0f;
      }
    for (float& x : out) x /= static_cast<float>(std::max<std::size_t>(1, tokens.size()));
  }
};
static_assert(embedder<hashed_mean_embedder>);

int main() {
  const std::vector<std::string> corpus{
      "the whale rose from the grey sea at dawn",       "the captain watched the sea from the deck",
      "a white whale swims in the cold grey sea",       "the old captain sailed the ship to the north",
      "the ship sailed through the storm at night",     "the crew saw the whale from the ship",
      "a storm rose over the sea and the ship",         "the captain and the crew rowed to the whale"};
  const tokenizer vocab = tokenizer::build(corpus);
  ngram_text_options recipe;
  recipe.heldout_every = 0;
  recipe.evaluate = false;
  recipe.threads = 1;
  auto model = train_ngram_on_text<side_layout>(corpus, vocab, recipe);
  const hashed_mean_embedder embedder;
  const embedding_change<hashed_mean_embedder, chebyshev_distance> semantics(embedder, chebyshev_distance{});

  const std::vector<std::vector<token_id>> starts{vocab.encode("whale captain sea")};
  const decoding_preset preset;  // the recommended sampling and stop rule
  for (float budget : {INFINITY, 0.3f, 0.1f}) {
    denoise_options opts = preset.options(/*seed=*/3);
    opts.fill.gaps = gap_policy::independent;  // many insertions a step, so the budget has work to do
    opts.fill.max_insertions = 16;
    opts.fill.budget = budget;
    const auto g = denoise(model, std::span<const std::vector<token_id>>(starts), preset.stop(), opts, semantics)[0];
    std::printf("budget %-4g %zu steps: %s\n  change per step (Chebyshev), +insertions:", static_cast<double>(budget), g.steps,
                vocab.decode(g.tokens).c_str());
    for (const trace_step& t : g.trace) std::printf(" %.3f(+%zu)", static_cast<double>(t.change), t.inserted.size());
    std::printf("\n");
  }
  return 0;
}
