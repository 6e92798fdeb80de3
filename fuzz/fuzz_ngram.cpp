// Fuzz target: ngram_backend<side_layout>::read (the binary n-gram model). What it accepts must give
// probability distributions that sum to 1 and write back to the same bytes.
#include <cmath>
#include <sstream>
#include <vector>

#include "fuzz_common.hpp"
#include "slotdiff/backends/ngram.hpp"
#include "slotdiff/slots/layout.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace slotdiff;
  fuzz::refusal_ok([&] {
    const std::string bytes(fuzz::as_text(data, size));
    std::istringstream in(bytes);
    auto m = ngram_backend<side_layout>::read(in, "fuzz");
    std::ostringstream again;
    m.write(again);
    std::istringstream in2(again.str());
    const auto back = ngram_backend<side_layout>::read(in2, "fuzz round trip");
    std::ostringstream third;
    back.write(third);
    fuzz::check(third.str() == again.str(), "ngram: write(read(write(m))) differs from write(m)");
    if (m.vocabulary_size() > 512) return;  // keep an iteration fast (the O(V^2) check below)
    // Every slot of a short sequence: P sums to 1 over the vocabulary, every value in [0, 1].
    const auto v = static_cast<token_id>(m.vocabulary_size());
    const std::vector<token_id> x{0, static_cast<token_id>(v - 1), static_cast<token_id>(v / 2)};
    for (std::size_t s = 0; s < side_layout::slot_count(x.size()); ++s) {
      double sum = 0;
      for (token_id t = 0; t < v; ++t) {
        const double p = m.probability(x, s, t);
        fuzz::check(p >= 0 && p <= 1 + 1e-9, "ngram: probability outside [0, 1]");
        sum += p;
      }
      fuzz::check(std::abs(sum - 1.0) < 1e-6, "ngram: a distribution does not sum to 1");
    }
    const std::vector<token_id> flat{1, 2};
    const std::vector<std::size_t> offsets{0, 2};
    const ragged_batch batch{flat, offsets};
    std::vector<token_id> ids(4 * 3);
    std::vector<float> logp(4 * 3);
    m.top_k(batch, 3, ids, logp);
  });
  return 0;
}
