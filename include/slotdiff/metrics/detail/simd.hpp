// slotdiff/metrics/detail/simd.hpp: portable SIMD through the compilers' generic vector extensions.
//
// GCC and Clang lower `vector_size` types to whatever the target ISA has (AVX2 registers under
// -march=native on x86-64, two SSE registers without it, NEON on Arm), so the core kernels get real
// SIMD without xsimd or intrinsics and stay in the dependency-free core tier. Elsewhere
// SLOTDIFF_VECTOR_EXT is 0 and the kernels fall back to plain loops.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "slotdiff/metrics/detail/fast_math.hpp"
#include "slotdiff/metrics/half.hpp"

#if (defined(__GNUC__) || defined(__clang__)) && !defined(SLOTDIFF_NO_VECTOR_EXT)
#define SLOTDIFF_VECTOR_EXT 1
#else
#define SLOTDIFF_VECTOR_EXT 0
#endif

#if SLOTDIFF_VECTOR_EXT
// Register width: 32 bytes when the target has AVX (8 floats), else 16 (SSE2 / NEON: 4 floats). Wider
// vectors without the ISA would be split by the compiler anyway, and change the psABI of helpers.
#if defined(__AVX__)
#define SLOTDIFF_VBYTES 32
#else
#define SLOTDIFF_VBYTES 16
#endif

namespace slotdiff::detail::simd {

inline constexpr std::size_t FL = SLOTDIFF_VBYTES / 4;  ///< float lanes
inline constexpr std::size_t DL = SLOTDIFF_VBYTES / 8;  ///< double lanes

typedef float vf __attribute__((vector_size(SLOTDIFF_VBYTES)));
typedef std::int32_t vi __attribute__((vector_size(SLOTDIFF_VBYTES)));
typedef std::uint32_t vu __attribute__((vector_size(SLOTDIFF_VBYTES)));
typedef std::uint16_t vh __attribute__((vector_size(SLOTDIFF_VBYTES / 2)));
typedef double vd __attribute__((vector_size(SLOTDIFF_VBYTES)));
typedef std::int64_t vl __attribute__((vector_size(SLOTDIFF_VBYTES)));

[[gnu::always_inline]] inline vf splat(float f) noexcept { return vf{} + f; }
[[gnu::always_inline]] inline vd splat(double f) noexcept { return vd{} + f; }

[[gnu::always_inline]] inline vf load(const float* p) noexcept {
  vf x;
  std::memcpy(&x, p, sizeof x);
  return x;
}
[[gnu::always_inline]] inline vf load(const bf16* p) noexcept {
  vh h;
  std::memcpy(&h, p, sizeof h);
  return std::bit_cast<vf>(__builtin_convertvector(h, vu) << 16);
}
[[gnu::always_inline]] inline vf load(const f16* p) noexcept {
  vh raw;
  std::memcpy(&raw, p, sizeof raw);
  const vu h = __builtin_convertvector(raw, vu);
  const vu sign = (h & 0x8000u) << 16;
  vu o = (h & 0x7fffu) << 13;
  const vu exp = o & 0x0f800000u;
  o += static_cast<std::uint32_t>(127 - 15) << 23;
  const vf denorm = std::bit_cast<vf>(o + (1u << 23)) - splat(std::bit_cast<float>(113u << 23));
  o = exp == 0x0f800000u ? o + (static_cast<std::uint32_t>(128 - 16) << 23) : o;
  o = exp == 0u ? std::bit_cast<vu>(denorm) : o;
  return std::bit_cast<vf>(o | sign);
}
[[gnu::always_inline]] inline vd loadd(const double* p) noexcept {
  vd x;
  std::memcpy(&x, p, sizeof x);
  return x;
}
[[gnu::always_inline]] inline void stored(double* p, vd x) noexcept { std::memcpy(p, &x, sizeof x); }

/// Lanes summed in a fixed order (results do not depend on the ISA).
[[gnu::always_inline]] inline float hsum(vf v) noexcept {
  for (std::size_t w = FL / 2; w > 0; w /= 2)
    for (std::size_t j = 0; j < w; ++j) v[j] += v[j + w];
  return v[0];
}
[[gnu::always_inline]] inline double hsum(vd v) noexcept {
  for (std::size_t w = DL / 2; w > 0; w /= 2)
    for (std::size_t j = 0; j < w; ++j) v[j] += v[j + w];
  return v[0];
}

[[gnu::always_inline]] inline vf abs(vf x) noexcept { return std::bit_cast<vf>(std::bit_cast<vu>(x) & 0x7fffffffu); }
[[gnu::always_inline]] inline vf max(vf a, vf b) noexcept { return a > b ? a : b; }
[[gnu::always_inline]] inline vd max(vd a, vd b) noexcept { return a > b ? a : b; }

/// sqrt per lane: the ISA's vector square root (a lane loop of __builtin_sqrtf is not vectorised
/// unless -fno-math-errno). Requires lanes >= 0 (the callers validate).
[[gnu::always_inline]] inline vf sqrt(vf x) noexcept {
#if defined(__clang__)
  return __builtin_elementwise_sqrt(x);
#elif defined(__AVX__)
  return std::bit_cast<vf>(__builtin_ia32_sqrtps256(std::bit_cast<__attribute__((vector_size(32))) float>(x)));
#elif defined(__SSE2__)
  return std::bit_cast<vf>(__builtin_ia32_sqrtps(std::bit_cast<__attribute__((vector_size(16))) float>(x)));
#else
  vf r = x;
  for (std::size_t i = 0; i < FL; ++i) r[i] = __builtin_sqrtf(x[i]);
  return r;
#endif
}

/// Natural log, Cephes logf: Requires x normal and positive (callers clamp to FLT_MIN first).
[[gnu::always_inline]] inline vf log(vf x) noexcept {
  vi u = std::bit_cast<vi>(x);
  vi e = ((u >> 23) & 0xff) - 126;
  u = (u & 0x807fffff) | 0x3f000000;
  vf m = std::bit_cast<vf>(u);
  const vi small = m < 0.70710678118f;  // -1 where true
  e = e + small;
  m = small ? m + m - 1.0f : m - 1.0f;
  return log_from_mantissa(m, __builtin_convertvector(e, vf));
}

/// e^x in double, Cephes exp; inputs clamped to [-708, 709].
[[gnu::always_inline]] inline vd exp(vd x) noexcept {
  x = x < -708.0 ? splat(-708.0) : x;
  x = x > 709.0 ? splat(709.0) : x;
  const vd t = x * 1.4426950408889634;
  const vd n = __builtin_convertvector(__builtin_convertvector(t + (t >= 0.0 ? splat(0.5) : splat(-0.5)), vl), vd);
  vd r = x - n * 6.93145751953125E-1;
  r -= n * 1.42860682030941723212E-6;
  const vd rr = r * r;
  const vd p = r * ((1.26177193074810590878E-4 * rr + 3.02994407707441961300E-2) * rr + 9.99999999999999999910E-1);
  const vd q = ((3.00198505138664455042E-6 * rr + 2.52448340349684104192E-3) * rr + 2.27265548208155028766E-1) * rr +
                2.00000000000000000009E0;
  const vd e = 1.0 + 2.0 * p / (q - p);
  const vl bits = (__builtin_convertvector(n, vl) + 1023) << 52;
  return e * std::bit_cast<vd>(bits);
}

}  // namespace slotdiff::detail::simd

#endif
