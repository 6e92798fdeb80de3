// slotdiff/detail/expand.hpp: the vectorised in-place merge for dense sorted batches (an "expand":
// old cells spread right to make room for the new ones, 8 output cells per step).
//
// Contract as merge_backward (batch.hpp): columns hold n live cells at [0, n) and room up to n + k;
// insertion j lands at output cell out(j) = gap(j) + j. The expand first flags each out(j) in a
// per-thread byte column (zero elsewhere) and lays the new tokens out densely in batch order, then
// walks the output from the back in blocks of 8 cells: the block's 8 flags pick a permutation from
// a 256-entry table that spreads the block's old cells (contiguous in the source, ending at r) into
// the old lanes and the block's new tokens (contiguous in the dense array) into the new lanes; a
// blend joins them, and the births blend with the step's birth. Reads stay below r, writes at or
// above the block's start, which is never below the next r.
//
// Paths: the AVX2 kernels (compiled for AVX2 by a target attribute, so that builds without -march
// flags, the sanitizer build included, run and test them where the CPU has AVX2), and merge_backward
// as their serial twin. insert_backward picks between them.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <type_traits>
#include <vector>

#include "slotdiff/config.hpp"
#include "slotdiff/detail/batch.hpp"
#include "slotdiff/slots/insertion.hpp"
#include "slotdiff/slots/layout.hpp"

namespace slotdiff::detail {

/// Kernel choice for insert_backward; tests set it to force a path. `automatic`: the AVX2 expand
/// where the CPU has it and the batch is dense enough to win, else merge_backward.
enum class expand_path : std::uint8_t { automatic, serial, avx2 };

inline expand_path& forced_expand_path() noexcept {
  thread_local expand_path path = expand_path::automatic;
  return path;
}

/// The expand's per-thread scratch: `flags[i]` is 0xff where output cell i is new (all zero between
/// calls: the kernels clear what they set), `tokens[8 + j]` the token of insertion j (8 cells of
/// padding in front, so that an 8-cell load ending at any j stays inside).
struct expand_scratch {
  std::uint8_t* flags = nullptr;
  std::size_t flag_count = 0;  // a power of two
  token_id* tokens = nullptr;
};

/// Scratch for an output of `cells` cells and `k` insertions. Returns null pointers when it cannot
/// grow (the caller then takes the serial path).
inline expand_scratch expand_scratch_for(std::size_t cells, std::size_t k) noexcept {
  thread_local std::vector<std::uint8_t> flags;
  thread_local std::vector<token_id> tokens;
  try {
    if (flags.size() < cells) flags.resize(std::bit_ceil(cells), 0);
    if (tokens.size() < k + 8) tokens.resize(k + k / 2 + 8, 0);
  } catch (const std::bad_alloc&) {
    return {};
  }
  return {flags.data(), flags.size(), tokens.data()};
}

/// For each 8-bit mask of new lanes (bit i set: output lane i takes a new token), the source lane of
/// every output lane: new lanes take the top popcount(mask) lanes of an 8-cell load of the dense
/// tokens, old lanes the top 8 - popcount(mask) lanes of an 8-cell load of the old cells, in order.
struct expand_lanes {
  alignas(64) std::array<std::array<std::uint8_t, 8>, 256> lane{};
};

constexpr expand_lanes make_expand_lanes() noexcept {
  expand_lanes t;
  for (unsigned m = 0; m < 256; ++m) {
    const auto fresh = static_cast<unsigned>(std::popcount(m));
    unsigned next_new = 8u - fresh, next_old = fresh;
    for (unsigned i = 0; i < 8; ++i) t.lane[m][i] = static_cast<std::uint8_t>((m >> i) & 1u ? next_new++ : next_old++);
  }
  return t;
}

inline constexpr expand_lanes expand_table = make_expand_lanes();

/// Flags out(j) and lays out the tokens. Requires: gaps non-decreasing, s from expand_scratch_for.
template <class GapOf>
inline void scatter_batch(expand_scratch s, std::span<const insertion> sorted, GapOf gap) noexcept {
  const std::size_t k = sorted.size();
  for (std::size_t j = 0; j < k; ++j) {
    s.flags[gap(sorted[j]) + j] = 0xff;
    s.tokens[8 + j] = sorted[j].token;
  }
}

/// Where an expand stands: old cells [0, r) still to place, output cells [0, w) still to write,
/// new tokens [0, jn) still to place (w = r + jn).
struct expand_cursor {
  std::ptrdiff_t r;
  std::size_t w;
  std::ptrdiff_t jn;
};

/// One output cell at a time from the back, while w > stop and new cells remain; clears flags.
inline void expand_cells(columns c, expand_cursor& at, std::size_t stop, expand_scratch s, step_index born) noexcept {
  while (at.w > stop && at.jn != 0) {
    --at.w;
    if (s.flags[at.w] != 0) {
      s.flags[at.w] = 0;
      c.tokens[at.w] = s.tokens[8 + --at.jn];
      c.births[at.w] = born;
    } else {
      --at.r;
      c.tokens[at.w] = c.tokens[at.r];
      c.births[at.w] = c.births[at.r];
    }
  }
}

#if SLOTDIFF_HAS_AVX2_KERNELS

/// One block of 8 output cells [p, p + 8): old cells from the 8 cells ending at old_t/old_b, new
/// tokens from the 8 cells ending at new_t (the dense tokens' + 8 offset), chosen by the block's flags,
/// which it clears. Returns how many of the 8 were new.
SLOTDIFF_TARGET_AVX2 __attribute__((always_inline)) inline unsigned expand_block_avx2(columns c, std::size_t p, const token_id* old_t,
                                                                                      const step_index* old_b, const token_id* new_t,
                                                                                      expand_scratch s, __m256 bornv) noexcept {
  const __m256 fresh =
      _mm256_castsi256_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s.flags + p))));
  const auto m = static_cast<unsigned>(_mm256_movemask_ps(fresh));
  const __m256i lane = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(expand_table.lane[m].data())));
  const __m256i ot = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(old_t - 8));
  const __m256i ob = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(old_b - 8));
  const __m256i nt = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(new_t - 8));
  const __m256 tok = _mm256_blendv_ps(_mm256_castsi256_ps(_mm256_permutevar8x32_epi32(ot, lane)),
                                      _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(nt, lane)), fresh);
  const __m256 bir = _mm256_blendv_ps(_mm256_castsi256_ps(_mm256_permutevar8x32_epi32(ob, lane)), bornv, fresh);
  _mm256_storeu_ps(reinterpret_cast<float*>(c.tokens + p), tok);
  _mm256_storeu_ps(reinterpret_cast<float*>(c.births + p), bir);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(s.flags + p), _mm_setzero_si128());
  return static_cast<unsigned>(std::popcount(m));
}

