// slotdiff/metrics/kernels.hpp: the raw distance kernels, SimSIMD style: <metric>_<dtype>_<isa>.
//
// Per metric and dtype:
//   *_serial    the reference: one element at a time, accumulates in double, calls std::log/std::sqrt.
//               It is the oracle the tests hold every fast path to.
//   *_portable  16-byte generic vectors of the target's baseline ISA (SSE2 on x86-64, NEON on
//               AArch64; plain loops without the vector extension).
//   *_avx2      32-byte vectors, compiled for x86-64-v3 (AVX2 + FMA) whatever the unit's -m flags.
//   *_avx512    64-byte vectors, compiled for x86-64-v4 (AVX-512). x86-64 with GCC/Clang only.
//   *_auto      the best of those the running CPU supports: one dispatch on simd_isa_in_use()
//               (detail/simd.hpp: __builtin_cpu_supports, cached), never on the unit's -m flags.
// The fast paths accumulate in float over 2-4 independent vector accumulators, use a polynomial
// log, and reduce their lanes in a fixed order; results differ from the serial ones by rounding only,
// over the whole float range: where float arithmetic could not give that (a sum that overflowed, a
// squared norm or squared distance under 2^-64 where products may have underflowed) the vector
// kernels recompute with the serial twin (detail::*_checked), so the 1e-23 vectors whose squared
// norms underflow and the 1e20 ones whose products overflow get the serial answer, not 0 or inf.
// The polynomial log reads subnormal probabilities exactly (scaled by 2^23 first), as std::log does.
// Call an *_avx2 / *_avx512 kernel directly only where cpu_simd_isa() is at least that ISA.
//
// The kernels do NO validation (they are what the metric objects in vector.hpp / probability.hpp call
// after checking): Requires a and b point to n readable elements each (n may be 0). Complexity: O(n).
// dtypes: f32, and bf16 / f16 (widened to float on load) for the vector kernels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "slotdiff/metrics/detail/fast_math.hpp"
#include "slotdiff/metrics/detail/simd.hpp"
#include "slotdiff/metrics/half.hpp"

namespace slotdiff {

/// Which implementation a metric object runs; tests force each one.
enum class kernel_path { fast, serial };

namespace detail {

/// a.b, a.a, b.b of the cosine kernels.
struct cos_parts {
  float ab, aa, bb;
};

}  // namespace detail
}  // namespace slotdiff

