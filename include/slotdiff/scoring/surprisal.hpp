// slotdiff/scoring/surprisal.hpp: model surprisal importance, through any denoiser backend.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/concepts/denoiser_backend.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/denoise/candidates.hpp"
#include "slotdiff/denoise/ragged_batch.hpp"
#include "slotdiff/error.hpp"

namespace slotdiff {

/// The token the model predicts back most easily goes first: score_i = -log P(x_i | x without i),
/// the surprisal of x_i in the most likely of the slots that would put it back (for side_layout the
/// right slot of its left neighbour or the left slot of its right neighbour; for gap_layout the one
/// slot of its gap). Dynamic: the context changes as tokens go.
///
/// A full-distribution backend gives exact probabilities; a top-k-only backend gives them for the
/// k candidates, and a token outside them is given the mass the candidates leave, spread evenly over
/// the other ids (an estimate: it can only be that likely on average).
///
/// The backend is borrowed (it must outlive the scorer) and its calls are serialised by a mutex, so
/// the scorer may be shared by noising threads; they then take turns at the model.
/// Complexity: n backend calls on sequences of n - 1 tokens.
/// Throws: slotdiff::error when a token is outside the backend's vocabulary, or when the backend's
/// answer fails fetch_candidates' checks (wrong number of slots, an id outside the vocabulary, NaN,
/// an unnormalised distribution): "surprisal_scorer: backend ...".
template <denoiser_backend Backend>
class surprisal_scorer {
public:
  static constexpr bool dynamic = true;

  explicit surprisal_scorer(Backend& backend, std::size_t candidates = 64) : backend_(&backend), k_(candidates) {
    if (candidates == 0) throw options_error("surprisal_scorer: needs at least 1 candidate");
  }

  void score(std::span<const token_id> tokens, std::span<float> out) const {
    using layout = typename Backend::layout_type;
    const std::size_t n = tokens.size();
    const auto vocab = static_cast<std::size_t>(backend_->vocabulary_size());
    for (std::size_t i = 0; i < n; ++i) {
      if (tokens[i] < 0 || static_cast<std::size_t>(tokens[i]) >= vocab)
        throw input_error("surprisal_scorer: token " + std::to_string(tokens[i]) + " at position " + std::to_string(i) +
                          " is outside the backend's vocabulary of " + std::to_string(vocab));
    }
    std::lock_guard lock(mutex_);
    std::vector<token_id> rest(n == 0 ? 0 : n - 1);
    for (std::size_t i = 0; i < n; ++i) {
      std::copy(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(i), rest.begin());
      std::copy(tokens.begin() + static_cast<std::ptrdiff_t>(i) + 1, tokens.end(), rest.begin() + static_cast<std::ptrdiff_t>(i));
      const std::size_t m = rest.size(), slots = layout::slot_count(m);
      const std::size_t offsets[2] = {0, m};
      const ragged_batch batch{rest, offsets};
      const std::size_t slot_offsets[2] = {0, slots};
      double best = -std::numeric_limits<double>::infinity();
      // The backend's answer goes through denoise's checks (ids in range, no NaN, normalised).
      if constexpr (full_distribution_backend<Backend>) {
        fetch_distributions(*backend_, batch, slot_offsets, 1, table_, scratch_, "surprisal_scorer");
        for (std::size_t s = 0; s < slots; ++s)
          if (layout::gap_of(s, m) == i) best = std::max(best, static_cast<double>(scratch_[s * vocab + static_cast<std::size_t>(tokens[i])]));
      } else {
        const std::size_t k = std::min(k_, vocab);
        fetch_candidates(*backend_, batch, slot_offsets, k, table_, scratch_, "surprisal_scorer");
        for (std::size_t s = 0; s < slots; ++s) {
          if (layout::gap_of(s, m) != i) continue;
          const auto ids = table_.ids_of(s);
          const auto lp = table_.logp_of(s);
          double mass = 0.0, found = -std::numeric_limits<double>::infinity();
          for (std::size_t j = 0; j < k; ++j) {
            mass += std::exp(static_cast<double>(lp[j]));
            if (ids[j] == tokens[i]) found = lp[j];
          }
          if (!std::isfinite(found) && vocab > k) found = std::log(std::max(1.0 - mass, 1e-30) / static_cast<double>(vocab - k));
          best = std::max(best, found);
        }
      }
      out[i] = static_cast<float>(-best);  // +inf when the model cannot put it back at all
    }
  }

private:
  Backend* backend_;
  std::size_t k_;
  mutable std::mutex mutex_;
  mutable std::vector<float> scratch_;
  mutable candidate_table table_;
};

}  // namespace slotdiff