/// Blocks of 8 output cells ending at w while new cells remain, w >= 8 and r >= min_r. A block's
/// old cells are read from src_t/src_b at [r - 8, r) (readable whenever r >= min_r).
SLOTDIFF_TARGET_AVX2 inline void expand_blocks_avx2(columns c, const token_id* src_t, const step_index* src_b,
                                                    std::ptrdiff_t min_r, expand_cursor& at, expand_scratch s,
                                                    step_index born) noexcept {
  const __m256 bornv = _mm256_castsi256_ps(_mm256_set1_epi32(born));
  std::ptrdiff_t r = at.r, jn = at.jn;
  std::size_t w = at.w;
  while (w >= 8 && jn != 0 && r >= min_r) {
    w -= 8;
    const auto cnt = static_cast<std::ptrdiff_t>(expand_block_avx2(c, w, src_t + r, src_b + r, s.tokens + jn + 8, s, bornv));
    r -= 8 - cnt;
    jn -= cnt;
  }
  at = {r, w, jn};
}

/// expand_blocks_avx2's loop for the bulk of the output, on the columns themselves: blocks while
/// w > first_new (the first new cell; new cells remain below w) and r >= 8.
SLOTDIFF_TARGET_AVX2 inline void expand_bulk_avx2(columns c, expand_cursor& at, std::size_t first_new,
                                                  expand_scratch s, step_index born) noexcept {
  const __m256 bornv = _mm256_castsi256_ps(_mm256_set1_epi32(born));
  std::size_t r = static_cast<std::size_t>(at.r), jn = static_cast<std::size_t>(at.jn), w = at.w;
  for (; w > first_new && r >= 8; w -= 8) {
    const std::size_t cnt = expand_block_avx2(c, w - 8, c.tokens + r, c.births + r, s.tokens + jn + 8, s, bornv);
    r -= 8 - cnt;
    jn -= cnt;
  }
  at = {static_cast<std::ptrdiff_t>(r), w, static_cast<std::ptrdiff_t>(jn)};
}

