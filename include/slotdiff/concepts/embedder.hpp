// slotdiff/concepts/embedder.hpp: token sequences to vectors.
//
// Three layers: an embedder maps a sequence to one sentence vector; a token_embedder also gives one
// vector per token; a leave_one_out_embedder gives, for every i, the sentence vector without token i,
// in O(n d) for all i together (what the embedding-shift importance scorer needs).
#pragma once

#include <concepts>
#include <cstddef>
#include <span>

#include "slotdiff/config.hpp"

namespace slotdiff {

/// out.size() == dimension(). Throws slotdiff::error on ids it does not know (or maps them to a
/// documented vector).
template <class E>
concept embedder = requires(const E& e, std::span<const token_id> tokens, std::span<float> out) {
  { e.dimension() } -> std::same_as<std::size_t>;
  e.embed(tokens, out);
};

/// out.size() == tokens.size() * dimension(), row-major: row i is token i's vector.
template <class E>
concept token_embedder = embedder<E> && requires(const E& e, std::span<const token_id> tokens, std::span<float> out) {
  e.embed_tokens(tokens, out);
};

/// out.size() == tokens.size() * dimension(), row-major: row i is the sentence vector of `tokens`
/// without token i. Complexity: O(n d) for the whole call.
template <class E>
concept leave_one_out_embedder =
    embedder<E> && requires(const E& e, std::span<const token_id> tokens, std::span<float> out) {
      e.embed_leave_one_out(tokens, out);
    };

}  // namespace slotdiff
