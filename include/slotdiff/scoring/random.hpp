// slotdiff/scoring/random.hpp: the random scorer (the ablation baseline) and the seeded hashing
// that the noiser also uses to break ties.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "slotdiff/config.hpp"
#include "slotdiff/detail/splitmix.hpp"

namespace slotdiff {

namespace detail {

/// A hash of a token sequence and a seed. Stateless, so every thread that scores the same sentence
/// with the same seed gets the same numbers.
constexpr std::uint64_t hash_tokens(std::span<const token_id> tokens, std::uint64_t seed) noexcept {
  std::uint64_t h = splitmix64(seed ^ tokens.size());
  for (token_id t : tokens) h = splitmix64(h ^ static_cast<std::uint32_t>(t));
  return h;
}

/// A float in [0, 1) from the top 24 bits of a hash.
constexpr float unit_float(std::uint64_t h) noexcept { return static_cast<float>(h >> 40) * 0x1.0p-24f; }

}  // namespace detail

/// Scores every token uniformly at random in [0, 1): the ablation baseline. The numbers are a hash of
/// (seed, the whole sequence, position), so they are reproducible and thread-independent; a static
/// scorer, so the noiser draws them once per sentence.
struct random_scorer {
  std::uint64_t seed = 0;

  /// Requires: out.size() == tokens.size(). Complexity: O(n).
  void score(std::span<const token_id> tokens, std::span<float> out) const noexcept {
    const std::uint64_t h = detail::hash_tokens(tokens, seed);
    for (std::size_t i = 0; i < tokens.size(); ++i) out[i] = detail::unit_float(detail::splitmix64(h + i));
  }
};

}  // namespace slotdiff