// ---- the per-ISA bodies: detail/simd_body.hpp once per target region ---------------------------------
#if SLOTDIFF_VECTOR_EXT
#if SLOTDIFF_SIMD_X86
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("arch=x86-64"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("arch=x86-64")
#endif
#endif
#define SLOTDIFF_SIMD_NS portable
#define SLOTDIFF_SIMD_BYTES 16
#include "slotdiff/metrics/detail/simd_body.hpp"  // IWYU pragma: keep
#undef SLOTDIFF_SIMD_NS
#undef SLOTDIFF_SIMD_BYTES
#if SLOTDIFF_SIMD_X86
#if defined(__clang__)
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("arch=x86-64-v3"))), apply_to = function)
#else
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v3")
#endif
#define SLOTDIFF_SIMD_NS avx2
#define SLOTDIFF_SIMD_BYTES 32
#include "slotdiff/metrics/detail/simd_body.hpp"  // IWYU pragma: keep
#undef SLOTDIFF_SIMD_NS
#undef SLOTDIFF_SIMD_BYTES
#if defined(__clang__)
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("arch=x86-64-v4"))), apply_to = function)
#else
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
#endif
#define SLOTDIFF_SIMD_NS avx512
#define SLOTDIFF_SIMD_BYTES 64
#include "slotdiff/metrics/detail/simd_body.hpp"  // IWYU pragma: keep
#undef SLOTDIFF_SIMD_NS
#undef SLOTDIFF_SIMD_BYTES
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif  // SLOTDIFF_SIMD_X86
#else   // no vector extension: the portable path is plain loops
namespace slotdiff::detail::portable {
template <class T>
inline float dot(const T* a, const T* b, std::size_t n) noexcept {
  float s = 0;
  for (std::size_t i = 0; i < n; ++i) s += to_float(a[i]) * to_float(b[i]);
  return s;
}
template <class T>
inline float l2sq(const T* a, const T* b, std::size_t n) noexcept {
  float s = 0;
  for (std::size_t i = 0; i < n; ++i) s += (to_float(a[i]) - to_float(b[i])) * (to_float(a[i]) - to_float(b[i]));
  return s;
}
template <class T>
inline cos_parts cos(const T* a, const T* b, std::size_t n) noexcept {
  cos_parts r{0, 0, 0};
  for (std::size_t i = 0; i < n; ++i) {
    const float x = to_float(a[i]), y = to_float(b[i]);
    r.ab += x * y, r.aa += x * x, r.bb += y * y;
  }
  return r;
}
inline float kl(const float* p, const float* q, std::size_t n) noexcept {
  float s = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] > 0) s += p[i] * (fast_log_nonneg(p[i]) - fast_log_nonneg(q[i]));
  return s;
}
inline float js(const float* p, const float* q, std::size_t n) noexcept {
  float s = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float x = p[i], y = q[i], lm = fast_log_nonneg(0.5f * (x + y));
    if (x > 0) s += x * (fast_log_nonneg(x) - lm);
    if (y > 0) s += y * (fast_log_nonneg(y) - lm);
  }
  return s;
}
inline float hellinger(const float* p, const float* q, std::size_t n) noexcept {
  float s = 0;
  for (std::size_t i = 0; i < n; ++i) s += (std::sqrt(p[i]) - std::sqrt(q[i])) * (std::sqrt(p[i]) - std::sqrt(q[i]));
  return s;
}
inline float tv(const float* p, const float* q, std::size_t n) noexcept {
  float s = 0;
  for (std::size_t i = 0; i < n; ++i) s += std::abs(p[i] - q[i]);
  return s;
}
inline void gram(const float* a, std::size_t ra, const float* b, std::size_t rb, std::size_t d, float* out,
                 std::size_t ldo) noexcept {
  for (std::size_t i = 0; i < ra; ++i)
    for (std::size_t j = 0; j < rb; ++j) out[i * ldo + j] = dot(a + i * d, b + j * d, d);
}
inline void exp_row(double f, const double* g, const double* c, double inv, double* out, std::size_t m) noexcept {
  for (std::size_t j = 0; j < m; ++j) out[j] = fast_exp((f + g[j] - c[j]) * inv);
}
inline double dot_f64(const double* a, const double* b, std::size_t n) noexcept {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}
}  // namespace slotdiff::detail::portable
#endif  // SLOTDIFF_VECTOR_EXT

