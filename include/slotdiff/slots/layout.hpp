// slotdiff/slots/layout.hpp: the slot layouts side_layout and gap_layout.
//
// A slot layout says where one denoising step may insert tokens into a sequence of n tokens. Slots are
// numbered left to right, so inserting the tokens of a batch in slot order yields them in text order.
// Every layout is a stateless policy of constexpr static functions (the concept is slot_layout, in
// concepts/slot_layout.hpp; the vocabulary it answers in, slot_place and run_limits, in
// types/slot_place.hpp, included here for code that includes this header for them).
//
// Names: the layouts were called side_slots and gap_slots, which read like containers next to
// vector_slots. Those names stay as [[deprecated]] aliases for one release; `name` (what file formats
// record) keeps its old value, so files written before the rename still load.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <ranges>
#include <string_view>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/types/slot_place.hpp"

namespace slotdiff {

/// Every token has a left and a right slot: `_ a _ _ quick _ _ brown _`. Slot 2i is left of token i,
/// slot 2i+1 right of it. An empty sequence has one root slot. One step turns n tokens into up to 3n.
struct side_layout {
  /// The name file formats record (JSONL, .npy metadata, model files); unchanged by the rename.
  static constexpr std::string_view name = "side_slots";
  /// Tokens one step may insert per gap: 1 before the first token, 2 between two tokens (the right
  /// slot of one and the left slot of the next), 1 after the last, 1 into an empty sequence.
  static constexpr run_limits limits{.leading = 1, .interior = 2, .trailing = 1, .whole = 1};

  /// Slots of a sequence of n tokens: 2n, or 1 (the root slot) when n == 0. Complexity: O(1).
  /// Throws: nothing.
  static constexpr std::size_t slot_count(std::size_t n) noexcept { return n == 0 ? 1 : 2 * n; }

  /// The gap slot `slot` inserts into, in [0, n] (gap g: before token g). Requires: slot <
  /// slot_count(n). Complexity: O(1). Throws: nothing.
  static constexpr std::size_t gap_of(std::size_t slot, std::size_t n) noexcept {
    return n == 0 ? 0 : slot / 2 + slot % 2;
  }

  /// Where slot `slot` lies: its gap, and left (even slots) or right (odd slots) of a token, or root
  /// when n == 0. Requires: slot < slot_count(n). Complexity: O(1). Throws: nothing.
  static constexpr slot_place locate(std::size_t slot, std::size_t n) noexcept {
    if (n == 0) return {0, slot_side::root};
    return {gap_of(slot, n), slot % 2 == 0 ? slot_side::left : slot_side::right};
  }

  /// The slot left (side == left) or right (side == right) of token `token`: 2 * token or
  /// 2 * token + 1. Requires: token < n, side is left or right. Complexity: O(1). Throws: nothing.
  static constexpr std::size_t slot_of_token(std::size_t token, slot_side side) noexcept {
    return 2 * token + (side == slot_side::right ? 1 : 0);
  }
};

/// One slot per gap, n + 1 slots (Insertion Transformer style). One step turns n tokens into up to 2n+1.
struct gap_layout {
  /// The name file formats record; unchanged by the rename.
  static constexpr std::string_view name = "gap_slots";
  /// One token per gap and step, wherever the gap is.
  static constexpr run_limits limits{.leading = 1, .interior = 1, .trailing = 1, .whole = 1};

  /// Slots of a sequence of n tokens: n + 1. Complexity: O(1). Throws: nothing.
  static constexpr std::size_t slot_count(std::size_t n) noexcept { return n + 1; }
  /// Slot s inserts into gap s. Requires: slot < slot_count(n). Complexity: O(1). Throws: nothing.
  static constexpr std::size_t gap_of(std::size_t slot, std::size_t /*n*/) noexcept { return slot; }
  /// Where slot `slot` lies: gap `slot`, between (root when n == 0). Requires: slot <
  /// slot_count(n). Complexity: O(1). Throws: nothing.
  static constexpr slot_place locate(std::size_t slot, std::size_t n) noexcept {
    return {slot, n == 0 ? slot_side::root : slot_side::between};
  }
};

static_assert(check_slot_layout<side_layout>() && check_slot_layout<gap_layout>());

/// The layouts' names before the rename, deprecated for one release and then removed: code that
/// still spells them compiles, with a warning that names the new one. The strings "side_slots" and
/// "gap_slots" are not deprecated: they are the layouts' `name`, which files record.
using side_slots [[deprecated("use side_layout")]] = side_layout;
using gap_slots [[deprecated("use gap_layout")]] = gap_layout;

/// Whether removing the tokens flagged in `removed` (one flag per token of the current sequence) can
/// be undone by one denoising step of `Layout`: every maximal run of removed tokens fits its gap.
/// Complexity: O(n), one pass.
/// Requires: Layout is a slot_layout (diagnosed by check_slot_layout); `removed` is an input range of
/// values convertible to bool. Throws nothing.
template <class Layout, std::ranges::input_range Mask>
constexpr bool is_feasible_removal(Mask&& removed) {
  static_assert(check_slot_layout<Layout>());
  constexpr run_limits lim = Layout::limits;
  std::size_t run = 0;
  bool seen_kept = false;
  for (auto&& flag : removed) {
    if (static_cast<bool>(flag)) {
      ++run;
      continue;
    }
    if (run > (seen_kept ? lim.interior : lim.leading)) return false;
    seen_kept = true;
    run = 0;
  }
  return run <= (seen_kept ? lim.trailing : lim.whole);
}

}  // namespace slotdiff
