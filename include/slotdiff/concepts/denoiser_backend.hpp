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
#include "slotdiff/types/ragged_batch.hpp"
#include "slotdiff/types/token.hpp"

namespace slotdiff {

namespace detail::denoiser_backend_requires {
template <class B>
concept layout_type = requires { typename B::layout_type; } && slot_layout<typename B::layout_type>;
template <class B>
concept vocabulary_size = requires(const B& b) {
  { b.vocabulary_size() } -> std::convertible_to<std::size_t>;
};
template <class B>
concept none_id = requires(const B& b) {
  { b.none_id() } -> std::same_as<token_id>;
};
template <class B>
concept log_probs = requires(B& b, const ragged_batch& x, std::span<float> out) {
  { b.log_probs(x, out) } -> std::same_as<std::size_t>;
};
template <class B>
concept top_k = requires(B& b, const ragged_batch& x, std::size_t k, std::span<token_id> ids, std::span<float> logp) {
  { b.top_k(x, k, ids, logp) } -> std::same_as<std::size_t>;
};
}  // namespace detail::denoiser_backend_requires

/// What every backend declares: its layout, its vocabulary size and its "none" id.
template <class B>
concept backend_description = detail::denoiser_backend_requires::layout_type<B> &&
                              detail::denoiser_backend_requires::vocabulary_size<B> &&
                              detail::denoiser_backend_requires::none_id<B>;

/// log_probs(batch, out): out has (total slots) x vocabulary_size() floats, row-major; row r is the
/// log-distribution of slot r (slots of sequence 0 first). Returns the number of rows written.
///
///     struct uniform { using layout_type = gap_layout; std::size_t vocabulary_size() const; token_id none_id() const;
///                      std::size_t log_probs(const ragged_batch&, std::span<float>); };
template <class B>
concept full_distribution_backend = backend_description<B> && detail::denoiser_backend_requires::log_probs<B>;

/// top_k(batch, k, ids, logp): ids and logp have (total slots) x k entries; row r holds slot r's k
/// most likely tokens, best first, with their log-probabilities (under the full distribution).
/// Returns the number of rows written.
template <class B>
concept top_k_backend = backend_description<B> && detail::denoiser_backend_requires::top_k<B>;

/// Any model the denoising loop can drive.
template <class B>
concept denoiser_backend = full_distribution_backend<B> || top_k_backend<B>;

/// The diagnostic twin of denoiser_backend: true, or one compile-time message per missing member.
template <class B>
consteval bool check_denoiser_backend() {
  namespace req = detail::denoiser_backend_requires;
  static_assert(req::layout_type<B>,
                "slotdiff: not a denoiser_backend: B::layout_type is missing or not a slot_layout (see check_slot_layout)");
  static_assert(req::vocabulary_size<B>,
                "slotdiff: not a denoiser_backend: std::size_t vocabulary_size() const is missing");
  static_assert(req::none_id<B>, "slotdiff: not a denoiser_backend: token_id none_id() const is missing");
  static_assert(req::log_probs<B> || req::top_k<B>,
                "slotdiff: not a denoiser_backend: needs std::size_t log_probs(const ragged_batch&, std::span<float>) "
                "or std::size_t top_k(const ragged_batch&, std::size_t k, std::span<token_id>, std::span<float>)");
  return denoiser_backend<B>;
}

}  // namespace slotdiff