/// The vectorised merge after the batch is scattered into `s` (scatter_batch or scan_scatter_avx2);
/// `first_gap` and `last_gap` are the batch's first and last gaps. Same result as merge_backward.
/// Requires: cpu_has_avx2().
inline void expand_backward_avx2(columns c, std::size_t n, std::size_t k, std::size_t first_gap,
                                 std::size_t last_gap, step_index born, expand_scratch s) noexcept {
  // The cells right of the last gap only shift by k: one memmove per column, then the blocks start
  // at the last new cell.
  move_cells(c.tokens + last_gap + k, c.tokens + last_gap, n - last_gap);
  move_cells(c.births + last_gap + k, c.births + last_gap, n - last_gap);
  expand_cursor at{static_cast<std::ptrdiff_t>(last_gap), last_gap + k, static_cast<std::ptrdiff_t>(k)};
  // Cell by cell down to a 32-byte boundary of the token column, so that the blocks' stores do not
  // straddle cache lines.
  const auto misalign = (reinterpret_cast<std::uintptr_t>(c.tokens + at.w) % 32) / sizeof(token_id);
  expand_cells(c, at, at.w - std::min<std::size_t>(at.w, misalign), s, born);
  expand_bulk_avx2(c, at, first_gap, s, born);
  if (at.r >= 8) expand_blocks_avx2(c, c.tokens, c.births, 8, at, s, born);
  if (at.jn != 0 && at.w >= 8) {
    // Fewer than 8 old cells left (they sit at [0, r)): read them from a padded copy.
    token_id tb[16] = {};
    step_index bb[16] = {};
    std::memcpy(tb + 8, c.tokens, static_cast<std::size_t>(at.r) * sizeof(token_id));
    std::memcpy(bb + 8, c.births, static_cast<std::size_t>(at.r) * sizeof(step_index));
    expand_blocks_avx2(c, tb + 8, bb + 8, 0, at, s, born);
  }
  expand_cells(c, at, 0, s, born);
}

/// Layouts whose gap is (slot + add) >> shift: the fused scan below computes it 4 lanes at a time.
template <class Layout>
struct linear_gap {
  static constexpr bool known = false;
};
template <>
struct linear_gap<side_layout> {
  static constexpr bool known = true;
  static constexpr int add = 1, shift = 1;
};
template <>
struct linear_gap<gap_layout> {
  static constexpr bool known = true;
  static constexpr int add = 0, shift = 0;
};

/// scan_batch_avx2 and scatter_batch in one pass over the batch, for a sequence of n >= 1 tokens.
/// Returns true when the batch is valid and sorted (and then scattered into `s`); otherwise `s` is
/// left as it was (every flag zero) and the caller takes the checked path.
template <class Layout>
SLOTDIFF_TARGET_AVX2 inline bool scan_scatter_avx2(std::span<const insertion> batch, std::size_t n, token_id vocab,
                                                   expand_scratch s) noexcept {
  static_assert(linear_gap<Layout>::known);
  constexpr int add = linear_gap<Layout>::add, shift = linear_gap<Layout>::shift;
  const std::size_t k = batch.size(), slots = Layout::slot_count(n);
  if (n == 0 || k < 9 || vocab <= 0) return false;
  // Strictly rising slots (signed) from a first slot below 2^63 to a last one below `slots` are all
  // in range, so the loop checks only the order; until that is known, cells are taken modulo the
  // flag column's power-of-two size so that no store leaves it.
  const __m256i wrap = _mm256_set1_epi64x(static_cast<long long>(s.flag_count - 1));
  const __m256i pick_tokens = _mm256_setr_epi32(0, 4, 2, 6, 0, 4, 2, 6);
  __m256i rising = _mm256_set1_epi32(-1), top_token = _mm256_setzero_si256();
  // out(j) = ((slot + add) >> shift) + j = (slot + add + (j << shift)) >> shift
  __m256i index = _mm256_setr_epi64x(add + (1 << shift), add + (3 << shift), add + (2 << shift), add + (4 << shift));
  const __m256i step = _mm256_set1_epi64x(4 << shift);  // lanes: j, j+2 | j+1, j+3
  std::size_t j = 1;
  for (; j + 4 <= k; j += 4) {
    const auto [slot, token_qwords, prev] = load_four_avx2(batch.data() + j);
    rising = _mm256_and_si256(rising, _mm256_cmpgt_epi64(slot, prev));
    const __m256i cell = _mm256_and_si256(_mm256_srli_epi64(_mm256_add_epi64(slot, index), shift), wrap);
    index = _mm256_add_epi64(index, step);
    s.flags[_mm256_extract_epi64(cell, 0)] = 0xff;
    s.flags[_mm256_extract_epi64(cell, 1)] = 0xff;
    s.flags[_mm256_extract_epi64(cell, 2)] = 0xff;
    s.flags[_mm256_extract_epi64(cell, 3)] = 0xff;
    // Tokens as dwords j, _, j+2, _ | j+1, _, j+3, _: one permute puts j..j+3 in the low half.
    const __m256i tokens = _mm256_permutevar8x32_epi32(token_qwords, pick_tokens);
    top_token = _mm256_max_epu32(top_token, tokens);  // a negative id counts as a huge one
    _mm_storeu_si128(reinterpret_cast<__m128i*>(s.tokens + 8 + j), _mm256_castsi256_si128(tokens));
  }
  const __m128i top4 = _mm_max_epu32(_mm256_castsi256_si128(top_token), _mm256_extracti128_si256(top_token, 1));
  const __m128i top2 = _mm_max_epu32(top4, _mm_shuffle_epi32(top4, 0x4e));
  const __m128i top1 = _mm_max_epu32(top2, _mm_shuffle_epi32(top2, 0xb1));
  bool valid = j == 1 || static_cast<std::uint32_t>(_mm_cvtsi128_si32(top1)) < static_cast<std::uint32_t>(vocab);
  bool sorted = _mm256_movemask_epi8(rising) == -1 && batch[0].slot < (std::size_t{1} << 63);
  const std::size_t mask = s.flag_count - 1;
  auto one = [&](std::size_t i) {
    const insertion& ins = batch[i];
    valid &= (ins.token >= 0) & (ins.token < vocab);
    s.flags[(((ins.slot + add) >> shift) + i) & mask] = 0xff;
    s.tokens[8 + i] = ins.token;
  };
  one(0);
  for (; j < k; ++j) {
    one(j);
    sorted &= batch[j - 1].slot < batch[j].slot;
  }
  if (valid && sorted && batch[k - 1].slot < slots) return true;
  std::memset(s.flags, 0, s.flag_count);
  return false;
}

