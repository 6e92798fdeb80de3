// slotdiff/concepts/replayable_trajectory.hpp: a noising trajectory that can be read back step by
// step (what the oracle backend replays and what the n-gram model trains on).
#pragma once

#include <concepts>
#include <cstddef>
#include <ranges>

namespace slotdiff {

namespace detail::replayable_trajectory_requires {
template <class T>
concept steps = requires(const T& tr) {
  { tr.steps() } -> std::convertible_to<std::size_t>;
};
template <class T>
concept state = requires(const T& tr, std::size_t t) {
  { tr.state(t) } -> std::ranges::input_range;
};
template <class T>
concept targets = requires(const T& tr, std::size_t t) {
  { tr.targets(t) } -> std::ranges::input_range;
};
}  // namespace detail::replayable_trajectory_requires

/// Anything that lists the states x_0 .. x_T of a noising trajectory and, for each t < T, the
/// per-slot targets that rebuild x_t from x_{t+1} (slotdiff::trajectory is one): steps() is T,
/// state(t) the token ids of x_t, targets(t) one id per slot of x_{t+1} (a token or the none id).
template <class T>
concept replayable_trajectory = detail::replayable_trajectory_requires::steps<T> &&
                                detail::replayable_trajectory_requires::state<T> &&
                                detail::replayable_trajectory_requires::targets<T>;

/// The diagnostic twin of replayable_trajectory: true, or one compile-time message per missing member.
template <class T>
consteval bool check_replayable_trajectory() {
  namespace req = detail::replayable_trajectory_requires;
  static_assert(req::steps<T>, "slotdiff: not a replayable_trajectory: std::size_t steps() const is missing");
  static_assert(req::state<T>,
                "slotdiff: not a replayable_trajectory: state(std::size_t t) const returning a range of token ids is "
                "missing");
  static_assert(req::targets<T>,
                "slotdiff: not a replayable_trajectory: targets(std::size_t t) const returning a range of ids is "
                "missing");
  return replayable_trajectory<T>;
}

}  // namespace slotdiff
