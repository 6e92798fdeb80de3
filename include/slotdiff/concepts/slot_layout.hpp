// slotdiff/concepts/slot_layout.hpp: what a slot layout policy provides.
#pragma once

#include <concepts>
#include <cstddef>
#include <string_view>

#include "slotdiff/slots/layout.hpp"

namespace slotdiff {

/// A stateless policy that numbers the slots of a sequence of n tokens.
///
/// Requires: slots are numbered so that gap_of is non-decreasing in the slot index (a batch applied
/// in slot order inserts in text order), and at most `limits.*` slots share one gap.
///
///     static_assert(slot_layout<side_slots>);
///     side_slots::slot_count(3);   // 6: _ a _ _ b _ _ c _
///     side_slots::gap_of(3, 3);    // 2: right of token 1, i.e. before token 2
template <class L>
concept slot_layout = requires(std::size_t slot, std::size_t n) {
  { L::name } -> std::convertible_to<std::string_view>;
  { L::limits } -> std::convertible_to<run_limits>;
  { L::slot_count(n) } -> std::same_as<std::size_t>;
  { L::gap_of(slot, n) } -> std::same_as<std::size_t>;
  { L::locate(slot, n) } -> std::same_as<slot_place>;
};

}  // namespace slotdiff
