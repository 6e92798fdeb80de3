// slotdiff/metrics/kernels.hpp: the raw distance kernels, SimSIMD style: <metric>_<dtype>_<isa>.
//
// Two paths per metric:
//   *_serial  the reference: one element at a time, accumulates in double, calls std::log/std::sqrt.
//             It is the oracle the tests hold the fast path to.
//   *_auto    SIMD through the compiler's generic vectors (detail/simd.hpp): 8-lane float vectors,
//             2-4 independent accumulators, a polynomial log; lowered to whatever ISA the translation
//             unit is compiled for (the release preset: -march=native, e.g. AVX2+FMA). Compilers
//             without the vector extension get plain loops. Lanes are reduced in a fixed order.
//
// The kernels do NO validation (they are what the metric objects in vector.hpp / probability.hpp call
// after checking): Requires a and b point to n readable elements each. Complexity: O(n).
// dtypes: f32, and bf16 / f16 (widened to float on load) for the vector kernels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "slotdiff/metrics/detail/fast_math.hpp"
#include "slotdiff/metrics/detail/simd.hpp"
#include "slotdiff/metrics/half.hpp"

#if defined(__GNUC__) || defined(__clang__)
#define SLOTDIFF_RESTRICT __restrict__
#else
#define SLOTDIFF_RESTRICT
#endif

