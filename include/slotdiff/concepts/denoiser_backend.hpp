// slotdiff/concepts/denoiser_backend.hpp: the model, as the denoising loop sees it.
//
// A backend reads a ragged batch of sequences and, for every slot of its layout (sequence by
// sequence, slot by slot), writes either the full log-distribution over the vocabulary or the best
// k (token, log-probability) candidates. One id, none_id(), means "insert nothing". The caller owns
// the buffers; a GPU backend can answer with top-k only, so full logits never leave the device.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/denoise/ragged_batch.hpp"

namespace slotdiff {

/// What every backend declares: its layout, its vocabulary size and its "none" id.
template <class B>
concept backend_description = slot_layout<typename B::layout_type> && requires(const B& b) {
  { b.vocabulary_size() } -> std::convertible_to<std::size_t>;
  { b.none_id() } -> std::same_as<token_id>;
};

/// log_probs(batch, out): out has (total slots) x vocabulary_size() floats, row-major; row r is the
/// log-distribution of slot r (slots of sequence 0 first). Returns the number of rows written.
///
///     struct uniform { using layout_type = gap_slots; std::size_t vocabulary_size() const; token_id none_id() const;
///                      std::size_t log_probs(const ragged_batch&, std::span<float>); };
template <class B>
concept full_distribution_backend =
    backend_description<B> && requires(B& b, const ragged_batch& x, std::span<float> out) {
      { b.log_probs(x, out) } -> std::same_as<std::size_t>;
    };

/// top_k(batch, k, ids, logp): ids and logp have (total slots) x k entries; row r holds slot r's k
/// most likely tokens, best first, with their log-probabilities (under the full distribution).
/// Returns the number of rows written.
template <class B>
concept top_k_backend = backend_description<B> && requires(B& b, const ragged_batch& x, std::size_t k,
                                                            std::span<token_id> ids, std::span<float> logp) {
  { b.top_k(x, k, ids, logp) } -> std::same_as<std::size_t>;
};

/// Any model the denoising loop can drive.
template <class B>
concept denoiser_backend = full_distribution_backend<B> || top_k_backend<B>;

}  // namespace slotdiff
