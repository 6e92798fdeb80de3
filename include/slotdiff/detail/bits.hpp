// slotdiff/detail/bits.hpp: rank/select helpers on 64-bit occupancy words.
#pragma once

#include <bit>
#include <cstdint>

#if defined(__BMI2__)
#include <immintrin.h>
#endif

namespace slotdiff::detail {

/// Position of the r-th set bit (r counts from 0) of w. Requires: r < popcount(w).
inline unsigned select64(std::uint64_t w, unsigned r) noexcept {
#if defined(__BMI2__)
  return static_cast<unsigned>(std::countr_zero(_pdep_u64(std::uint64_t{1} << r, w)));
#else
  // Skip whole bytes by their popcounts, then clear low bits within the byte.
  unsigned base = 0;
  for (;;) {
    const unsigned c = static_cast<unsigned>(std::popcount(w & 0xffu));
    if (r < c) break;
    r -= c;
    w >>= 8;
    base += 8;
  }
  for (; r != 0; --r) w &= w - 1;
  return base + static_cast<unsigned>(std::countr_zero(w));
#endif
}

}  // namespace slotdiff::detail
