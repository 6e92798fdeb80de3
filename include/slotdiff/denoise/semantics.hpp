// slotdiff/denoise/semantics.hpp: how much a denoising step changes the meaning.
#pragma once

#include <concepts>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "slotdiff/concepts/distance_metric.hpp"
#include "slotdiff/concepts/embedder.hpp"
#include "slotdiff/concepts/semantic_measure.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/error.hpp"

namespace slotdiff {

/// No semantic measure: the semantic budget and the semantic stop policies are unavailable.
struct no_semantics {
  std::size_t dimension() const noexcept { return 0; }
  void embed(std::span<const token_id>, std::span<float>) const noexcept {}
  float distance(std::span<const float>, std::span<const float>) const noexcept {
    return std::numeric_limits<float>::quiet_NaN();
  }
  std::span<const float> target() const noexcept { return {}; }
};

/// Sentence embeddings from any embedder, compared by any distance metric; optionally a target
/// embedding for stop::similarity_above (similarity = 1 - distance).
/// The embedder is borrowed: it must outlive this object.
template <embedder Embedder, distance_metric Metric>
class embedding_change {
public:
  embedding_change(const Embedder& e, Metric m, std::vector<float> target = {})
      : embedder_(&e), metric_(std::move(m)), target_(std::move(target)) {
    if (!target_.empty() && target_.size() != embedder_->dimension()) {
      throw input_error("embedding_change: the target must have the embedder's " + std::to_string(embedder_->dimension()) +
                        " dimensions, got " + std::to_string(target_.size()));
    }
  }
  std::size_t dimension() const { return embedder_->dimension(); }
  void embed(std::span<const token_id> tokens, std::span<float> out) const { embedder_->embed(tokens, out); }
  float distance(std::span<const float> a, std::span<const float> b) const { return static_cast<float>(metric_(a, b)); }
  std::span<const float> target() const noexcept { return target_; }

private:
  const Embedder* embedder_;
  Metric metric_;
  std::vector<float> target_;
};

}  // namespace slotdiff
