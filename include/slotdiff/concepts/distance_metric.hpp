// slotdiff/concepts/distance_metric.hpp: distances between two vectors or two distributions.
#pragma once

#include <concepts>
#include <span>

namespace slotdiff {

/// A callable that measures how far apart two equally long float ranges are: two embeddings, or two
/// probability distributions. Throws slotdiff::error on inputs it cannot measure (mismatched lengths,
/// NaN, ...), never returns garbage.
///
///     struct l1 { float operator()(std::span<const float> a, std::span<const float> b) const; };
///     static_assert(distance_metric<l1>);
template <class M>
concept distance_metric = requires(const M& m, std::span<const float> a, std::span<const float> b) {
  { m(a, b) } -> std::convertible_to<float>;
};

/// The diagnostic twin of distance_metric: true, or a compile-time message naming what is missing.
template <class M>
consteval bool check_distance_metric() {
  static_assert(distance_metric<M>, "slotdiff: not a distance_metric: float operator()(std::span<const float>, "
                                    "std::span<const float>) const is missing");
  return distance_metric<M>;
}

}  // namespace slotdiff