#endif  // SLOTDIFF_HAS_AVX2_KERNELS

/// Whether the AVX2 expand beats merge_backward: both memmove the cells right of the last gap; then
/// the expand's cost grows with the cells from the first gap to the last (in blocks of 8),
/// merge_backward's with the number of insertions (a branchy step each) plus one memmove of those
/// cells.
/// Requires nothing of the gaps: a last gap before the first (an unsorted batch) counts as no win.
inline bool expand_wins(std::size_t n, std::size_t k, std::size_t first_gap, std::size_t last_gap) noexcept {
  return n >= 8 && last_gap >= first_gap && 64 * k >= last_gap - first_gap + k;
}

/// The in-place merge of merge_backward (same contract), by the fastest kernel available.
template <class GapOf>
inline void insert_backward(columns c, std::size_t n, std::span<const insertion> sorted, GapOf gap,
                            step_index born) noexcept {
#if SLOTDIFF_HAS_AVX2_KERNELS
  const std::size_t k = sorted.size();
  const expand_path forced = forced_expand_path();
  const bool vector = forced == expand_path::avx2 ||
                      (forced == expand_path::automatic && k != 0 && expand_wins(n, k, gap(sorted[0]), gap(sorted[k - 1])));
  if (vector && cpu_has_avx2()) {
    const expand_scratch s = expand_scratch_for(n + k, k);
    if (s.flags != nullptr) {
      scatter_batch(s, sorted, gap);
      expand_backward_avx2(c, n, k, gap(sorted[0]), gap(sorted[k - 1]), born, s);
      return;
    }
  }
#endif
  merge_backward(c, n, sorted, gap, born);
}

/// The fast path of a contiguous sequence's apply: for a batch that is sorted, valid and dense
/// enough, one pass validates and scatters it, `grow(k)` makes the columns n + k cells long and
/// returns them (it may throw: nothing has changed then), and the expand merges. Returns false, with
/// nothing done, where it does not apply (the caller then takes the checked path, which also names
/// whatever is wrong with the batch).
template <class Layout, class Grow>
inline bool fused_expand(std::span<const insertion> batch, std::size_t n, token_id vocab, step_index born, Grow grow) {
#if SLOTDIFF_HAS_AVX2_KERNELS
  if constexpr (linear_gap<Layout>::known) {
    const std::size_t k = batch.size();
    const expand_path forced = forced_expand_path();
    if (forced == expand_path::serial || k < 9 || n < 8 || !cpu_has_avx2()) return false;
    // (A slot out of range or out of order only misleads this guess; the scan refuses the batch.)
    const auto gap = [n](const insertion& i) { return Layout::gap_of(i.slot, n); };
    if (forced != expand_path::avx2 && !expand_wins(n, k, gap(batch[0]), gap(batch[k - 1]))) return false;
    const expand_scratch s = expand_scratch_for(n + k, k);
    if (s.flags == nullptr || !scan_scatter_avx2<Layout>(batch, n, vocab, s)) return false;
    columns c;
    try {
      c = grow(k);
    } catch (...) {
      std::memset(s.flags, 0, n + k);
      throw;
    }
    expand_backward_avx2(c, n, k, gap(batch[0]), gap(batch[k - 1]), born, s);
    return true;
  }
#endif
  (void)batch, (void)n, (void)vocab, (void)born, (void)grow;
  return false;
}

}  // namespace slotdiff::detail
