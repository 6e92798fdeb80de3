// slotdiff/detail/batch.hpp: validation of insertion batches and the merge kernels that the slot
// sequences share.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/config.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/slots/insertion.hpp"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define SLOTDIFF_HAS_AVX2_KERNELS 1
#include <immintrin.h>
// Functions marked SLOTDIFF_TARGET_AVX2 are compiled for AVX2 whatever the build's -march; call them
// only where cpu_has_avx2().
#define SLOTDIFF_TARGET_AVX2 __attribute__((target("avx2,popcnt")))
#else
#define SLOTDIFF_HAS_AVX2_KERNELS 0
#endif

namespace slotdiff::detail {

/// Whether the running CPU can run the SLOTDIFF_TARGET_AVX2 kernels: asked of the CPU once (cached),
/// never read from this unit's -m flags, so every translation unit gets the same answer (a unit built
/// with -mavx2 must not send a CPU without AVX2 into these kernels).
inline bool cpu_has_avx2() noexcept {
#if SLOTDIFF_HAS_AVX2_KERNELS
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
  }();
  return has;
#else
  return false;
#endif
}

inline std::string describe_sequence(std::string_view layout, std::size_t n, std::size_t slots) {
  return "sequence of length " + std::to_string(n) + " has " + std::to_string(slots) + " slots under " +
         std::string(layout);
}

/// Checks a token id against [0, vocab). Throws slot_error "WHERE: ids must lie in [0, vocab), got
/// invalid token id T WHAT", e.g. WHAT = "for slot 4 (sequence length 3)".
inline void check_token(token_id t, token_id vocab, std::string_view where, const std::string& what) {
  if (t < 0 || t >= vocab) {
    throw slot_error(std::string(where) + ": ids must lie in [0, " + std::to_string(vocab) + "), got invalid token id " +
                     std::to_string(t) + " " + what);
  }
}

/// Validates an initial token list (every id in [0, vocab)). Throws slot_error naming the first bad
/// id and its position.
inline void check_tokens(std::span<const token_id> tokens, token_id vocab) {
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    check_token(tokens[i], vocab, "slot sequence", "at position " + std::to_string(i) + " of the initial sequence");
  }
}

/// What one pass over a batch finds: every slot below `slots` and every token in [0, vocab)
/// (valid), and slots strictly increasing (sorted).
struct batch_scan {
  bool valid = true;
  bool sorted = true;
};

/// The serial twin of scan_batch_avx2. Complexity: O(k), branch-free.
inline batch_scan scan_batch_serial(std::span<const insertion> batch, std::size_t slots, token_id vocab) noexcept {
  bool valid = true, sorted = true;
  for (const insertion& ins : batch) valid &= (ins.slot < slots) & (ins.token >= 0) & (ins.token < vocab);
  for (std::size_t j = 1; j < batch.size(); ++j) sorted &= batch[j - 1].slot < batch[j].slot;
  return {valid, sorted};
}

#if SLOTDIFF_HAS_AVX2_KERNELS
/// Insertions j..j+3 in 64-bit lanes j, j+2 | j+1, j+3: their slots, their token qwords (the token in
/// the low half), and the slots of the insertions just before them. Requires: at[-1] readable.
struct four_insertions {
  __m256i slot, token, prev;
};
SLOTDIFF_TARGET_AVX2 inline four_insertions load_four_avx2(const insertion* at) noexcept {
  static_assert(sizeof(insertion) == 16 && offsetof(insertion, slot) == 0 && offsetof(insertion, token) == 8);
  using pair = const __m256i*;  // one 32-byte load reads two insertions
  const __m256i a = _mm256_loadu_si256(pair(at)), b = _mm256_loadu_si256(pair(at + 2));
  return {_mm256_unpacklo_epi64(a, b), _mm256_unpackhi_epi64(a, b),
          _mm256_unpacklo_epi64(_mm256_loadu_si256(pair(at - 1)), _mm256_loadu_si256(pair(at + 1)))};
}

