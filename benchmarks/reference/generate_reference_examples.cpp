// generate_reference_examples: grows sentences from keyword sets (and from nothing) with the reference
// model, printing each step, for docs/reference-model.md. Same stop policy and sampling as the demo.
//
// usage: generate_reference_examples [WEIGHTS [VOCAB]]   (defaults: models/reference.safetensors, the bundled vocabulary)
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "slotdiff/backends/reference/backend.hpp"
#include "slotdiff/denoise/denoise.hpp"
#include "slotdiff/denoise/trace.hpp"
#include "slotdiff/stop/policies.hpp"

using namespace slotdiff;

int main(int argc, char** argv) try {
  const std::string root = SLOTDIFF_SOURCE_DIR;
  const tokenizer vocab = tokenizer::load(argc > 2 ? argv[2] : root + "/data/wordnet/vocab.txt");
  auto model = reference_backend::load(argc > 1 ? argv[1] : root + "/models/reference.safetensors", vocab, {.threads = 2});
  const std::vector<std::string> keyword_sets = {"fox dog", "music played", "water cold", "government law", "he ran", ""};
  const auto stop = stop::any_of(stop::max_steps{6}, stop::max_length{30}, stop::probability_below{0.02f}, stop::no_change{});
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& k : keyword_sets) {
    std::vector<std::vector<token_id>> starts(2, vocab.encode(k));
    const auto gens = denoise(model, std::span<const std::vector<token_id>>(starts), stop,
                              {.sampling = {.temperature = 0.7f, .top_p = 0.95f, .repetition_penalty = 1.5f}, .candidates = 32, .seed = 7});
    std::printf("keywords \"%s\":\n", k.c_str());
    for (const auto& g : gens) {
      std::printf("%s", underscores_diagram(g, [&](token_id t) { return vocab.word(t); }).c_str());
      std::printf("-> %s\n\n", vocab.decode(g.tokens).c_str());
    }
  }
  std::printf("(%.2f s in all)\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "generate_reference_examples: %s\n", e.what());
  return 1;
}
