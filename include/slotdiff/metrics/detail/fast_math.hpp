// slotdiff/metrics/detail/fast_math.hpp: branch-free float log/exp that compilers vectorise.
//
// std::log and std::exp are library calls that GCC and Clang only vectorise under -ffast-math. These
// polynomial forms (Cephes' logf/expf, the same ones sse_mathfun and most SIMD libraries use) are
// plain arithmetic and selects, so a loop over them vectorises at -O3 with whatever -march allows.
// Accuracy: |error| <= 2 ulp for normal inputs (checked against std::log/std::exp in the tests).
#pragma once

#include <bit>
#include <cstdint>

// The two polynomials below are written once, as macros, for the scalar functions here and the vector
// ones of simd_body.hpp. A function cannot serve both: simd_body.hpp is compiled inside per-ISA target
// regions (kernels.hpp), where GCC and Clang refuse to inline a function compiled for the unit's own
// target, and an out-of-line call per element would undo the vectorisation. The copy in each place is
// not an independent oracle either way: the tests check fast_logf / fast_exp against std::log /
// std::exp, and the vector kernels against their serial twins, which call the scalar forms.
// T is the value type (float or double, or a GCC vector of them); the arguments are plain names.

/// The Cephes logf polynomial: out = log(x) for x = (1 + m) * 2^e, m in [sqrt(1/2) - 1, sqrt(2) - 1).
#define SLOTDIFF_CEPHES_LOGF(T, m, e, out)                  \
  do {                                                      \
    const T slotdiff_z_ = (m) * (m);                        \
    T slotdiff_y_ = (m) * 7.0376836292E-2f - 1.1514610310E-1f; \
    slotdiff_y_ = slotdiff_y_ * (m) + 1.1676998740E-1f;     \
    slotdiff_y_ = slotdiff_y_ * (m) - 1.2420140846E-1f;     \
    slotdiff_y_ = slotdiff_y_ * (m) + 1.4249322787E-1f;     \
    slotdiff_y_ = slotdiff_y_ * (m) - 1.6668057665E-1f;     \
    slotdiff_y_ = slotdiff_y_ * (m) + 2.0000714765E-1f;     \
    slotdiff_y_ = slotdiff_y_ * (m) - 2.4999993993E-1f;     \
    slotdiff_y_ = slotdiff_y_ * (m) + 3.3333331174E-1f;     \
    slotdiff_y_ = slotdiff_y_ * (m) * slotdiff_z_;          \
    slotdiff_y_ += -2.12194440E-4f * (e);                   \
    slotdiff_y_ += -0.5f * slotdiff_z_;                     \
    (out) = (m) + slotdiff_y_;                              \
    (out) += 0.693359375f * (e);                            \
  } while (0)

/// The Cephes exp reduction and Pade form: out = e^(x - n ln 2), |x - n ln 2| <= ln2 / 2 (the caller
/// scales by 2^n).
#define SLOTDIFF_CEPHES_EXP_REDUCED(T, x, n, out)                                                         \
  do {                                                                                                    \
    T slotdiff_r_ = (x) - (n) * 6.93145751953125E-1;                                                      \
    slotdiff_r_ -= (n) * 1.42860682030941723212E-6;                                                       \
    const T slotdiff_rr_ = slotdiff_r_ * slotdiff_r_;                                                     \
    const T slotdiff_p_ =                                                                                 \
        slotdiff_r_ * ((1.26177193074810590878E-4 * slotdiff_rr_ + 3.02994407707441961300E-2) * slotdiff_rr_ + \
                       9.99999999999999999910E-1);                                                        \
    const T slotdiff_q_ = ((3.00198505138664455042E-6 * slotdiff_rr_ + 2.52448340349684104192E-3) * slotdiff_rr_ + \
                           2.27265548208155028766E-1) *                                                   \
                              slotdiff_rr_ +                                                              \
                          2.00000000000000000009E0;                                                       \
    (out) = 1.0 + 2.0 * slotdiff_p_ / (slotdiff_q_ - slotdiff_p_);                                        \
  } while (0)

namespace slotdiff::detail {

/// The Cephes logf polynomial for a float (SLOTDIFF_CEPHES_LOGF).
[[gnu::always_inline]] inline float log_from_mantissa(float m, float e) noexcept {
  float r;
  SLOTDIFF_CEPHES_LOGF(float, m, e, r);
  return r;
}

/// Natural log for x >= FLT_MIN (normal, finite, positive). Requires: x is normal and positive; values
/// below FLT_MIN are read as FLT_MIN by callers that clamp first. Complexity: O(1), no branches.
inline float fast_logf(float x) noexcept {
  std::uint32_t u = std::bit_cast<std::uint32_t>(x);
  int e = static_cast<int>((u >> 23) & 0xffu) - 126;
  u = (u & 0x807fffffu) | 0x3f000000u;  // mantissa in [0.5, 1)
  float m = std::bit_cast<float>(u);
  const bool small = m < 0.70710678118f;
  e = small ? e - 1 : e;
  m = small ? m + m - 1.0f : m - 1.0f;
  return log_from_mantissa(m, static_cast<float>(e));
}

/// Natural log for any x >= 0, subnormals included (scaled by 2^23 into the normal range, then
/// 23 ln 2 taken off): what the probability kernels use, so that a subnormal q_i costs KL what
/// std::log says. x = 0 gives log(2^-149), finite (callers mask zero terms out).
inline float fast_log_nonneg(float x) noexcept {
  const bool sub = x < 1.17549435e-38f;
  float y = sub ? x * 8388608.0f : x;
  y = y < 1.17549435e-38f ? 1.17549435e-38f : y;
  return fast_logf(y) - (sub ? 15.9423851528f : 0.0f);
}

/// e^x for double x, branch-free: inputs below -708 give 0, above 709 give +inf-free saturation at
/// DBL_MAX-ish (callers never pass them). Accuracy about 1 ulp (Cephes exp, degree-6/7 Pade form).
inline double fast_exp(double x) noexcept {
  x = x < -708.0 ? -708.0 : x;
  x = x > 709.0 ? 709.0 : x;
  // x = n ln2 + r, |r| <= ln2/2
  const double n = static_cast<double>(static_cast<std::int64_t>(x * 1.4426950408889634 + (x >= 0 ? 0.5 : -0.5)));
  double e;
  SLOTDIFF_CEPHES_EXP_REDUCED(double, x, n, e);
  const std::int64_t bits = (static_cast<std::int64_t>(n) + 1023) << 52;
  return e * std::bit_cast<double>(bits);
}

}  // namespace slotdiff::detail
