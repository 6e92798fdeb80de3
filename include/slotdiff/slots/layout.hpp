// slotdiff/slots/layout.hpp: the slot layouts side_slots and gap_slots.
//
// A slot layout says where one denoising step may insert tokens into a sequence of n tokens. Slots are
// numbered left to right, so inserting the tokens of a batch in slot order yields them in text order.
// Every layout is a stateless policy of constexpr static functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <ranges>
#include <string_view>

#include "slotdiff/config.hpp"

namespace slotdiff {

/// Which neighbour a slot is attached to.
enum class slot_side : std::uint8_t {
  root,     ///< the single slot of an empty sequence
  left,     ///< the slot just left of token `gap` (side_slots)
  right,    ///< the slot just right of token `gap - 1` (side_slots)
  between,  ///< the one slot of a gap (gap_slots)
};

/// Where a slot lies: gap g is the space before token g (gap n is after the last token).
struct slot_place {
  std::size_t gap = 0;
  slot_side side = slot_side::root;
  friend constexpr bool operator==(slot_place, slot_place) = default;
};

/// How many tokens ONE denoising step can insert into each kind of gap. The same numbers bound the
/// runs of a feasible removal set, because noising is the inverse of one denoising step.
struct run_limits {
  std::size_t leading = 1;   ///< before the first token
  std::size_t interior = 1;  ///< between two tokens
  std::size_t trailing = 1;  ///< after the last token
  std::size_t whole = 1;     ///< into an empty sequence (the root slot)
};

/// Every token has a left and a right slot: `_ a _ _ quick _ _ brown _`. Slot 2i is left of token i,
/// slot 2i+1 right of it. An empty sequence has one root slot. One step turns n tokens into up to 3n.
struct side_slots {
  static constexpr std::string_view name = "side_slots";
  static constexpr run_limits limits{.leading = 1, .interior = 2, .trailing = 1, .whole = 1};

  /// Complexity: O(1).
  static constexpr std::size_t slot_count(std::size_t n) noexcept { return n == 0 ? 1 : 2 * n; }

  /// The gap a slot inserts into. Requires: slot < slot_count(n). Complexity: O(1).
  static constexpr std::size_t gap_of(std::size_t slot, std::size_t n) noexcept {
    return n == 0 ? 0 : slot / 2 + slot % 2;
  }

  /// Requires: slot < slot_count(n).
  static constexpr slot_place locate(std::size_t slot, std::size_t n) noexcept {
    if (n == 0) return {0, slot_side::root};
    return {gap_of(slot, n), slot % 2 == 0 ? slot_side::left : slot_side::right};
  }

  /// The slot left (side == left) or right (side == right) of token i.
  static constexpr std::size_t slot_of_token(std::size_t token, slot_side side) noexcept {
    return 2 * token + (side == slot_side::right ? 1 : 0);
  }
};

/// One slot per gap, n + 1 slots (Insertion Transformer style). One step turns n tokens into up to 2n+1.
struct gap_slots {
  static constexpr std::string_view name = "gap_slots";
  static constexpr run_limits limits{.leading = 1, .interior = 1, .trailing = 1, .whole = 1};

  static constexpr std::size_t slot_count(std::size_t n) noexcept { return n + 1; }
  static constexpr std::size_t gap_of(std::size_t slot, std::size_t /*n*/) noexcept { return slot; }
  static constexpr slot_place locate(std::size_t slot, std::size_t n) noexcept {
    return {slot, n == 0 ? slot_side::root : slot_side::between};
  }
};

/// Whether removing the tokens flagged in `removed` (one flag per token of the current sequence) can
/// be undone by one denoising step of `Layout`: every maximal run of removed tokens fits its gap.
/// Complexity: O(n), one pass.
template <class Layout, std::ranges::input_range Mask>
constexpr bool is_feasible_removal(Mask&& removed) {
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
