// slotdiff/concepts/stop_policy.hpp: when generation is done.
#pragma once

#include <concepts>

#include "slotdiff/types/step_report.hpp"

namespace slotdiff {

namespace detail::stop_policy_requires {
template <class S>
concept copyable = std::copy_constructible<S>;
template <class S>
concept call = requires(const S& s, const step_report& r) {
  { s(r) } -> std::convertible_to<bool>;
};
}  // namespace detail::stop_policy_requires

/// A predicate over a step_report: true means "this sequence is done; do not apply another step".
///
///     auto stop = stop::any_of(stop::max_steps{64}, stop::probability_below{0.3f});
///     static_assert(stop_policy<decltype(stop)>);
template <class S>
concept stop_policy = detail::stop_policy_requires::copyable<S> && detail::stop_policy_requires::call<S>;

/// The diagnostic twin of stop_policy: true, or one compile-time message per missing member.
template <class S>
consteval bool check_stop_policy() {
  namespace req = detail::stop_policy_requires;
  static_assert(req::copyable<S>, "slotdiff: not a stop_policy: S must be copy-constructible (policies are stored by value)");
  static_assert(req::call<S>, "slotdiff: not a stop_policy: bool operator()(const step_report&) const is missing");
  return stop_policy<S>;
}

}  // namespace slotdiff
