// slotdiff/detail/hash.hpp: the one FNV-1a hash behind every byte checksum and text key in the
// library (the SDWV/SIF file checksums, the reference model's vocabulary fingerprint, the keyword
// protocol's per-sentence seed), so that all of them agree bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace slotdiff::detail {

/// FNV-1a 64-bit offset basis and prime (Fowler, Noll and Vo; IETF draft-eastlake-fnv, section 2).
inline constexpr std::uint64_t fnv1a64_basis = 0xcbf29ce484222325ull;
inline constexpr std::uint64_t fnv1a64_prime = 0x100000001b3ull;

/// FNV-1a, 64 bits, of `bytes`, continuing from the running hash `h` (the basis for a fresh hash),
/// so that fnv1a64(b, fnv1a64(a)) == fnv1a64(a + b). Complexity: O(|bytes|).
constexpr std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t h = fnv1a64_basis) noexcept {
  for (const char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * fnv1a64_prime;
  return h;
}

// Published test vectors (draft-eastlake-fnv, appendix C).
static_assert(fnv1a64("") == 0xcbf29ce484222325ull);
static_assert(fnv1a64("a") == 0xaf63dc4c8601ec8cull);
static_assert(fnv1a64("foobar") == 0x85944171f73967e8ull);

/// A running FNV-1a 64 over bytes added piece by piece (the checksum of a binary file as it is
/// written or read). Complexity: O(n) per add.
struct fnv1a {
  std::uint64_t h = fnv1a64_basis;
  void add(const void* p, std::size_t n) noexcept { h = fnv1a64(std::string_view(static_cast<const char*>(p), n), h); }
};

}  // namespace slotdiff::detail