namespace slotdiff {
namespace detail {

// Every fast kernel by the ISA in use. `name` is a kernel of the per-ISA namespaces.
#if SLOTDIFF_SIMD_X86
#define SLOTDIFF_DISPATCH(name, ...)                                  \
  switch (simd_isa_in_use()) {                                        \
    case simd_isa::avx512: return avx512::name(__VA_ARGS__);          \
    case simd_isa::avx2: return avx2::name(__VA_ARGS__);              \
    default: return portable::name(__VA_ARGS__);                      \
  }
#else
#define SLOTDIFF_DISPATCH(name, ...) return portable::name(__VA_ARGS__);
#endif

// The raw dispatch (no range fallback: the public *_auto kernels below add it).
template <class T>
inline float dot_auto(const T* a, const T* b, std::size_t n) noexcept { SLOTDIFF_DISPATCH(dot, a, b, n) }
template <class T>
inline float l2sq_auto(const T* a, const T* b, std::size_t n) noexcept { SLOTDIFF_DISPATCH(l2sq, a, b, n) }
template <class T>
inline cos_parts cos_auto(const T* a, const T* b, std::size_t n) noexcept { SLOTDIFF_DISPATCH(cos, a, b, n) }
inline float kl_auto(const float* p, const float* q, std::size_t n) noexcept { SLOTDIFF_DISPATCH(kl, p, q, n) }
inline float js_sum_auto(const float* p, const float* q, std::size_t n) noexcept { SLOTDIFF_DISPATCH(js, p, q, n) }
inline float hellinger_sum_auto(const float* p, const float* q, std::size_t n) noexcept {
  SLOTDIFF_DISPATCH(hellinger, p, q, n)
}
inline float tv_sum_auto(const float* p, const float* q, std::size_t n) noexcept { SLOTDIFF_DISPATCH(tv, p, q, n) }
/// out[i * ldo + j] = a_i . b_j (rows of a: ra x d, of b: rb x d).
inline void gram_auto(const float* a, std::size_t ra, const float* b, std::size_t rb, std::size_t d, float* out,
                      std::size_t ldo) noexcept {
  SLOTDIFF_DISPATCH(gram, a, ra, b, rb, d, out, ldo)
}
/// out_j = exp((f + g_j - c_j) * inv), j < m.
inline void exp_row_auto(double f, const double* g, const double* c, double inv, double* out, std::size_t m) noexcept {
  SLOTDIFF_DISPATCH(exp_row, f, g, c, inv, out, m)
}
inline double dot_f64_auto(const double* a, const double* b, std::size_t n) noexcept { SLOTDIFF_DISPATCH(dot_f64, a, b, n) }
#undef SLOTDIFF_DISPATCH

// The finishing steps of the probability kernels (the same for every ISA).
inline float js_auto(const float* p, const float* q, std::size_t n) noexcept { return std::max(0.0f, 0.5f * js_sum_auto(p, q, n)); }
inline float hellinger_auto(const float* p, const float* q, std::size_t n) noexcept {
  return std::min(1.0f, std::sqrt(0.5f * hellinger_sum_auto(p, q, n)));
}
inline float tv_auto(const float* p, const float* q, std::size_t n) noexcept { return std::min(1.0f, 0.5f * tv_sum_auto(p, q, n)); }

/// 1 - ab / sqrt(aa bb), with the documented zero-vector convention: both zero -> 0, one zero -> 1.
/// Clamped to [0, 2]: rounding can step just outside, the true value cannot.
inline double cosine_from_parts(double ab, double aa, double bb) noexcept {
  if (aa == 0 && bb == 0) return 0.0;
  if (aa == 0 || bb == 0) return 1.0;
  const double d = 1.0 - ab / std::sqrt(aa * bb);
  return std::clamp(d, 0.0, 2.0);
}

/// A float sum of squares at or above this is trusted: products that underflowed (each off by at most
/// 2^-126 even when subnormals are flushed) change it by n 2^-126, relatively n 2^-62 or less.
inline constexpr float trusted_min = 0x1p-64f;
inline constexpr float float_max = 3.40282347e+38f;
inline bool trusted_square_sum(float s) noexcept { return s >= trusted_min && s <= float_max; }

template <class T>
inline double dot_serial(const T* a, const T* b, std::size_t n) noexcept;
template <class T>
inline double l2sq_serial(const T* a, const T* b, std::size_t n) noexcept;
template <class T>
inline double cos_serial(const T* a, const T* b, std::size_t n) noexcept;

/// The fast results with the serial fallback (see the header comment): a dot product is recomputed
/// when it is not finite (an overflowed product, inf - inf); a squared distance also when it is under
/// trusted_min; a cosine when either squared norm is outside [trusted_min, FLT_MAX] or a.b is not
/// finite. NaN inputs give NaN on both paths. Complexity: O(n) more only on those inputs.
template <class T>
inline double dot_checked(float fast, const T* a, const T* b, std::size_t n) noexcept {
  return std::isfinite(fast) ? double(fast) : dot_serial(a, b, n);
}
template <class T>
inline double l2sq_checked(float fast, const T* a, const T* b, std::size_t n) noexcept {
  return trusted_square_sum(fast) ? double(fast) : l2sq_serial(a, b, n);
}
template <class T>
inline double cos_checked(cos_parts p, const T* a, const T* b, std::size_t n) noexcept {
  if (trusted_square_sum(p.aa) && trusted_square_sum(p.bb) && std::isfinite(p.ab)) return cosine_from_parts(p.ab, p.aa, p.bb);
  return cos_serial(a, b, n);
}

template <class T>
inline double dot_serial(const T* a, const T* b, std::size_t n) noexcept {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += double(to_float(a[i])) * double(to_float(b[i]));
  return s;
}
template <class T>
inline double l2sq_serial(const T* a, const T* b, std::size_t n) noexcept {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = double(to_float(a[i])) - double(to_float(b[i]));
    s += d * d;
  }
  return s;
}
template <class T>
inline double cos_serial(const T* a, const T* b, std::size_t n) noexcept {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = to_float(a[i]), y = to_float(b[i]);
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return cosine_from_parts(ab, aa, bb);
}

}  // namespace detail

// ---- vector kernels ----------------------------------------------------------------------------------
// dot: sum a_i b_i.   l2sq: sum (a_i - b_i)^2.   cos: 1 - a.b / (|a| |b|) (zero-vector rule above).

