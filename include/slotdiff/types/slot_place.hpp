// slotdiff/types/slot_place.hpp: what a slot layout answers with: where a slot lies and how many
// tokens one step may put into each kind of gap.
#pragma once

#include <cstddef>
#include <cstdint>

namespace slotdiff {

/// Which neighbour a slot is attached to.
enum class slot_side : std::uint8_t {
  root,     ///< the single slot of an empty sequence
  left,     ///< the slot just left of token `gap` (side_layout)
  right,    ///< the slot just right of token `gap - 1` (side_layout)
  between,  ///< the one slot of a gap (gap_layout)
};

/// Where a slot lies: gap g is the space before token g (gap n is after the last token).
struct slot_place {
  std::size_t gap = 0;               ///< in [0, n] for a sequence of n tokens
  slot_side side = slot_side::root;  ///< which neighbour the slot is attached to
  /// Both fields equal. Complexity: O(1). Throws: nothing.
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

}  // namespace slotdiff
