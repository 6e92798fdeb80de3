// tests/random.hpp: seeded randomness for property tests.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>

namespace slotdiff::test {

/// A generator seeded from Catch's --rng-seed (0 by default), so every failure is reproducible with
/// `--rng-seed N`; the seed is printed with any failing assertion.
inline std::mt19937_64 seeded_rng(std::uint64_t salt = 0) {
  const std::uint64_t seed = Catch::rngSeed();
  UNSCOPED_INFO("rng seed " << seed << " (rerun with --rng-seed " << seed << ")");
  return std::mt19937_64(seed * 0x9E3779B97F4A7C15ull + salt);
}

}  // namespace slotdiff::test
