// slotdiff/concepts/embedder.hpp: token sequences to vectors.
//
// Three layers: an embedder maps a sequence to one sentence vector; a token_embedder also gives one
// vector per token; a leave_one_out_embedder gives, for every i, the sentence vector without token i,
// in O(n d) for all i together (what the embedding-shift importance scorer needs).
#pragma once

#include <concepts>
#include <cstddef>
#include <span>

#include "slotdiff/types/token.hpp"

namespace slotdiff {

namespace detail::embedder_requires {
template <class E>
concept dimension = requires(const E& e) {
  { e.dimension() } -> std::same_as<std::size_t>;
};
template <class E>
concept embed = requires(const E& e, std::span<const token_id> tokens, std::span<float> out) { e.embed(tokens, out); };
template <class E>
concept embed_tokens = requires(const E& e, std::span<const token_id> tokens, std::span<float> out) {
  e.embed_tokens(tokens, out);
};
template <class E>
concept embed_leave_one_out = requires(const E& e, std::span<const token_id> tokens, std::span<float> out) {
  e.embed_leave_one_out(tokens, out);
};
}  // namespace detail::embedder_requires

/// out.size() == dimension(). Throws slotdiff::error on ids it does not know (or maps them to a
/// documented vector).
template <class E>
concept embedder = detail::embedder_requires::dimension<E> && detail::embedder_requires::embed<E>;

/// out.size() == tokens.size() * dimension(), row-major: row i is token i's vector.
template <class E>
concept token_embedder = embedder<E> && detail::embedder_requires::embed_tokens<E>;

/// out.size() == tokens.size() * dimension(), row-major: row i is the sentence vector of `tokens`
/// without token i. Complexity: O(n d) for the whole call.
template <class E>
concept leave_one_out_embedder = embedder<E> && detail::embedder_requires::embed_leave_one_out<E>;

/// The diagnostic twin of embedder: true, or one compile-time message per missing member.
template <class E>
consteval bool check_embedder() {
  namespace req = detail::embedder_requires;
  static_assert(req::dimension<E>, "slotdiff: not an embedder: std::size_t dimension() const is missing");
  static_assert(req::embed<E>,
                "slotdiff: not an embedder: embed(std::span<const token_id>, std::span<float> out) const is missing");
  return embedder<E>;
}

/// The diagnostic twin of token_embedder.
template <class E>
consteval bool check_token_embedder() {
  static_assert(check_embedder<E>(), "slotdiff: not a token_embedder: not an embedder (see the message above)");
  static_assert(detail::embedder_requires::embed_tokens<E>,
                "slotdiff: not a token_embedder: embed_tokens(std::span<const token_id>, std::span<float> out) const "
                "is missing");
  return token_embedder<E>;
}

/// The diagnostic twin of leave_one_out_embedder.
template <class E>
consteval bool check_leave_one_out_embedder() {
  static_assert(check_embedder<E>(), "slotdiff: not a leave_one_out_embedder: not an embedder (see the message above)");
  static_assert(detail::embedder_requires::embed_leave_one_out<E>,
                "slotdiff: not a leave_one_out_embedder: embed_leave_one_out(std::span<const token_id>, "
                "std::span<float> out) const is missing");
  return leave_one_out_embedder<E>;
}

}  // namespace slotdiff
