// slotdiff/types/ragged_batch.hpp: many sequences packed back to back, with offsets (no padding).
//
// The view a denoiser backend reads. The owning buffer that refills it step after step
// (ragged_buffer) and the per-slot offsets (slot_offsets) live in denoise/ragged_batch.hpp.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "slotdiff/error.hpp"
#include "slotdiff/types/token.hpp"

namespace slotdiff {

/// A borrowed view of a ragged batch: sequence i is tokens[offsets[i], offsets[i + 1]).
struct ragged_batch {
  std::span<const token_id> tokens;      ///< every sequence's ids, back to back, offsets.back() of them
  std::span<const std::size_t> offsets;  ///< size() + 1 entries, offsets[0] == 0, non-decreasing
  /// Optional: the caller's index of each sequence (denoise passes the index in its start batch, so
  /// that a backend keeping per-sequence state can find it as finished sequences leave). Empty: i.
  std::span<const std::size_t> origin = {};

  /// The caller's index of sequence i: origin[i], or i when origin is empty. Requires: i < size().
  /// Complexity: O(1). Throws: nothing.
  std::size_t origin_of(std::size_t i) const noexcept { return origin.empty() ? i : origin[i]; }

  /// Sequences: offsets.size() - 1 (0 for no offsets). Complexity: O(1). Throws: nothing.
  std::size_t size() const noexcept { return offsets.empty() ? 0 : offsets.size() - 1; }
  /// Sequence i, length(i) ids, a view into `tokens`. Requires: i < size(), offsets valid.
  /// Complexity: O(1). Throws: nothing.
  std::span<const token_id> sequence(std::size_t i) const noexcept {
    return tokens.subspan(offsets[i], offsets[i + 1] - offsets[i]);
  }
  /// Tokens of sequence i. Requires: i < size(). Complexity: O(1). Throws: nothing.
  std::size_t length(std::size_t i) const noexcept { return offsets[i + 1] - offsets[i]; }

  /// Throws input_error if the offsets do not describe `tokens` (or origin has the wrong length).
  void validate() const {
    if (offsets.empty() || offsets.front() != 0 || offsets.back() != tokens.size()) {
      throw input_error("ragged_batch: offsets must start at 0 and end at the token count " + std::to_string(tokens.size()) +
                        ", got " + (offsets.empty() ? std::string("none") :
                                    std::to_string(offsets.front()) + " .. " + std::to_string(offsets.back())));
    }
    if (!origin.empty() && origin.size() != size()) {
      throw input_error("ragged_batch: origin must hold one index per sequence (" + std::to_string(size()) + "), got " +
                        std::to_string(origin.size()));
    }
    for (std::size_t i = 0; i + 1 < offsets.size(); ++i) {
      if (offsets[i + 1] < offsets[i]) {
        throw input_error("ragged_batch: offsets must not decrease, got " + std::to_string(offsets[i]) + " then " +
                          std::to_string(offsets[i + 1]) + " at sequence " + std::to_string(i));
      }
    }
  }
};

}  // namespace slotdiff
