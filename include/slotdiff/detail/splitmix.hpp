// slotdiff/detail/splitmix.hpp: the one mixing function behind every seeded choice in the library
// (tie-breaking in noising, per-sentence seeds, the sampling generator), so that results are the
// same on every platform (the standard distributions are not portable).
#pragma once

#include <cstdint>

namespace slotdiff::detail {

/// splitmix64 (Steele, Lea and Flood 2014): one step from x, a good 64-bit hash of x.
constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace slotdiff::detail