inline double dot_f32_serial(const float* a, const float* b, std::size_t n) noexcept { return detail::dot_serial(a, b, n); }
inline float dot_f32_auto(const float* a, const float* b, std::size_t n) noexcept {
  return static_cast<float>(detail::dot_checked(detail::dot_auto(a, b, n), a, b, n));
}
inline double dot_bf16_serial(const bf16* a, const bf16* b, std::size_t n) noexcept { return detail::dot_serial(a, b, n); }
inline float dot_bf16_auto(const bf16* a, const bf16* b, std::size_t n) noexcept {
  return static_cast<float>(detail::dot_checked(detail::dot_auto(a, b, n), a, b, n));
}
inline double dot_f16_serial(const f16* a, const f16* b, std::size_t n) noexcept { return detail::dot_serial(a, b, n); }
inline float dot_f16_auto(const f16* a, const f16* b, std::size_t n) noexcept {
  return static_cast<float>(detail::dot_checked(detail::dot_auto(a, b, n), a, b, n));
}

inline double l2sq_f32_serial(const float* a, const float* b, std::size_t n) noexcept { return detail::l2sq_serial(a, b, n); }
inline float l2sq_f32_auto(const float* a, const float* b, std::size_t n) noexcept {
  return static_cast<float>(detail::l2sq_checked(detail::l2sq_auto(a, b, n), a, b, n));
}
inline double l2sq_bf16_serial(const bf16* a, const bf16* b, std::size_t n) noexcept { return detail::l2sq_serial(a, b, n); }
inline float l2sq_bf16_auto(const bf16* a, const bf16* b, std::size_t n) noexcept {
  return static_cast<float>(detail::l2sq_checked(detail::l2sq_auto(a, b, n), a, b, n));
}
inline double l2sq_f16_serial(const f16* a, const f16* b, std::size_t n) noexcept { return detail::l2sq_serial(a, b, n); }
inline float l2sq_f16_auto(const f16* a, const f16* b, std::size_t n) noexcept {
  return static_cast<float>(detail::l2sq_checked(detail::l2sq_auto(a, b, n), a, b, n));
}

inline double cos_f32_serial(const float* a, const float* b, std::size_t n) noexcept { return detail::cos_serial(a, b, n); }
inline float cos_f32_auto(const float* a, const float* b, std::size_t n) noexcept {
  return static_cast<float>(detail::cos_checked(detail::cos_auto(a, b, n), a, b, n));
}
inline double cos_bf16_serial(const bf16* a, const bf16* b, std::size_t n) noexcept { return detail::cos_serial(a, b, n); }
inline float cos_bf16_auto(const bf16* a, const bf16* b, std::size_t n) noexcept {
  return static_cast<float>(detail::cos_checked(detail::cos_auto(a, b, n), a, b, n));
}
inline double cos_f16_serial(const f16* a, const f16* b, std::size_t n) noexcept { return detail::cos_serial(a, b, n); }
inline float cos_f16_auto(const f16* a, const f16* b, std::size_t n) noexcept {
  return static_cast<float>(detail::cos_checked(detail::cos_auto(a, b, n), a, b, n));
}

// ---- probability kernels (natural log, nats) ----------------------------------------------------------
// Requires: p, q are probability vectors; for KL, q_i > 0 wherever p_i > 0. 0 log 0 = 0.
//   kl:  sum p_i log(p_i / q_i)
//   js:  (KL(p || m) + KL(q || m)) / 2, m = (p + q) / 2   (the divergence, in [0, log 2])
//   hellinger: sqrt(sum (sqrt p_i - sqrt q_i)^2 / 2)      (in [0, 1])
//   tv:  sum |p_i - q_i| / 2                              (in [0, 1])

inline double kl_f32_serial(const float* p, const float* q, std::size_t n) noexcept {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] > 0) s += double(p[i]) * (std::log(double(p[i])) - std::log(double(q[i])));
  return s;
}
inline float kl_f32_auto(const float* p, const float* q, std::size_t n) noexcept { return detail::kl_auto(p, q, n); }

inline double js_f32_serial(const float* p, const float* q, std::size_t n) noexcept {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = p[i], y = q[i], m = 0.5 * (x + y);
    if (x > 0) s += x * (std::log(x) - std::log(m));
    if (y > 0) s += y * (std::log(y) - std::log(m));
  }
  return std::max(0.0, 0.5 * s);
}
inline float js_f32_auto(const float* p, const float* q, std::size_t n) noexcept { return detail::js_auto(p, q, n); }

