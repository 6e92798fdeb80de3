// slotdiff/concepts/stop_policy.hpp: when generation is done.
#pragma once

#include <concepts>

#include "slotdiff/stop/step_report.hpp"

namespace slotdiff {

/// A predicate over a step_report: true means "this sequence is done; do not apply another step".
///
///     auto stop = stop::any_of(stop::max_steps{64}, stop::probability_below{0.3f});
///     static_assert(stop_policy<decltype(stop)>);
template <class S>
concept stop_policy = std::copy_constructible<S> && requires(const S& s, const step_report& r) {
  { s(r) } -> std::convertible_to<bool>;
};

}  // namespace slotdiff
