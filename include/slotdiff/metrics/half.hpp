// slotdiff/metrics/half.hpp: 16-bit float storage types (bfloat16, IEEE half) for metric inputs.
//
// Storage only: the kernels widen each element to float32 and compute in float32. The conversions
// are branch-free bit arithmetic so loops over them vectorise.
#pragma once

#include <bit>
#include <cstdint>

namespace slotdiff {

/// bfloat16: the top 16 bits of an IEEE float32.
struct bf16 {
  std::uint16_t bits = 0;
  /// Round to nearest even (NaN stays NaN).
  static bf16 from_float(float f) noexcept {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return bf16{static_cast<std::uint16_t>((u >> 16) | 0x40u)};
    const std::uint32_t rounded = u + 0x7fffu + ((u >> 16) & 1u);
    return bf16{static_cast<std::uint16_t>(rounded >> 16)};
  }
  float to_float() const noexcept { return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16); }
};

/// IEEE 754 binary16.
struct f16 {
  std::uint16_t bits = 0;
  /// Round to nearest even; overflow gives +-inf, NaN stays NaN.
  static f16 from_float(float f) noexcept {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
    const std::uint32_t sign = (u >> 16) & 0x8000u;
    const std::uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return f16{static_cast<std::uint16_t>(sign | 0x7e00u)};
    if (a >= 0x477ff000u) return f16{static_cast<std::uint16_t>(sign | 0x7c00u)};  // rounds to >= 65520
    if (a < 0x38800000u) {                                                        // subnormal half or zero
      const float v = std::bit_cast<float>(a) + 0.5f;  // 0.5 = 2^-1: aligns the half subnormal grid
      return f16{static_cast<std::uint16_t>(sign | (std::bit_cast<std::uint32_t>(v) - 0x3f000000u))};
    }
    const std::uint32_t mant_odd = (a >> 13) & 1u;
    std::uint32_t r = a + (static_cast<std::uint32_t>(15 - 127) << 23) + 0xfffu + mant_odd;
    return f16{static_cast<std::uint16_t>(sign | (r >> 13))};
  }
  /// Exact widening (F. Giesen's magic-multiply form: no branches).
  float to_float() const noexcept {
    const std::uint32_t h = bits;
    const std::uint32_t sign = (h & 0x8000u) << 16;
    std::uint32_t o = (h & 0x7fffu) << 13;
    const std::uint32_t exp = o & 0x0f800000u;
    o += static_cast<std::uint32_t>(127 - 15) << 23;
    const float denorm = std::bit_cast<float>(o + (1u << 23)) - std::bit_cast<float>(113u << 23);
    o = exp == 0x0f800000u ? o + (static_cast<std::uint32_t>(128 - 16) << 23) : o;  // inf / NaN
    o = exp == 0 ? std::bit_cast<std::uint32_t>(denorm) : o;                      // zero / subnormal
    return std::bit_cast<float>(o | sign);
  }
};

/// Widening to float for the element types the kernels accept.
inline float to_float(float x) noexcept { return x; }
inline float to_float(bf16 x) noexcept { return x.to_float(); }
inline float to_float(f16 x) noexcept { return x.to_float(); }

}  // namespace slotdiff