inline double hellinger_f32_serial(const float* p, const float* q, std::size_t n) noexcept {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = std::sqrt(double(p[i])) - std::sqrt(double(q[i]));
    s += d * d;
  }
  return std::min(1.0, std::sqrt(0.5 * s));
}
inline float hellinger_f32_auto(const float* p, const float* q, std::size_t n) noexcept { return detail::hellinger_auto(p, q, n); }

inline double tv_f32_serial(const float* p, const float* q, std::size_t n) noexcept {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += std::abs(double(p[i]) - double(q[i]));
  return std::min(1.0, 0.5 * s);
}
inline float tv_f32_auto(const float* p, const float* q, std::size_t n) noexcept { return detail::tv_auto(p, q, n); }

// ---- the per-ISA entry points, <metric>_<dtype>_<isa>: what *_auto dispatches to ---------------------------
#define SLOTDIFF_ISA_KERNELS(isa)                                                                          \
  inline float dot_f32_##isa(const float* a, const float* b, std::size_t n) noexcept {                     \
    return static_cast<float>(detail::dot_checked(detail::isa::dot(a, b, n), a, b, n));                    \
  }                                                                                                        \
  inline float dot_bf16_##isa(const bf16* a, const bf16* b, std::size_t n) noexcept {                     \
    return static_cast<float>(detail::dot_checked(detail::isa::dot(a, b, n), a, b, n));                    \
  }                                                                                                        \
  inline float dot_f16_##isa(const f16* a, const f16* b, std::size_t n) noexcept {                         \
    return static_cast<float>(detail::dot_checked(detail::isa::dot(a, b, n), a, b, n));                    \
  }                                                                                                        \
  inline float l2sq_f32_##isa(const float* a, const float* b, std::size_t n) noexcept {                    \
    return static_cast<float>(detail::l2sq_checked(detail::isa::l2sq(a, b, n), a, b, n));                  \
  }                                                                                                        \
  inline float l2sq_bf16_##isa(const bf16* a, const bf16* b, std::size_t n) noexcept {                    \
    return static_cast<float>(detail::l2sq_checked(detail::isa::l2sq(a, b, n), a, b, n));                  \
  }                                                                                                        \
  inline float l2sq_f16_##isa(const f16* a, const f16* b, std::size_t n) noexcept {                        \
    return static_cast<float>(detail::l2sq_checked(detail::isa::l2sq(a, b, n), a, b, n));                  \
  }                                                                                                        \
  inline float cos_f32_##isa(const float* a, const float* b, std::size_t n) noexcept {                     \
    return static_cast<float>(detail::cos_checked(detail::isa::cos(a, b, n), a, b, n));                   \
  }                                                                                                        \
  inline float cos_bf16_##isa(const bf16* a, const bf16* b, std::size_t n) noexcept {                      \
    return static_cast<float>(detail::cos_checked(detail::isa::cos(a, b, n), a, b, n));                   \
  }                                                                                                        \
  inline float cos_f16_##isa(const f16* a, const f16* b, std::size_t n) noexcept {                         \
    return static_cast<float>(detail::cos_checked(detail::isa::cos(a, b, n), a, b, n));                   \
  }                                                                                                        \
  inline float kl_f32_##isa(const float* p, const float* q, std::size_t n) noexcept {                      \
    return detail::isa::kl(p, q, n);                                                                       \
  }                                                                                                        \
  inline float js_f32_##isa(const float* p, const float* q, std::size_t n) noexcept {                      \
    return std::max(0.0f, 0.5f * detail::isa::js(p, q, n));                                                \
  }                                                                                                        \
  inline float hellinger_f32_##isa(const float* p, const float* q, std::size_t n) noexcept {               \
    return std::min(1.0f, std::sqrt(0.5f * detail::isa::hellinger(p, q, n)));                              \
  }                                                                                                        \
  inline float tv_f32_##isa(const float* p, const float* q, std::size_t n) noexcept {                      \
    return std::min(1.0f, 0.5f * detail::isa::tv(p, q, n));                                                \
  }
SLOTDIFF_ISA_KERNELS(portable)
#if SLOTDIFF_SIMD_X86
SLOTDIFF_ISA_KERNELS(avx2)
SLOTDIFF_ISA_KERNELS(avx512)
#endif
#undef SLOTDIFF_ISA_KERNELS

}  // namespace slotdiff
