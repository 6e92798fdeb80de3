// slotdiff/types/insertion.hpp: one insertion of a denoising step, and one step's batch of them.
#pragma once

#include <cstddef>
#include <span>

#include "slotdiff/types/token.hpp"

namespace slotdiff {

/// Insert `token` into `slot`. Slot indices refer to the sequence as it was BEFORE the step.
struct insertion {
  std::size_t slot = 0;
  token_id token = 0;
  friend constexpr bool operator==(const insertion&, const insertion&) = default;
};

/// One step's insertions: at most one per slot, in any order.
using insertion_batch = std::span<const insertion>;

}  // namespace slotdiff
