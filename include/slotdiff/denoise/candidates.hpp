// slotdiff/denoise/candidates.hpp: the best k candidates of every slot, from any backend, checked.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/concepts/denoiser_backend.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/denoise/ragged_batch.hpp"
#include "slotdiff/error.hpp"

namespace slotdiff {

/// Per slot, k (token, log-probability) candidates, best first.
struct candidate_table {
  std::size_t k = 0;
  std::vector<token_id> ids;
  std::vector<float> logp;
  std::span<const token_id> ids_of(std::size_t slot) const noexcept { return {ids.data() + slot * k, k}; }
  std::span<const float> logp_of(std::size_t slot) const noexcept { return {logp.data() + slot * k, k}; }
};

namespace detail {

inline std::string where_slot(std::span<const std::size_t> slot_offsets, std::size_t row) {
  const auto it = std::upper_bound(slot_offsets.begin(), slot_offsets.end(), row);
  const auto seq = static_cast<std::size_t>(it - slot_offsets.begin()) - 1;
  return "sequence " + std::to_string(seq) + ", slot " + std::to_string(row - slot_offsets[seq]);
}

}  // namespace detail

/// Asks `backend` for the k best candidates of every slot of `batch` and checks the answer: the
/// right number of rows, ids inside the vocabulary, no NaN, log-probabilities <= 0 in descending
/// order, not all -inf, and (for full distributions) normalised to within 1e-3.
/// Throws: slotdiff::error naming the sequence and the slot.
template <denoiser_backend Backend>
void fetch_candidates(Backend& backend, const ragged_batch& batch, std::span<const std::size_t> slot_offsets,
                      std::size_t k, candidate_table& out, std::vector<float>& scratch) {
  const std::size_t slots = slot_offsets.back();
  const auto vocab = static_cast<std::size_t>(backend.vocabulary_size());
  k = std::min(k, vocab);
  out.k = k;
  out.ids.resize(slots * k);
  out.logp.resize(slots * k);
  std::size_t rows = 0;
  if constexpr (top_k_backend<Backend>) {
    rows = backend.top_k(batch, k, out.ids, out.logp);
  } else {
    scratch.resize(slots * vocab);
    rows = backend.log_probs(batch, scratch);
    if (rows == slots) {
      std::vector<token_id> order(vocab);
      for (std::size_t r = 0; r < slots; ++r) {
        const float* row = scratch.data() + r * vocab;
        double z = 0.0;
        for (std::size_t v = 0; v < vocab; ++v) {
          if (std::isnan(row[v]))
            throw error("slotdiff: backend returned NaN for token " + std::to_string(v) + " at " +
                        detail::where_slot(slot_offsets, r));
          z += std::exp(static_cast<double>(row[v]));
        }
        if (!(std::abs(z - 1.0) <= 1e-3))
          throw error("slotdiff: backend's distribution at " + detail::where_slot(slot_offsets, r) + " sums to " +
                      std::to_string(z) + ", not 1 (log_probs must be normalised log-probabilities)");
        std::iota(order.begin(), order.end(), token_id{0});
        std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                          [&](token_id a, token_id b) { return row[a] > row[b]; });
        for (std::size_t j = 0; j < k; ++j) {
          out.ids[r * k + j] = order[j];
          out.logp[r * k + j] = row[order[j]];
        }
      }
    }
  }
  if (rows != slots) {
    throw error("slotdiff: backend answered " + std::to_string(rows) + " slots for a batch of " +
                std::to_string(batch.size()) + " sequences with " + std::to_string(slots) + " slots");
  }
  for (std::size_t r = 0; r < slots; ++r) {
    bool finite = false;
    double mass = 0.0;
    for (std::size_t j = 0; j < k; ++j) {
      const token_id id = out.ids[r * k + j];
      const float l = out.logp[r * k + j];
      if (id < 0 || static_cast<std::size_t>(id) >= vocab)
        throw error("slotdiff: backend returned token id " + std::to_string(id) + " outside [0, " +
                    std::to_string(vocab) + ") at " + detail::where_slot(slot_offsets, r));
      if (std::isnan(l) || l > 1e-4f)
        throw error("slotdiff: backend returned log-probability " + std::to_string(l) + " for token " +
                    std::to_string(id) + " at " + detail::where_slot(slot_offsets, r));
      if (j > 0 && l > out.logp[r * k + j - 1])
        throw error("slotdiff: backend's candidates at " + detail::where_slot(slot_offsets, r) +
                    " are not sorted best first");
      finite = finite || std::isfinite(l);
      mass += std::exp(static_cast<double>(l));
    }
    if (!finite)
      throw error("slotdiff: backend gave every candidate probability 0 (-inf) at " + detail::where_slot(slot_offsets, r));
    if (mass > 1.0 + 1e-3)
      throw error("slotdiff: backend's candidates at " + detail::where_slot(slot_offsets, r) + " hold mass " +
                  std::to_string(mass) + " > 1");
  }
}

}  // namespace slotdiff