/// scan_batch_serial, 4 insertions per step (GCC does not vectorise the serial loops over the
/// 16-byte insertion records). Requires: cpu_has_avx2().
SLOTDIFF_TARGET_AVX2 inline batch_scan scan_batch_avx2(std::span<const insertion> batch, std::size_t slots,
                                                      token_id vocab) noexcept {
  const std::size_t k = batch.size();
  if (k < 9 || vocab <= 0) return scan_batch_serial(batch, slots, vocab);
  // Unsigned comparisons as signed ones on values with the sign bit flipped.
  const __m256i flip64 = _mm256_set1_epi64x(static_cast<long long>(std::uint64_t{1} << 63));
  const __m256i max_slot = _mm256_set1_epi64x(static_cast<long long>((slots - 1) ^ (std::uint64_t{1} << 63)));
  const __m256i flip32 = _mm256_set1_epi32(static_cast<int>(0x80000000u));
  const __m256i max_token =
      _mm256_set1_epi32(static_cast<int>((static_cast<std::uint32_t>(vocab) - 1u) ^ 0x80000000u));
  __m256i bad_slot = _mm256_setzero_si256(), bad_token = _mm256_setzero_si256();
  __m256i rising = _mm256_set1_epi32(-1);
  std::size_t j = 1;
  for (; j + 4 <= k; j += 4) {
    const auto [slot, token, prev] = load_four_avx2(batch.data() + j);
    bad_slot = _mm256_or_si256(bad_slot, _mm256_cmpgt_epi64(_mm256_xor_si256(slot, flip64), max_slot));
    bad_token = _mm256_or_si256(bad_token, _mm256_cmpgt_epi32(_mm256_xor_si256(token, flip32), max_token));
    rising = _mm256_and_si256(rising, _mm256_cmpgt_epi64(slot, prev));  // slots below 2^63 here if valid
  }
  const __m256i token_lanes = _mm256_set1_epi64x(0xffffffffLL);  // not the padding after each token
  batch_scan scan;
  scan.valid = _mm256_testz_si256(bad_slot, bad_slot) && _mm256_testz_si256(bad_token, token_lanes);
  scan.sorted = _mm256_movemask_epi8(rising) == -1;
  const insertion& first = batch[0];
  // Branch-free on purpose: the comparisons as 0/1 integers (`&` on bools reads as a typo to clang).
  const auto ok = [&](const insertion& e) noexcept {
    return static_cast<bool>(unsigned{e.slot < slots} & unsigned{e.token >= 0} & unsigned{e.token < vocab});
  };
  scan.valid &= ok(first);
  for (; j < k; ++j) {
    scan.valid &= ok(batch[j]);
    scan.sorted &= batch[j - 1].slot < batch[j].slot;
  }
  return scan;
}
#endif

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
#if SLOTDIFF_HAS_AVX2_KERNELS
  const batch_scan scan = cpu_has_avx2() ? scan_batch_avx2(batch, slots, vocab) : scan_batch_serial(batch, slots, vocab);
#else
  const batch_scan scan = scan_batch_serial(batch, slots, vocab);
#endif
  const bool valid = scan.valid, sorted = scan.sorted;
  if (!valid) {
    for (const insertion& ins : batch) {
      if (ins.slot >= slots) {
        throw slot_error("slot sequence apply: insertion into slot " + std::to_string(ins.slot) +
                         " is out of range: the " + describe_sequence(Layout::name, n, slots));
      }
      check_token(ins.token, vocab, "slot sequence apply",
                  "for slot " + std::to_string(ins.slot) + " (sequence length " + std::to_string(n) + ")");
    }
  }
  if (sorted) return batch;  // strictly increasing: no slot twice
  scratch.assign(batch.begin(), batch.end());
  std::sort(scratch.begin(), scratch.end(), [](const insertion& a, const insertion& b) { return a.slot < b.slot; });
  const std::span<const insertion> view = scratch;
  for (std::size_t j = 1; j < view.size(); ++j) {
    if (view[j - 1].slot == view[j].slot) {
      throw slot_error("slot sequence apply: at most one insertion per slot, got two insertions into slot " +
                       std::to_string(view[j].slot) + " (tokens " + std::to_string(view[j - 1].token) + " and " +
                       std::to_string(view[j].token) + ") in one step of a sequence of length " + std::to_string(n));
    }
  }
  return view;
}

/// Moves `count` elements from `from` to `to` (overlap allowed). Short runs, the common case when
/// insertions are dense, skip the call into memmove. Always inlined (a call would cost more than a
/// short run): the merges and gap_buffer_slots call it once or twice per insertion, and GCC's
/// inliner, near its budget in a unit that includes the whole library, once left it out of line in
/// devector_slots::apply (bench_slots: dense steps 15-30% slower).
template <class T>
[[gnu::always_inline]] inline void move_cells(T* to, const T* from, std::size_t count) noexcept {
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