namespace slotdiff {

/// Which implementation a metric object runs; tests force each one.
enum class kernel_path { fast, serial };

namespace detail {

// ---- the fast bodies: generic vectors where the compiler has them (see detail/simd.hpp) ----------------

template <class T>
inline float dot_auto(const T* SLOTDIFF_RESTRICT a, const T* SLOTDIFF_RESTRICT b, std::size_t n) noexcept {
  std::size_t i = 0;
  float s = 0;
#if SLOTDIFF_VECTOR_EXT
  using namespace simd;
  vf acc[4] = {};  // 4 independent chains hide the FMA latency
  for (; i + 4 * FL <= n; i += 4 * FL)
    for (std::size_t k = 0; k < 4; ++k) acc[k] += load(a + i + FL * k) * load(b + i + FL * k);
  for (; i + FL <= n; i += FL) acc[0] += load(a + i) * load(b + i);
  s = hsum((acc[0] + acc[1]) + (acc[2] + acc[3]));
#endif
  for (; i < n; ++i) s += to_float(a[i]) * to_float(b[i]);
  return s;
}

template <class T>
inline float l2sq_auto(const T* SLOTDIFF_RESTRICT a, const T* SLOTDIFF_RESTRICT b, std::size_t n) noexcept {
  std::size_t i = 0;
  float s = 0;
#if SLOTDIFF_VECTOR_EXT
  using namespace simd;
  vf acc[4] = {};
  for (; i + 4 * FL <= n; i += 4 * FL)
    for (std::size_t k = 0; k < 4; ++k) {
      const vf d = load(a + i + FL * k) - load(b + i + FL * k);
      acc[k] += d * d;
    }
  for (; i + FL <= n; i += FL) {
    const vf d = load(a + i) - load(b + i);
    acc[0] += d * d;
  }
  s = hsum((acc[0] + acc[1]) + (acc[2] + acc[3]));
#endif
  for (; i < n; ++i) {
    const float d = to_float(a[i]) - to_float(b[i]);
    s += d * d;
  }
  return s;
}

struct cos_parts {
  float ab, aa, bb;
};

template <class T>
inline cos_parts cos_auto(const T* SLOTDIFF_RESTRICT a, const T* SLOTDIFF_RESTRICT b, std::size_t n) noexcept {
  std::size_t i = 0;
  cos_parts r{0, 0, 0};
#if SLOTDIFF_VECTOR_EXT
  using namespace simd;
  vf ab[2] = {}, aa[2] = {}, bb[2] = {};
  for (; i + 2 * FL <= n; i += 2 * FL)
    for (std::size_t k = 0; k < 2; ++k) {
      const vf x = load(a + i + FL * k), y = load(b + i + FL * k);
      ab[k] += x * y;
      aa[k] += x * x;
      bb[k] += y * y;
    }
  for (; i + FL <= n; i += FL) {
    const vf x = load(a + i), y = load(b + i);
    ab[0] += x * y;
    aa[0] += x * x;
    bb[0] += y * y;
  }
  r = {hsum(ab[0] + ab[1]), hsum(aa[0] + aa[1]), hsum(bb[0] + bb[1])};
#endif
  for (; i < n; ++i) {
    const float x = to_float(a[i]), y = to_float(b[i]);
    r.ab += x * y;
    r.aa += x * x;
    r.bb += y * y;
  }
  return r;
}

// Smallest normal float: the fast log's domain. Probabilities below it are read as it (a relative
// change below 1e-38 of the mass is invisible in float32 sums anyway).
inline constexpr float log_floor = 1.17549435e-38f;

inline float kl_term(float x, float y) noexcept {
  return x > 0 ? x * (fast_logf(std::max(x, log_floor)) - fast_logf(std::max(y, log_floor))) : 0.0f;
}
inline float js_term(float x, float y) noexcept {
  const float lm = fast_logf(std::max(0.5f * (x + y), log_floor));
  return (x > 0 ? x * (fast_logf(std::max(x, log_floor)) - lm) : 0.0f) +
         (y > 0 ? y * (fast_logf(std::max(y, log_floor)) - lm) : 0.0f);
}

inline float kl_auto(const float* SLOTDIFF_RESTRICT p, const float* SLOTDIFF_RESTRICT q, std::size_t n) noexcept {
  std::size_t i = 0;
  float s = 0;
#if SLOTDIFF_VECTOR_EXT
  using namespace simd;
  const vf lo = splat(log_floor), zero{};
  vf acc[2] = {};
  for (; i + 2 * FL <= n; i += 2 * FL)
    for (std::size_t k = 0; k < 2; ++k) {
      const vf x = load(p + i + FL * k), y = load(q + i + FL * k);
      const vf t = x * (log(max(x, lo)) - log(max(y, lo)));
      acc[k] += x > zero ? t : zero;
    }
  s = hsum(acc[0] + acc[1]);
#endif
  for (; i < n; ++i) s += kl_term(p[i], q[i]);
  return s;
}

inline float js_auto(const float* SLOTDIFF_RESTRICT p, const float* SLOTDIFF_RESTRICT q, std::size_t n) noexcept {
  std::size_t i = 0;
  float s = 0;
#if SLOTDIFF_VECTOR_EXT
  using namespace simd;
  const vf lo = splat(log_floor), zero{};
  vf acc[2] = {};
  for (; i + 2 * FL <= n; i += 2 * FL)
    for (std::size_t k = 0; k < 2; ++k) {
      const vf x = load(p + i + FL * k), y = load(q + i + FL * k);
      const vf lm = log(max(0.5f * (x + y), lo));
      const vf tx = x * (log(max(x, lo)) - lm);
      const vf ty = y * (log(max(y, lo)) - lm);
      acc[k] += (x > zero ? tx : zero) + (y > zero ? ty : zero);
    }
  s = hsum(acc[0] + acc[1]);
#endif
  for (; i < n; ++i) s += js_term(p[i], q[i]);
  return std::max(0.0f, 0.5f * s);
}

inline float hellinger_auto(const float* SLOTDIFF_RESTRICT p, const float* SLOTDIFF_RESTRICT q, std::size_t n) noexcept {
  std::size_t i = 0;
  float s = 0;
#if SLOTDIFF_VECTOR_EXT
  using namespace simd;
  vf acc[2] = {};
  for (; i + 2 * FL <= n; i += 2 * FL)
    for (std::size_t k = 0; k < 2; ++k) {
      const vf d = sqrt(load(p + i + FL * k)) - sqrt(load(q + i + FL * k));
      acc[k] += d * d;
    }
  s = hsum(acc[0] + acc[1]);
#endif
  for (; i < n; ++i) {
    const float d = std::sqrt(p[i]) - std::sqrt(q[i]);
    s += d * d;
  }
  return std::min(1.0f, std::sqrt(0.5f * s));
}

inline float tv_auto(const float* SLOTDIFF_RESTRICT p, const float* SLOTDIFF_RESTRICT q, std::size_t n) noexcept {
  std::size_t i = 0;
  float s = 0;
#if SLOTDIFF_VECTOR_EXT
  using namespace simd;
  vf acc[4] = {};
  for (; i + 4 * FL <= n; i += 4 * FL)
    for (std::size_t k = 0; k < 4; ++k) acc[k] += abs(load(p + i + FL * k) - load(q + i + FL * k));
  s = hsum((acc[0] + acc[1]) + (acc[2] + acc[3]));
#endif
  for (; i < n; ++i) s += std::abs(p[i] - q[i]);
  return std::min(1.0f, 0.5f * s);
}


/// 1 - ab / sqrt(aa bb), with the documented zero-vector convention: both zero -> 0, one zero -> 1.
/// Clamped to [0, 2]: rounding can step just outside, the true value cannot.
inline double cosine_from_parts(double ab, double aa, double bb) noexcept {
  if (aa == 0 && bb == 0) return 0.0;
  if (aa == 0 || bb == 0) return 1.0;
  const double d = 1.0 - ab / std::sqrt(aa * bb);
  return std::clamp(d, 0.0, 2.0);
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
inline float dot_f32_auto(const float* a, const float* b, std::size_t n) noexcept { return detail::dot_auto(a, b, n); }
inline double dot_bf16_serial(const bf16* a, const bf16* b, std::size_t n) noexcept { return detail::dot_serial(a, b, n); }
inline float dot_bf16_auto(const bf16* a, const bf16* b, std::size_t n) noexcept { return detail::dot_auto(a, b, n); }
inline double dot_f16_serial(const f16* a, const f16* b, std::size_t n) noexcept { return detail::dot_serial(a, b, n); }
inline float dot_f16_auto(const f16* a, const f16* b, std::size_t n) noexcept { return detail::dot_auto(a, b, n); }

inline double l2sq_f32_serial(const float* a, const float* b, std::size_t n) noexcept { return detail::l2sq_serial(a, b, n); }
inline float l2sq_f32_auto(const float* a, const float* b, std::size_t n) noexcept { return detail::l2sq_auto(a, b, n); }
inline double l2sq_bf16_serial(const bf16* a, const bf16* b, std::size_t n) noexcept { return detail::l2sq_serial(a, b, n); }
inline float l2sq_bf16_auto(const bf16* a, const bf16* b, std::size_t n) noexcept { return detail::l2sq_auto(a, b, n); }
inline double l2sq_f16_serial(const f16* a, const f16* b, std::size_t n) noexcept { return detail::l2sq_serial(a, b, n); }
inline float l2sq_f16_auto(const f16* a, const f16* b, std::size_t n) noexcept { return detail::l2sq_auto(a, b, n); }

inline double cos_f32_serial(const float* a, const float* b, std::size_t n) noexcept { return detail::cos_serial(a, b, n); }
inline float cos_f32_auto(const float* a, const float* b, std::size_t n) noexcept {
  const auto p = detail::cos_auto(a, b, n);
  return static_cast<float>(detail::cosine_from_parts(p.ab, p.aa, p.bb));
}
inline double cos_bf16_serial(const bf16* a, const bf16* b, std::size_t n) noexcept { return detail::cos_serial(a, b, n); }
inline float cos_bf16_auto(const bf16* a, const bf16* b, std::size_t n) noexcept {
  const auto p = detail::cos_auto(a, b, n);
  return static_cast<float>(detail::cosine_from_parts(p.ab, p.aa, p.bb));
}
inline double cos_f16_serial(const f16* a, const f16* b, std::size_t n) noexcept { return detail::cos_serial(a, b, n); }
inline float cos_f16_auto(const f16* a, const f16* b, std::size_t n) noexcept {
  const auto p = detail::cos_auto(a, b, n);
  return static_cast<float>(detail::cosine_from_parts(p.ab, p.aa, p.bb));
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

}  // namespace slotdiff
