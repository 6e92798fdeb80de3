// slotdiff/denoise/ragged_batch.hpp: many sequences packed back to back, with offsets (no padding).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/config.hpp"
#include "slotdiff/error.hpp"

namespace slotdiff {

/// A borrowed view of a ragged batch: sequence i is tokens[offsets[i], offsets[i + 1]).
struct ragged_batch {
  std::span<const token_id> tokens;
  std::span<const std::size_t> offsets;  ///< size() + 1 entries, offsets[0] == 0, non-decreasing
  /// Optional: the caller's index of each sequence (denoise passes the index in its start batch, so
  /// that a backend keeping per-sequence state can find it as finished sequences leave). Empty: i.
  std::span<const std::size_t> origin = {};

  std::size_t origin_of(std::size_t i) const noexcept { return origin.empty() ? i : origin[i]; }

  std::size_t size() const noexcept { return offsets.empty() ? 0 : offsets.size() - 1; }
  std::span<const token_id> sequence(std::size_t i) const noexcept {
    return tokens.subspan(offsets[i], offsets[i + 1] - offsets[i]);
  }
  std::size_t length(std::size_t i) const noexcept { return offsets[i + 1] - offsets[i]; }

  /// Throws slotdiff::error if the offsets do not describe `tokens`.
  void validate() const {
    if (offsets.empty() || offsets.front() != 0 || offsets.back() != tokens.size()) {
      throw error("slotdiff: ragged batch offsets must start at 0 and end at the token count " +
                  std::to_string(tokens.size()));
    }
    if (!origin.empty() && origin.size() != size()) {
      throw error("slotdiff: ragged batch has " + std::to_string(size()) + " sequences but " +
                  std::to_string(origin.size()) + " origin indices");
    }
    for (std::size_t i = 0; i + 1 < offsets.size(); ++i) {
      if (offsets[i + 1] < offsets[i]) {
        throw error("slotdiff: ragged batch offsets decrease at sequence " + std::to_string(i));
      }
    }
  }
};

/// Where each sequence's slots start in a per-slot output: out[i] = sum over j < i of
/// Layout::slot_count(length j); out has size() + 1 entries. Complexity: O(batch size).
template <class Layout>
void slot_offsets(const ragged_batch& batch, std::vector<std::size_t>& out) {
  out.resize(batch.size() + 1);
  out[0] = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) out[i + 1] = out[i] + Layout::slot_count(batch.length(i));
}

/// An owning ragged batch that is refilled step after step without reallocating.
struct ragged_buffer {
  std::vector<token_id> tokens;
  std::vector<std::size_t> offsets{0};

  void clear() {
    tokens.clear();
    offsets.assign(1, 0);
  }
  /// Appends one sequence; returns where its tokens go (length n).
  std::span<token_id> append(std::size_t n) {
    const std::size_t at = tokens.size();
    tokens.resize(at + n);
    offsets.push_back(at + n);
    return {tokens.data() + at, n};
  }
  ragged_batch view() const noexcept { return {tokens, offsets}; }
};

}  // namespace slotdiff
