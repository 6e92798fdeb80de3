// slotdiff/denoise/predictive_change.hpp: the meaning of a sequence read off the model itself, as
// its average predictive distribution over the slots, so that a step's semantic change is a
// divergence (KL, Jensen-Shannon, OT, ...) between consecutive steps' distributions.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/concepts/denoiser_backend.hpp"
#include "slotdiff/concepts/distance_metric.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/denoise/candidates.hpp"
#include "slotdiff/denoise/ragged_batch.hpp"
#include "slotdiff/error.hpp"

namespace slotdiff {

/// A semantic_measure whose "embedding" of a sequence is the backend's predictive distribution
/// averaged over the sequence's slots (a vector of vocabulary_size() probabilities summing to 1),
/// compared by any distribution metric, e.g. jensen_shannon_distance.
///
/// A top-k-only backend gives k probabilities per slot; the mass it leaves is spread evenly over
/// the other ids (the only unbiased guess without the full distribution).
/// The backend is borrowed and called once per embed (so the semantic budget costs one backend
/// call per trial prefix); its answer is checked by fetch_candidates (ids in range, no NaN,
/// normalised), so a bad backend is a backend_error starting "predictive_change:".
/// Not safe to call from several threads at once (it keeps scratch buffers).
template <denoiser_backend Backend, distance_metric Metric>
class predictive_change {
public:
  predictive_change(Backend& backend, Metric metric, std::size_t top_k = 64)
      : backend_(&backend), metric_(std::move(metric)), k_(top_k) {}

  std::size_t dimension() const { return static_cast<std::size_t>(backend_->vocabulary_size()); }
  std::span<const float> target() const noexcept { return {}; }
  float distance(std::span<const float> a, std::span<const float> b) const { return static_cast<float>(metric_(a, b)); }

  void embed(std::span<const token_id> tokens, std::span<float> out) const {
    using layout = typename Backend::layout_type;
    const std::size_t v = dimension();
    if (out.size() != v)
      detail::throw_as<input_error>("predictive_change::embed: out must hold ", v, " floats (the vocabulary size), got ", out.size());
    const std::size_t offsets[2] = {0, tokens.size()};
    const ragged_batch batch{tokens, offsets};
    const std::size_t slots = layout::slot_count(tokens.size());
    const std::size_t slot_offsets[2] = {0, slots};
    std::vector<double> sum(v, 0.0);
    // The backend's answer goes through the same checks as denoise's (ids in range, no NaN, ...).
    if constexpr (full_distribution_backend<Backend>) {
      fetch_distributions(*backend_, batch, slot_offsets, 1, table_, scratch_, "predictive_change");
      for (std::size_t s = 0; s < slots; ++s)
        for (std::size_t i = 0; i < v; ++i) sum[i] += std::exp(static_cast<double>(scratch_[s * v + i]));
    } else {
      const std::size_t k = std::min(k_, v);
      fetch_candidates(*backend_, batch, slot_offsets, k, table_, scratch_, "predictive_change");
      for (std::size_t s = 0; s < slots; ++s) {
        double mass = 0.0;
        const auto ids = table_.ids_of(s);
        const auto lp = table_.logp_of(s);
        for (std::size_t j = 0; j < k; ++j) {
          const double p = std::exp(static_cast<double>(lp[j]));
          sum[static_cast<std::size_t>(ids[j])] += p;
          mass += p;
        }
        const double rest = std::max(0.0, 1.0 - mass) / static_cast<double>(v - k == 0 ? 1 : v - k);
        if (v > k) {
          for (std::size_t i = 0; i < v; ++i) sum[i] += rest;
          for (std::size_t j = 0; j < k; ++j) sum[static_cast<std::size_t>(ids[j])] -= rest;
        }
      }
    }
    double total = 0.0;
    for (double x : sum) total += x;
    for (std::size_t i = 0; i < v; ++i) out[i] = static_cast<float>(sum[i] / total);
  }

private:
  Backend* backend_;
  Metric metric_;
  std::size_t k_;
  mutable std::vector<float> scratch_;
  mutable candidate_table table_;
};

}  // namespace slotdiff
