// slotdiff/concepts/slot_layout.hpp: what a slot layout policy provides.
//
// Depends only on vocabulary types (types/slot_place.hpp). The library's two layouts, side_layout
// and gap_layout, live in slots/layout.hpp.
#pragma once

#include <concepts>
#include <cstddef>
#include <string_view>

#include "slotdiff/types/slot_place.hpp"

namespace slotdiff {

namespace detail::slot_layout_requires {
// One concept per requirement, so that check_slot_layout can name the one a type misses.
template <class L>
concept name = requires {
  { L::name } -> std::convertible_to<std::string_view>;
};
template <class L>
concept limits = requires {
  { L::limits } -> std::convertible_to<run_limits>;
};
template <class L>
concept slot_count = requires(std::size_t n) {
  { L::slot_count(n) } -> std::same_as<std::size_t>;
};
template <class L>
concept gap_of = requires(std::size_t slot, std::size_t n) {
  { L::gap_of(slot, n) } -> std::same_as<std::size_t>;
};
template <class L>
concept locate = requires(std::size_t slot, std::size_t n) {
  { L::locate(slot, n) } -> std::same_as<slot_place>;
};
}  // namespace detail::slot_layout_requires

/// A stateless policy that numbers the slots of a sequence of n tokens.
///
/// Requires: slots are numbered so that gap_of is non-decreasing in the slot index (a batch applied
/// in slot order inserts in text order), and at most `limits.*` slots share one gap.
///
///     static_assert(slot_layout<side_layout>);
///     side_layout::slot_count(3);   // 6: _ a _ _ b _ _ c _
///     side_layout::gap_of(3, 3);    // 2: right of token 1, i.e. before token 2
template <class L>
concept slot_layout = detail::slot_layout_requires::name<L> && detail::slot_layout_requires::limits<L> &&
                      detail::slot_layout_requires::slot_count<L> && detail::slot_layout_requires::gap_of<L> &&
                      detail::slot_layout_requires::locate<L>;

/// The diagnostic twin of slot_layout: true for a slot_layout; for any other type, compilation stops
/// with one message per missing member. The slot sequences call it, so `vector_slots<my_layout>`
/// says what my_layout lacks.
template <class L>
consteval bool check_slot_layout() {
  namespace req = detail::slot_layout_requires;
  static_assert(req::name<L>, "slotdiff: not a slot_layout: L::name is missing (static constexpr std::string_view)");
  static_assert(req::limits<L>, "slotdiff: not a slot_layout: L::limits is missing (static constexpr run_limits)");
  static_assert(req::slot_count<L>,
                "slotdiff: not a slot_layout: static std::size_t L::slot_count(std::size_t n) is missing");
  static_assert(req::gap_of<L>,
                "slotdiff: not a slot_layout: static std::size_t L::gap_of(std::size_t slot, std::size_t n) is missing");
  static_assert(req::locate<L>,
                "slotdiff: not a slot_layout: static slot_place L::locate(std::size_t slot, std::size_t n) is missing");
  return slot_layout<L>;
}

}  // namespace slotdiff
