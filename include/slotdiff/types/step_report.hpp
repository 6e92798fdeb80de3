// slotdiff/types/step_report.hpp: what a stop policy sees before each denoising step.
#pragma once

#include <cstddef>
#include <limits>

namespace slotdiff {

/// The state of one sequence, read before its next step, with the model's opinion of that step.
/// Fields that were not measured are NaN (a policy that needs one throws).
struct step_report {
  std::size_t sequence = 0;            ///< index in the batch
  std::size_t steps = 0;               ///< steps applied so far
  std::size_t length = 0;              ///< tokens now
  std::size_t inserted_last = 0;       ///< tokens the last step inserted (0 before the first)
  float best_insertion = 0.0f;         ///< max over slots of the most likely non-none token's probability
  float change_last = std::numeric_limits<float>::quiet_NaN();  ///< semantic change of the last step
  float target_similarity = std::numeric_limits<float>::quiet_NaN();  ///< 1 - distance to a target embedding
};

}  // namespace slotdiff
