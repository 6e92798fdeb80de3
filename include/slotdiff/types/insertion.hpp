// slotdiff/types/insertion.hpp: one insertion of a denoising step, and one step's batch of them.
#pragma once

#include <cstddef>
#include <span>

#include "slotdiff/types/token.hpp"

namespace slotdiff {

/// Insert `token` into `slot`. Slot indices refer to the sequence as it was BEFORE the step.
/// 16 bytes (the AVX2 batch check reads it as two 8-byte lanes).
struct insertion {
  std::size_t slot = 0;  ///< in [0, Layout::slot_count(n)) for a sequence of n tokens
  token_id token = 0;    ///< in [0, vocabulary) of the sequence it goes into
  /// Both fields equal. Complexity: O(1). Throws: nothing.
  friend constexpr bool operator==(const insertion&, const insertion&) = default;
};

/// One step's insertions, borrowed: at most one per slot, in any order (a slot sequence checks
/// both and sorts an unsorted batch itself).
using insertion_batch = std::span<const insertion>;

}  // namespace slotdiff
