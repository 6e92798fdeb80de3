// slotdiff/cuda/plan.hpp: what the CUDA reference denoiser sends to the device for one ragged batch,
// built and checked on the host before any kernel runs. Plain C++ (no CUDA headers), so that the
// packing and the checks are tested on machines without a GPU.
//
// A batch of B sequences is packed back to back (no padding between sequences): row r of the
// device's activations is one fed token (an empty sequence is fed as the single token ROOT).
// The device buffers and CUDA graphs are sized by *buckets*: every count is rounded up to one of
// four sizes per power of two (at most 25% above the count, at least 32), so a graph captured for one
// batch replays for every batch of the same bucket; kernels read the true counts from the device and
// leave the rows beyond them as zeros.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/config.hpp"
#include "slotdiff/denoise/ragged_batch.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/slots/layout.hpp"

namespace slotdiff::cuda {

/// Queries per attention tile (one thread block per tile and head: four warps of 16 queries).
inline constexpr std::size_t attention_tile = 64;

/// The smallest bucket at least `n` (and at least 32): 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, ...
/// (four steps per power of two). Complexity: O(1).
constexpr std::size_t bucket(std::size_t n) noexcept {
  n = std::max<std::size_t>(n, 32);
  const std::size_t top = std::bit_floor(n);
  const std::size_t step = top / 4;
  return (n + step - 1) / step * step;
}

/// One attention tile: queries [q0, q0 + attention_tile) ∩ [0, length) of the sequence whose rows
/// start at `start`.
struct attention_tile_desc {
  std::int32_t start, length, q0, pad_ = 0;
};

/// The packed batch. Sizes: ids holds `rows` entries, slot_rows `slots`. A token's position within
/// its sequence (its RoPE angle) is its row minus its tile's start, so no position column is sent.
struct reference_plan {
  std::size_t sequences = 0, rows = 0, slots = 0, longest = 0;
  std::size_t row_bucket = 0, slot_bucket = 0, tile_bucket = 0;
  std::vector<std::int32_t> ids;  ///< fed token per row
  /// For slot s (sequence by sequence, side_layout order): the row of the slot-query matrix that
  /// feeds it, where query row 2r is token r's left head and 2r + 1 its right head.
  std::vector<std::int32_t> slot_rows;
  std::vector<attention_tile_desc> tiles;
  std::vector<std::size_t> slot_offsets;  ///< sequences + 1 entries: where each sequence's slots start
};

/// Checks `batch` and packs it. `max_length` is the longest sequence the device tables hold.
/// Throws: slotdiff::input_error, before anything reaches the device, for bad offsets, a sequence longer
/// than max_length (naming the sequence and both lengths), or an id outside [0, vocabulary) (naming
/// the sequence, the position and the id).
/// Complexity: O(B + total tokens).
inline reference_plan make_reference_plan(const ragged_batch& batch, std::size_t vocabulary, std::size_t max_length,
                                          token_id root_id) {
  batch.validate();
  reference_plan p;
  p.sequences = batch.size();
  p.slot_offsets.assign(1, 0);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const std::size_t n = batch.length(i);
    if (n > max_length)
      throw input_error("CUDA reference denoiser: sequence " + std::to_string(i) + " has " + std::to_string(n) +
                        " tokens, above the supported maximum of " + std::to_string(max_length) +
                        " (cuda::gpu_reference_options::max_sequence_length)");
    const auto s = batch.sequence(i);
    for (std::size_t j = 0; j < n; ++j)
      if (s[j] < 0 || static_cast<std::size_t>(s[j]) >= vocabulary)
        throw input_error("CUDA reference denoiser: sequence " + std::to_string(i) + " position " + std::to_string(j) +
                          " holds id " + std::to_string(s[j]) + ", outside the vocabulary of " + std::to_string(vocabulary));
    p.rows += std::max<std::size_t>(n, 1);
    p.slots += side_layout::slot_count(n);
    p.longest = std::max(p.longest, std::max<std::size_t>(n, 1));
    p.slot_offsets.push_back(p.slots);
  }
  p.ids.reserve(p.rows);
  p.slot_rows.reserve(p.slots);
  std::size_t row = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto s = batch.sequence(i);
    const std::size_t fed = std::max<std::size_t>(s.size(), 1);
    if (s.empty()) {
      p.ids.push_back(root_id);
      p.slot_rows.push_back(static_cast<std::int32_t>(2 * row + 1));  // the root slot reads ROOT's right head
    } else {
      for (std::size_t j = 0; j < s.size(); ++j) {
        p.ids.push_back(s[j]);
        p.slot_rows.push_back(static_cast<std::int32_t>(2 * (row + j)));      // slot 2j: left of token j
        p.slot_rows.push_back(static_cast<std::int32_t>(2 * (row + j) + 1));  // slot 2j + 1: right of it
      }
    }
    for (std::size_t q0 = 0; q0 < fed; q0 += attention_tile)
      p.tiles.push_back({static_cast<std::int32_t>(row), static_cast<std::int32_t>(fed), static_cast<std::int32_t>(q0)});
    row += fed;
  }
  p.row_bucket = bucket(p.rows);
  p.slot_bucket = bucket(p.slots);
  p.tile_bucket = bucket(p.tiles.size());
  return p;
}

}  // namespace slotdiff::cuda
