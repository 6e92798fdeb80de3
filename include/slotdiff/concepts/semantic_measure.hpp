// slotdiff/concepts/semantic_measure.hpp: how the denoising loop measures meaning, for the semantic
// budget and the semantic stop policies. The library's measures (no_semantics, embedding_change)
// live in denoise/semantics.hpp.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>

#include "slotdiff/types/token.hpp"

namespace slotdiff {

namespace detail::semantic_measure_requires {
template <class S>
concept dimension = requires(const S& s) {
  { s.dimension() } -> std::same_as<std::size_t>;
};
template <class S>
concept embed = requires(const S& s, std::span<const token_id> tokens, std::span<float> out) { s.embed(tokens, out); };
template <class S>
concept distance = requires(const S& s, std::span<const float> a, std::span<const float> b) {
  { s.distance(a, b) } -> std::convertible_to<float>;
};
template <class S>
concept target = requires(const S& s) {
  { s.target() } -> std::convertible_to<std::span<const float>>;
};
}  // namespace detail::semantic_measure_requires

/// Measures the meaning of a token sequence as a vector and the change between two such vectors.
/// dimension() == 0 means "not measured" (changes and similarities are then NaN); embed writes
/// dimension() floats; distance compares two such vectors; target() is the embedding that
/// stop::similarity_above compares against (empty: no target).
///
///     struct unmeasured { std::size_t dimension() const { return 0; }
///                         void embed(std::span<const token_id>, std::span<float>) const {}
///                         float distance(std::span<const float>, std::span<const float>) const { return 0; }
///                         std::span<const float> target() const { return {}; } };
template <class S>
concept semantic_measure =
    detail::semantic_measure_requires::dimension<S> && detail::semantic_measure_requires::embed<S> &&
    detail::semantic_measure_requires::distance<S> && detail::semantic_measure_requires::target<S>;

/// The diagnostic twin of semantic_measure: true, or one compile-time message per missing member.
template <class S>
consteval bool check_semantic_measure() {
  namespace req = detail::semantic_measure_requires;
  static_assert(req::dimension<S>, "slotdiff: not a semantic_measure: std::size_t dimension() const is missing");
  static_assert(req::embed<S>,
                "slotdiff: not a semantic_measure: embed(std::span<const token_id>, std::span<float> out) const is missing");
  static_assert(req::distance<S>, "slotdiff: not a semantic_measure: float distance(std::span<const float>, "
                                  "std::span<const float>) const is missing");
  static_assert(req::target<S>,
                "slotdiff: not a semantic_measure: std::span<const float> target() const is missing");
  return semantic_measure<S>;
}

}  // namespace slotdiff
