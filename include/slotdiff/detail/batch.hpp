// slotdiff/detail/batch.hpp: validation of insertion batches and the merge kernels that the slot
// sequences share.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/config.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/slots/insertion.hpp"

namespace slotdiff::detail {

inline std::string describe_sequence(std::string_view layout, std::size_t n, std::size_t slots) {
  return "sequence of length " + std::to_string(n) + " has " + std::to_string(slots) + " slots under " +
         std::string(layout);
}

/// Checks a token id against [0, vocab). Throws slot_error naming `where`.
inline void check_token(token_id t, token_id vocab, const std::string& where) {
  if (t < 0 || t >= vocab) {
    throw slot_error("slotdiff: invalid token id " + std::to_string(t) + " " + where + ": ids must lie in [0, " +
                     std::to_string(vocab) + ")");
  }
}

/// Validates an initial token list (every id in [0, vocab)).
inline void check_tokens(std::span<const token_id> tokens, token_id vocab) {
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    check_token(tokens[i], vocab, "at position " + std::to_string(i) + " of the initial sequence");
  }
}

/// Validates `batch` for a sequence of length n under Layout and returns it sorted by slot: the
/// caller's span itself when it is already strictly increasing, else a sorted copy held in `scratch`.
/// Throws slot_error (and changes nothing but `scratch`) on a slot out of range, two insertions into
/// one slot, or a token outside [0, vocab).
/// Complexity: O(k) for a sorted batch, O(k log k) otherwise.
template <class Layout>
std::span<const insertion> checked_batch(insertion_batch batch, std::size_t n, token_id vocab,
                                         std::vector<insertion>& scratch) {
  const std::size_t slots = Layout::slot_count(n);
  // One branch-free pass decides; the slow pass below only runs to name what is wrong.
  bool valid = true, sorted = true;
  for (const insertion& ins : batch) valid &= (ins.slot < slots) & (ins.token >= 0) & (ins.token < vocab);
  for (std::size_t j = 1; j < batch.size(); ++j) sorted &= batch[j - 1].slot < batch[j].slot;
  if (!valid) {
    for (const insertion& ins : batch) {
      if (ins.slot >= slots) {
        throw slot_error("slotdiff: insertion into slot " + std::to_string(ins.slot) + " is out of range: the " +
                         describe_sequence(Layout::name, n, slots));
      }
      check_token(ins.token, vocab, "for slot " + std::to_string(ins.slot) + " (sequence length " + std::to_string(n) + ")");
    }
  }
  if (sorted) return batch;  // strictly increasing: no slot twice
  scratch.assign(batch.begin(), batch.end());
  std::sort(scratch.begin(), scratch.end(), [](const insertion& a, const insertion& b) { return a.slot < b.slot; });
  const std::span<const insertion> view = scratch;
  for (std::size_t j = 1; j < view.size(); ++j) {
    if (view[j - 1].slot == view[j].slot) {
      throw slot_error("slotdiff: two insertions into slot " + std::to_string(view[j].slot) + " (tokens " +
                       std::to_string(view[j - 1].token) + " and " + std::to_string(view[j].token) +
                       ") in one step of a sequence of length " + std::to_string(n));
    }
  }
  return view;
}

/// Moves `count` elements from `from` to `to` (overlap allowed). Short runs, the common case when
/// insertions are dense, skip the call into memmove.
template <class T>
inline void move_cells(T* to, const T* from, std::size_t count) noexcept {
  if (count <= 4) {
    if (to < from) {
      for (std::size_t i = 0; i < count; ++i) to[i] = from[i];
    } else {
      for (std::size_t i = count; i-- > 0;) to[i] = from[i];
    }
    return;
  }
  std::memmove(to, from, count * sizeof(T));
}

/// Parallel token and birth columns.
struct columns {
  token_id* tokens;
  step_index* births;
};

/// In-place merge growing to the right. Columns hold `n` live cells at [0, n) and room up to n + k.
/// Insertion j goes before the cell `gap(j)` (gap n: at the end). Cells before the first gap stay put.
/// Requires: gaps non-decreasing. Complexity: O(n - gap(0) + k).
template <class GapOf>
inline void merge_backward(columns c, std::size_t n, std::span<const insertion> sorted, GapOf gap,
                           step_index born) noexcept {
  constexpr std::size_t wide = 8;  // one 32-byte copy per column
  std::size_t r = n, w = n + sorted.size();
  for (std::size_t j = sorted.size(); j-- > 0;) {
    const std::size_t g = gap(sorted[j]);
    const std::size_t cnt = r - g;
    if (cnt <= wide && w - r >= wide && r >= wide) {
      // Dense batches move short runs: copy a fixed 8 cells ending at r. Source and target do not
      // overlap (the shift w - r is at least 8); the cells written below the run's target are
      // rewritten later by this loop (the new token and the runs to the left).
      std::memcpy(c.tokens + w - wide, c.tokens + r - wide, wide * sizeof(token_id));
      std::memcpy(c.births + w - wide, c.births + r - wide, wide * sizeof(step_index));
      w -= cnt;
      r = g;
    } else {
      w -= cnt;
      r = g;
      move_cells(c.tokens + w, c.tokens + r, cnt);
      move_cells(c.births + w, c.births + r, cnt);
    }
    --w;
    c.tokens[w] = sorted[j].token;
    c.births[w] = born;
  }
}

/// In-place merge growing to the left. Columns hold live cells at [k, k + m) and free cells at
/// [0, k); insertion j goes before live cell gap(j) (counted from the first live cell). Cells after
/// the last gap stay put. Complexity: O(gap(k-1) + k).
template <class GapOf>
inline void merge_forward(columns c, std::span<const insertion> sorted, GapOf gap, step_index born) noexcept {
  const std::size_t k = sorted.size();
  std::size_t r = k, w = 0;
  for (std::size_t j = 0; j < k; ++j) {
    const std::size_t g = gap(sorted[j]) + k;
    const std::size_t cnt = g - r;
    move_cells(c.tokens + w, c.tokens + r, cnt);
    move_cells(c.births + w, c.births + r, cnt);
    w += cnt;
    r = g;
    c.tokens[w] = sorted[j].token;
    c.births[w] = born;
    ++w;
  }
}

}  // namespace slotdiff::detail
