// slotdiff/scoring/embedding_shift.hpp: leave-one-out embedding shift importance.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/concepts/distance_metric.hpp"
#include "slotdiff/concepts/embedder.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/error.hpp"

namespace slotdiff {

/// The token whose removal moves the sentence embedding least goes first: score_i =
/// metric(embed(x), embed(x without token i)). Dynamic (removing one token changes every other
/// token's shift), so the noiser rescores it after every step.
///
/// Holds a pointer to the embedder (which must outlive the scorer) and the metric by value.
/// Thread-safe if the embedder's and metric's const calls are; scratch buffers are thread_local.
///
/// Complexity: one embed and one embed_leave_one_out, O(n d) for the usual pooling embedders, plus
/// n metric calls of O(d).
/// Throws: slotdiff::error if the metric returns NaN (naming the position), or what the embedder throws.
template <leave_one_out_embedder E, distance_metric M>
class embedding_shift_scorer {
public:
  static constexpr bool dynamic = true;

  explicit embedding_shift_scorer(const E& embedder, M metric = M{}) : embedder_(&embedder), metric_(std::move(metric)) {}

  void score(std::span<const token_id> tokens, std::span<float> out) const {
    const std::size_t n = tokens.size(), d = embedder_->dimension();
    if (n == 0) return;
    thread_local std::vector<float> full, loo;
    full.resize(d);
    loo.resize(n * d);
    embedder_->embed(tokens, std::span<float>(full));
    embedder_->embed_leave_one_out(tokens, std::span<float>(loo));
    for (std::size_t i = 0; i < n; ++i) {
      const float s = static_cast<float>(
          metric_(std::span<const float>(full), std::span<const float>(loo.data() + i * d, d)));
      if (std::isnan(s))
        throw input_error("embedding_shift_scorer: the metric returned NaN for position " + std::to_string(i) + " of " +
                          std::to_string(n) + " (token " + std::to_string(tokens[i]) + ")");
      out[i] = s;
    }
  }

  const E& embedder() const noexcept { return *embedder_; }
  const M& metric() const noexcept { return metric_; }

private:
  const E* embedder_;
  M metric_;
};

}  // namespace slotdiff
