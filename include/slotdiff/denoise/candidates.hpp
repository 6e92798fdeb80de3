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

/// "sequence i, slot s" for row `row` of a batch's slots, i the caller's index (batch.origin_of):
/// denoise packs only the still-active sequences, and a message must name the one the caller passed.
inline std::string where_slot(const ragged_batch& batch, std::span<const std::size_t> slot_offsets, std::size_t row) {
  const auto it = std::upper_bound(slot_offsets.begin(), slot_offsets.end(), row);
  const auto seq = static_cast<std::size_t>(it - slot_offsets.begin()) - 1;
  return "sequence " + std::to_string(batch.origin_of(seq)) + ", slot " + std::to_string(row - slot_offsets[seq]);
}

/// Checks each of `slots` full log-distributions in `scratch` (slots x vocab, row-major: no NaN,
/// normalised to 1e-3) and writes its out.k best into `out` (its arrays already sized). Complexity:
/// O(slots vocab log k). Throws: backend_error starting with `who`, naming the sequence and slot.
template <class Where>
void top_k_of_distributions(std::span<const float> scratch, std::size_t slots, std::size_t vocab, candidate_table& out,
                            const std::string& who, Where at) {
  const std::size_t k = out.k;
  std::vector<token_id> order(vocab);
  for (std::size_t r = 0; r < slots; ++r) {
    const float* row = scratch.data() + r * vocab;
    double z = 0.0;
    for (std::size_t v = 0; v < vocab; ++v) {
      if (std::isnan(row[v])) throw backend_error(who + "backend returned NaN for token " + std::to_string(v) + " at " + at(r));
      z += std::exp(static_cast<double>(row[v]));
    }
    if (!(std::abs(z - 1.0) <= 1e-3))
      throw backend_error(who + "backend's distribution at " + at(r) + " sums to " + std::to_string(z) +
                          ", not 1 (log_probs must be normalised log-probabilities)");
    std::iota(order.begin(), order.end(), token_id{0});
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                      [&](token_id a, token_id b) { return row[a] > row[b]; });
    for (std::size_t j = 0; j < k; ++j) {
      out.ids[r * k + j] = order[j];
      out.logp[r * k + j] = row[order[j]];
    }
  }
}

/// Checks every slot's k candidates in `out`: ids in [0, vocab), log-probabilities not NaN and <= 0
/// (1e-4 of rounding allowed) in descending order, not all -inf, at most mass 1 (1e-3 allowed).
/// Complexity: O(slots k). Throws: backend_error starting with `who`, naming the sequence and slot.
template <class Where>
void check_candidates(const candidate_table& out, std::size_t slots, std::size_t vocab, const std::string& who, Where at) {
  const std::size_t k = out.k;
  for (std::size_t r = 0; r < slots; ++r) {
    bool finite = false;
    double mass = 0.0;
    for (std::size_t j = 0; j < k; ++j) {
      const token_id id = out.ids[r * k + j];
      const float l = out.logp[r * k + j];
      if (id < 0 || static_cast<std::size_t>(id) >= vocab)
        throw backend_error(who + "backend returned token id " + std::to_string(id) + " outside [0, " + std::to_string(vocab) +
                            ") at " + at(r));
      if (std::isnan(l) || l > 1e-4f)
        throw backend_error(who + "backend returned log-probability " + std::to_string(l) + " for token " +
                            std::to_string(id) + " at " + at(r));
      if (j > 0 && l > out.logp[r * k + j - 1])
        throw backend_error(who + "backend's candidates at " + at(r) + " are not sorted best first");
      finite = finite || std::isfinite(l);
      mass += std::exp(static_cast<double>(l));
    }
    if (!finite) throw backend_error(who + "backend gave every candidate probability 0 (-inf) at " + at(r));
    if (mass > 1.0 + 1e-3)
      throw backend_error(who + "backend's candidates at " + at(r) + " hold mass " + std::to_string(mass) + " > 1");
  }
}

/// fetch_candidates (Full = false: top_k) and fetch_distributions (Full = true: log_probs, then the
/// k best of each checked distribution): one backend call, then the checks.
template <bool Full, denoiser_backend Backend>
void fetch_checked(Backend& backend, const ragged_batch& batch, std::span<const std::size_t> slot_offsets, std::size_t k,
                   candidate_table& out, std::vector<float>& scratch, const char* caller) {
  const std::size_t slots = slot_offsets.back();
  const auto vocab = static_cast<std::size_t>(backend.vocabulary_size());
  const std::string who = std::string(caller) + ": ";
  auto at = [&](std::size_t r) { return detail::where_slot(batch, slot_offsets, r); };
  out.k = std::min(k, vocab);
  out.ids.resize(slots * out.k);
  out.logp.resize(slots * out.k);
  std::size_t rows = 0;
  if constexpr (!Full) {
    rows = backend.top_k(batch, out.k, out.ids, out.logp);
  } else {
    scratch.resize(slots * vocab);
    rows = backend.log_probs(batch, scratch);
    if (rows == slots) top_k_of_distributions(scratch, slots, vocab, out, who, at);
  }
  if (rows != slots) {
    throw backend_error(who + "backend answered " + std::to_string(rows) + " slots for a batch of " +
                        std::to_string(batch.size()) + " sequences with " + std::to_string(slots) + " slots");
  }
  check_candidates(out, slots, vocab, who, at);
}

}  // namespace detail

/// The one checked path from a backend to its callers (denoise, preference data, surprisal_scorer,
/// predictive_change): asks `backend` for the k best candidates of every slot of `batch` and checks
/// the answer before anything reads it: the right number of slot rows, ids inside the vocabulary, no
/// NaN, log-probabilities <= 0 (1e-4 of rounding allowed) in descending order, not all -inf, at most
/// mass 1, and, for full distributions, every entry not NaN and the distribution normalised to
/// within 1e-3. `caller` starts every message.
///
/// After the call, out holds k candidates per slot (k = min(k, vocabulary)). A backend that offers
/// both is asked for top-k; fetch_distributions below asks for the full distributions instead.
/// Complexity: one backend call, O(slots k) checks (full distributions: O(slots vocabulary)).
/// Throws: backend_error naming the caller, the sequence (the caller's index, batch.origin_of) and
/// the slot.
template <denoiser_backend Backend>
void fetch_candidates(Backend& backend, const ragged_batch& batch, std::span<const std::size_t> slot_offsets,
                      std::size_t k, candidate_table& out, std::vector<float>& scratch, const char* caller = "denoise") {
  detail::fetch_checked<!top_k_backend<Backend>>(backend, batch, slot_offsets, k, out, scratch, caller);
}

/// fetch_candidates through log_probs, always: after the call `scratch` holds every slot's whole
/// checked log-distribution (slots x vocabulary, row-major, no NaN, normalised to 1e-3) and `out` its
/// k best. For callers that need the probability of a token outside the k best (surprisal_scorer,
/// predictive_change). Throws: as fetch_candidates.
template <full_distribution_backend Backend>
void fetch_distributions(Backend& backend, const ragged_batch& batch, std::span<const std::size_t> slot_offsets,
                         std::size_t k, candidate_table& out, std::vector<float>& scratch, const char* caller) {
  detail::fetch_checked<true>(backend, batch, slot_offsets, k, out, scratch, caller);
}

}  // namespace slotdiff
