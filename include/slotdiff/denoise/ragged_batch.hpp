// slotdiff/denoise/ragged_batch.hpp: the owning ragged buffer and per-slot offsets. The view
// itself, ragged_batch, is a vocabulary type in types/ragged_batch.hpp (included here, so this path
// keeps working for code that includes it for ragged_batch).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "slotdiff/config.hpp"
#include "slotdiff/types/ragged_batch.hpp"

namespace slotdiff {

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
