// slotdiff/metrics/detail/simd_body.hpp: the fast kernels' bodies, written once for any vector width.
//
// kernels.hpp includes this file once per instruction set, inside that ISA's target region, with
//   SLOTDIFF_SIMD_NS     the namespace of the copy (portable, avx2, avx512)
//   SLOTDIFF_SIMD_BYTES  the vector width in bytes (16, 32, 64)
// so there is no include guard. Everything below calls compiler builtins or functions defined here
// only: GCC and Clang do not inline a function compiled for another target (std::max, std::bit_cast,
// the scalar helpers of fast_math.hpp), and an always_inline one would not compile.
//
// Shapes: every kernel reads n elements from each pointer (n may be 0) and does no validation; the
// last n mod lanes elements are loaded into a zero-padded vector (zeros add nothing to any sum here).
// Lanes are reduced in a fixed order. Complexity: O(n) (gram: O(rows_a rows_b d)).
#if !defined(SLOTDIFF_SIMD_NS)
#include "slotdiff/metrics/kernels.hpp"  // on its own (a header check): kernels.hpp includes it properly
#else

namespace slotdiff::detail::SLOTDIFF_SIMD_NS {

#define SLOTDIFF_SIMD_INLINE [[gnu::always_inline]] inline

inline constexpr std::size_t FL = SLOTDIFF_SIMD_BYTES / 4;  ///< float lanes
inline constexpr std::size_t DL = SLOTDIFF_SIMD_BYTES / 8;  ///< double lanes

typedef float vf __attribute__((vector_size(SLOTDIFF_SIMD_BYTES)));
typedef std::int32_t vi __attribute__((vector_size(SLOTDIFF_SIMD_BYTES)));
typedef std::uint32_t vu __attribute__((vector_size(SLOTDIFF_SIMD_BYTES)));
typedef std::uint16_t vh __attribute__((vector_size(SLOTDIFF_SIMD_BYTES / 2)));
typedef double vd __attribute__((vector_size(SLOTDIFF_SIMD_BYTES)));
typedef std::int64_t vl __attribute__((vector_size(SLOTDIFF_SIMD_BYTES)));

SLOTDIFF_SIMD_INLINE vf splat(float f) noexcept { return vf{} + f; }
SLOTDIFF_SIMD_INLINE vd splat(double f) noexcept { return vd{} + f; }

SLOTDIFF_SIMD_INLINE vf load(const float* p) noexcept {
  vf x;
  __builtin_memcpy(&x, p, sizeof x);
  return x;
}
SLOTDIFF_SIMD_INLINE vf load(const bf16* p) noexcept {
  vh h;
  __builtin_memcpy(&h, p, sizeof h);
  return __builtin_bit_cast(vf, __builtin_convertvector(h, vu) << 16);
}
/// f16 widening, F. Giesen's magic-multiply form (exact, branch-free; see half.hpp).
SLOTDIFF_SIMD_INLINE vf load(const f16* p) noexcept {
  vh raw;
  __builtin_memcpy(&raw, p, sizeof raw);
  const vu h = __builtin_convertvector(raw, vu);
  const vu sign = (h & 0x8000u) << 16;
  vu o = (h & 0x7fffu) << 13;
  const vu exp = o & 0x0f800000u;
  o += static_cast<std::uint32_t>(127 - 15) << 23;
  const vf denorm = __builtin_bit_cast(vf, o + (1u << 23)) - splat(__builtin_bit_cast(float, 113u << 23));
  o = exp == 0x0f800000u ? o + (static_cast<std::uint32_t>(128 - 16) << 23) : o;
  o = exp == 0u ? __builtin_bit_cast(vu, denorm) : o;
  return __builtin_bit_cast(vf, o | sign);
}
SLOTDIFF_SIMD_INLINE vd load(const double* p) noexcept {
  vd x;
  __builtin_memcpy(&x, p, sizeof x);
  return x;
}
/// The first r < lanes elements at p, the other lanes zero.
template <class T, class V = decltype(load(static_cast<const T*>(nullptr)))>
SLOTDIFF_SIMD_INLINE V load_part(const T* p, std::size_t r) noexcept {
  alignas(SLOTDIFF_SIMD_BYTES) unsigned char buf[SLOTDIFF_SIMD_BYTES] = {};
  __builtin_memcpy(buf, p, r * sizeof(T));
  return load(reinterpret_cast<const T*>(buf));
}

/// Lanes summed in a fixed order (pairwise halving).
SLOTDIFF_SIMD_INLINE float hsum(vf v) noexcept {
  for (std::size_t w = FL / 2; w > 0; w /= 2)
    for (std::size_t j = 0; j < w; ++j) v[j] += v[j + w];
  return v[0];
}
SLOTDIFF_SIMD_INLINE double hsum(vd v) noexcept {
  for (std::size_t w = DL / 2; w > 0; w /= 2)
    for (std::size_t j = 0; j < w; ++j) v[j] += v[j + w];
  return v[0];
}

SLOTDIFF_SIMD_INLINE vf abs(vf x) noexcept { return __builtin_bit_cast(vf, __builtin_bit_cast(vu, x) & 0x7fffffffu); }
SLOTDIFF_SIMD_INLINE vf max(vf a, vf b) noexcept { return a > b ? a : b; }

/// sqrt per lane with the ISA's vector square root. Requires lanes >= 0 (the callers validate).
SLOTDIFF_SIMD_INLINE vf sqrt(vf x) noexcept {
#if defined(__x86_64__) && SLOTDIFF_SIMD_BYTES == 64 && defined(__clang__)
  return __builtin_ia32_sqrtps512(x, 4);  // 4: _MM_FROUND_CUR_DIRECTION
#elif defined(__x86_64__) && SLOTDIFF_SIMD_BYTES == 64
  return __builtin_ia32_sqrtps512_mask(x, x, static_cast<unsigned short>(0xffff), 4);
#elif defined(__x86_64__) && SLOTDIFF_SIMD_BYTES == 32
  return __builtin_ia32_sqrtps256(x);
#elif defined(__x86_64__)
  return __builtin_ia32_sqrtps(x);
#else
  vf r = x;
  for (std::size_t i = 0; i < FL; ++i) r[i] = __builtin_sqrtf(x[i]);
  return r;
#endif
}

/// Natural log, Cephes logf (fast_math.hpp's SLOTDIFF_CEPHES_LOGF, |error| <= 2 ulp).
/// Requires lanes normal and positive (callers clamp to FLT_MIN first).
SLOTDIFF_SIMD_INLINE vf log(vf x) noexcept {
  vi u = __builtin_bit_cast(vi, x);
  vi e = ((u >> 23) & 0xff) - 126;
  u = (u & 0x807fffff) | 0x3f000000;  // mantissa in [0.5, 1)
  vf m = __builtin_bit_cast(vf, u);
  const vi small = m < 0.70710678118f;  // -1 where true
  e = e + small;
  m = small ? m + m - 1.0f : m - 1.0f;
  const vf ef = __builtin_convertvector(e, vf);
  vf r;
  SLOTDIFF_CEPHES_LOGF(vf, m, ef, r);
  return r;
}

/// e^x in double, Cephes exp (fast_math.hpp's SLOTDIFF_CEPHES_EXP_REDUCED, about 1 ulp); inputs clamped
/// to [-708, 709].
SLOTDIFF_SIMD_INLINE vd exp(vd x) noexcept {
  x = x < -708.0 ? splat(-708.0) : x;
  x = x > 709.0 ? splat(709.0) : x;
  const vd t = x * 1.4426950408889634;
  const vd n = __builtin_convertvector(__builtin_convertvector(t + (t >= 0.0 ? splat(0.5) : splat(-0.5)), vl), vd);
  vd e;
  SLOTDIFF_CEPHES_EXP_REDUCED(vd, x, n, e);
  const vl bits = (__builtin_convertvector(n, vl) + 1023) << 52;
  return e * __builtin_bit_cast(vd, bits);
}

// ---- vector kernels (dtype T: float, bf16, f16; widened to float on load) --------------------------------

/// sum a_i b_i, 4 independent accumulators (they hide the FMA latency).
template <class T>
inline float dot(const T* a, const T* b, std::size_t n) noexcept {
  vf acc[4] = {};
  std::size_t i = 0;
  for (; i + 4 * FL <= n; i += 4 * FL)
    for (std::size_t k = 0; k < 4; ++k) acc[k] += load(a + i + FL * k) * load(b + i + FL * k);
  for (; i + FL <= n; i += FL) acc[0] += load(a + i) * load(b + i);
  if (i < n) acc[1] += load_part(a + i, n - i) * load_part(b + i, n - i);
  return hsum((acc[0] + acc[1]) + (acc[2] + acc[3]));
}

/// sum (a_i - b_i)^2
template <class T>
inline float l2sq(const T* a, const T* b, std::size_t n) noexcept {
  vf acc[4] = {};
  std::size_t i = 0;
  for (; i + 4 * FL <= n; i += 4 * FL)
    for (std::size_t k = 0; k < 4; ++k) {
      const vf d = load(a + i + FL * k) - load(b + i + FL * k);
      acc[k] += d * d;
    }
  for (; i + FL <= n; i += FL) {
    const vf d = load(a + i) - load(b + i);
    acc[0] += d * d;
  }
  if (i < n) {
    const vf d = load_part(a + i, n - i) - load_part(b + i, n - i);
    acc[1] += d * d;
  }
  return hsum((acc[0] + acc[1]) + (acc[2] + acc[3]));
}

/// a.b, a.a and b.b in one pass.
template <class T>
inline cos_parts cos(const T* a, const T* b, std::size_t n) noexcept {
  vf ab[2] = {}, aa[2] = {}, bb[2] = {};
  std::size_t i = 0;
  for (; i + 2 * FL <= n; i += 2 * FL)
    for (std::size_t k = 0; k < 2; ++k) {
      const vf x = load(a + i + FL * k), y = load(b + i + FL * k);
      ab[k] += x * y;
      aa[k] += x * x;
      bb[k] += y * y;
    }
  for (; i < n; i += FL) {
    const vf x = i + FL <= n ? load(a + i) : load_part(a + i, n - i);
    const vf y = i + FL <= n ? load(b + i) : load_part(b + i, n - i);
    ab[0] += x * y;
    aa[0] += x * x;
    bb[0] += y * y;
  }
  return {hsum(ab[0] + ab[1]), hsum(aa[0] + aa[1]), hsum(bb[0] + bb[1])};
}

// ---- probability kernels (f32; the callers finish: clamp, halve, take the root) ----------------------------

/// The smallest normal float, the polynomial log's domain (log_nonneg scales subnormals into it).
inline constexpr float log_floor = 1.17549435e-38f;

/// log per lane for lanes >= 0, subnormals read exactly (scaled by 2^23, then 23 ln 2 taken off);
/// 0 gives log(2^-149), which the callers mask out.
SLOTDIFF_SIMD_INLINE vf log_nonneg(vf x) noexcept {
  const vf lo = splat(log_floor);
  const vi sub = x < lo;
  const vf y = max(sub ? x * 8388608.0f : x, lo);
  return log(y) - (sub ? splat(15.9423851528f) : vf{});
}
SLOTDIFF_SIMD_INLINE vf kl_lanes(vf x, vf y) noexcept {
  const vf zero{};
  const vf t = x * (log_nonneg(x) - log_nonneg(y));
  return x > zero ? t : zero;
}
SLOTDIFF_SIMD_INLINE vf js_lanes(vf x, vf y) noexcept {
  const vf zero{};
  const vf lm = log_nonneg(0.5f * (x + y));
  const vf tx = x * (log_nonneg(x) - lm);
  const vf ty = y * (log_nonneg(y) - lm);
  return (x > zero ? tx : zero) + (y > zero ? ty : zero);
}
SLOTDIFF_SIMD_INLINE vf hellinger_lanes(vf x, vf y) noexcept {
  const vf d = sqrt(x) - sqrt(y);
  return d * d;
}
SLOTDIFF_SIMD_INLINE vf tv_lanes(vf x, vf y) noexcept { return abs(x - y); }

#define SLOTDIFF_SIMD_PROBABILITY_KERNEL(name)                                              \
  inline float name(const float* p, const float* q, std::size_t n) noexcept {              \
    vf acc[2] = {};                                                                         \
    std::size_t i = 0;                                                                      \
    for (; i + 2 * FL <= n; i += 2 * FL)                                                    \
      for (std::size_t k = 0; k < 2; ++k) acc[k] += name##_lanes(load(p + i + FL * k), load(q + i + FL * k)); \
    for (; i + FL <= n; i += FL) acc[0] += name##_lanes(load(p + i), load(q + i));          \
    if (i < n) acc[1] += name##_lanes(load_part(p + i, n - i), load_part(q + i, n - i));    \
    return hsum(acc[0] + acc[1]);                                                           \
  }
/// sum p_i log(p_i / q_i) over p_i > 0
SLOTDIFF_SIMD_PROBABILITY_KERNEL(kl)
/// sum p_i log(p_i / m_i) + q_i log(q_i / m_i), m = (p + q) / 2 (twice the JS divergence)
SLOTDIFF_SIMD_PROBABILITY_KERNEL(js)
/// sum (sqrt p_i - sqrt q_i)^2
SLOTDIFF_SIMD_PROBABILITY_KERNEL(hellinger)
/// sum |p_i - q_i|
SLOTDIFF_SIMD_PROBABILITY_KERNEL(tv)
#undef SLOTDIFF_SIMD_PROBABILITY_KERNEL

// ---- blocked kernels of metrics/batch.hpp and metrics/transport.hpp --------------------------------------

/// out[i * ldo + j] = a_i . b_j for the rows of a (ra x d) and b (rb x d), row-major: 4 x 2 register
/// blocks, then single dots for the rows left over.
inline void gram(const float* a, std::size_t ra, const float* b, std::size_t rb, std::size_t d, float* out,
                 std::size_t ldo) noexcept {
  const std::size_t dv = d - d % FL;
  std::size_t i = 0;
  for (; i + 4 <= ra; i += 4) {
    const float* x[4] = {a + i * d, a + (i + 1) * d, a + (i + 2) * d, a + (i + 3) * d};
    std::size_t j = 0;
    for (; j + 2 <= rb; j += 2) {
      const float* y[2] = {b + j * d, b + (j + 1) * d};
      vf acc[4][2] = {};
      for (std::size_t k = 0; k < dv; k += FL) {
        const vf v0 = load(y[0] + k), v1 = load(y[1] + k);
        for (std::size_t r = 0; r < 4; ++r) {
          const vf u = load(x[r] + k);
          acc[r][0] += u * v0;
          acc[r][1] += u * v1;
        }
      }
      if (dv < d) {
        const vf v0 = load_part(y[0] + dv, d - dv), v1 = load_part(y[1] + dv, d - dv);
        for (std::size_t r = 0; r < 4; ++r) {
          const vf u = load_part(x[r] + dv, d - dv);
          acc[r][0] += u * v0;
          acc[r][1] += u * v1;
        }
      }
      for (std::size_t r = 0; r < 4; ++r)
        for (std::size_t c = 0; c < 2; ++c) out[(i + r) * ldo + j + c] = hsum(acc[r][c]);
    }
    for (; j < rb; ++j)
      for (std::size_t r = 0; r < 4; ++r) out[(i + r) * ldo + j] = dot(x[r], b + j * d, d);
  }
  for (; i < ra; ++i)
    for (std::size_t j = 0; j < rb; ++j) out[i * ldo + j] = dot(a + i * d, b + j * d, d);
}

/// out_j = exp((f + g_j - c_j) * inv) for j < m (a row of the Sinkhorn kernel).
inline void exp_row(double f, const double* g, const double* c, double inv, double* out, std::size_t m) noexcept {
  std::size_t j = 0;
  for (; j + DL <= m; j += DL) {
    const vd e = exp((f + load(g + j) - load(c + j)) * inv);
    __builtin_memcpy(out + j, &e, sizeof e);
  }
  if (j < m) {
    const vd e = exp((f + load_part(g + j, m - j) - load_part(c + j, m - j)) * inv);
    __builtin_memcpy(out + j, &e, (m - j) * sizeof(double));
  }
}

/// sum a_i b_i in double, 2 accumulators.
inline double dot_f64(const double* a, const double* b, std::size_t n) noexcept {
  vd acc[2] = {};
  std::size_t i = 0;
  for (; i + 2 * DL <= n; i += 2 * DL) {
    acc[0] += load(a + i) * load(b + i);
    acc[1] += load(a + i + DL) * load(b + i + DL);
  }
  for (; i + DL <= n; i += DL) acc[0] += load(a + i) * load(b + i);
  if (i < n) acc[1] += load_part(a + i, n - i) * load_part(b + i, n - i);
  return hsum(acc[0] + acc[1]);
}

#undef SLOTDIFF_SIMD_INLINE

}  // namespace slotdiff::detail::SLOTDIFF_SIMD_NS

#endif
