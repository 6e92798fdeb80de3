// Generate from keywords with every stop policy combined. Each policy reads the loop's report of a
// sequence after each step; any_of / all_of compose them statically. The semantic ones
// (change_below, similarity_above) need a semantic measure: here a stand-in embedder and the
// cosine distance, with a target embedding (the sentence we would like to approach).
#include <slotdiff/slotdiff.hpp>
#include <slotdiff/backends/ngram_text.hpp>

#include <cstdio>
#include <string>
#include <vector>

using namespace slotdiff;

// A stand-in sentence embedder: the mean of a fixed pseudo-random vector per token id.
struct hashed_mean_embedder {
  std::size_t dimension() const { return 16; }
  void embed(std::span<const token_id> tokens, std::span<float> out) const {
    std::fill(out.begin(), out.end(), 0.0f);
    for (token_id t : tokens)
      for (std::size_t d = 0; d < out.size(); ++d) {
        const std::uint64_t h = (static_cast<std::uint64_t>(t) * 0x9E3779B97F4A7C15ull) ^ (d * 0xBF58476D1CE4E5B9ull);
        out[d] += static_cast<float>((h >> 11) % 2001) / 1000.0f - 1.0f;
      }
  }
};

int main() {
  const std::vector<std::string> corpus{
      "the river runs to the sea through the green valley", "clear water runs down from the hills",
      "the river water is cold in the spring",              "the fishermen wait by the river at dawn",
      "a boat drifts down the river to the sea",            "the children swim in the river water",
      "rain falls on the hills and fills the river",        "the old mill stands by the running water"};
  const tokenizer vocab = tokenizer::build(corpus);
  ngram_text_options recipe;
  recipe.heldout_every = 0;
  recipe.evaluate = false;
  recipe.threads = 1;
  auto model = train_ngram_on_text<side_layout>(corpus, vocab, recipe);

  const hashed_mean_embedder embedder;
  std::vector<float> target(embedder.dimension());
  embedder.embed(vocab.encode("a boat drifts down the river to the sea"), target);
  const embedding_change<hashed_mean_embedder, cosine_distance> semantics(embedder, cosine_distance{}, target);

  // Stop when any of these holds:
  const auto stop = stop::any_of(
      stop::max_steps{12},                                  // a step budget
      stop::max_length{16},                                 // a length cap
      stop::no_change{},                                    // the last step inserted nothing
      stop::similarity_above{0.95f},                        // close enough to the target sentence
      stop::all_of(stop::length_at_least{6},                // and, once there are 6 words or more,
                   stop::any_of(stop::probability_below{0.2f},  // the model offers nothing likely
                                stop::change_below{0.01f})),    // or a step barely moved the meaning
      stop::all_of(stop::never{}, stop::max_steps{1}));     // never: a placeholder that never fires
  static_assert(stop_policy<decltype(stop)>);

  denoise_options opts;
  opts.sampling.temperature = 0.7f;
  opts.sampling.top_p = 0.9f;
  opts.sampling.repetition_penalty = 1.5f;
  opts.sampling.no_adjacent_repeat = true;
  const std::vector<std::vector<token_id>> starts(4, vocab.encode("river water"));
  const auto gens = denoise(model, std::span<const std::vector<token_id>>(starts), stop, opts, semantics);
  for (const generation& g : gens) {
    std::vector<float> e(embedder.dimension());
    embedder.embed(g.tokens, e);
    std::printf("%2zu steps, %2zu words, similarity to the target %.2f: %s\n", g.steps, g.tokens.size(),
                1.0 - static_cast<double>(cosine_distance{}(e, target)), vocab.decode(g.tokens).c_str());
  }
  return 0;
}
