// Every fast kernel against its serial twin over the whole float range, on every SIMD path this CPU
// supports: tiny (products underflow), huge (products overflow float), mixed magnitudes (exponents
// drawn from all of float's), subnormal probabilities, NaN, inf and empty inputs. The bound each check
// uses is the kernel's own rounding bound computed from the data (n 2^-24 of the sum of |terms|), so a
// result off by underflow or overflow (0 for 1, inf for a finite value) cannot pass. Issue 15, item 7.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "random.hpp"
#include "slotdiff/metrics/batch.hpp"
#include "slotdiff/metrics/kernels.hpp"
#include "slotdiff/metrics/mahalanobis.hpp"
#include "slotdiff/metrics/metrics.hpp"

using namespace slotdiff;

namespace {

constexpr double eps32 = 0x1p-24;
constexpr float nan32 = std::numeric_limits<float>::quiet_NaN();
constexpr float inf32 = std::numeric_limits<float>::infinity();

struct path_kernels {
  simd_isa isa;
  float (*dot)(const float*, const float*, std::size_t);
  float (*l2sq)(const float*, const float*, std::size_t);
  float (*cos)(const float*, const float*, std::size_t);
  float (*dot_bf16)(const bf16*, const bf16*, std::size_t);
  float (*l2sq_bf16)(const bf16*, const bf16*, std::size_t);
  float (*cos_bf16)(const bf16*, const bf16*, std::size_t);
  float (*kl)(const float*, const float*, std::size_t);
  float (*js)(const float*, const float*, std::size_t);
  float (*hellinger)(const float*, const float*, std::size_t);
  float (*tv)(const float*, const float*, std::size_t);
};
#define SLOTDIFF_RANGE_ISA(isa)                                                                              \
  path_kernels {                                                                                             \
    simd_isa::isa, dot_f32_##isa, l2sq_f32_##isa, cos_f32_##isa, dot_bf16_##isa, l2sq_bf16_##isa,            \
        cos_bf16_##isa, kl_f32_##isa, js_f32_##isa, hellinger_f32_##isa, tv_f32_##isa                        \
  }

/// The named per-ISA kernels the CPU can run, then the dispatched *_auto ones under each forced ISA.
std::vector<path_kernels> paths() {
  std::vector<path_kernels> all{SLOTDIFF_RANGE_ISA(portable)};
#if SLOTDIFF_SIMD_X86
  all.push_back(SLOTDIFF_RANGE_ISA(avx2));
  all.push_back(SLOTDIFF_RANGE_ISA(avx512));
#endif
  std::vector<path_kernels> run;
  for (const auto& k : all)
    if (static_cast<int>(k.isa) <= static_cast<int>(cpu_simd_isa())) run.push_back(k);
  return run;
}

struct forced_isa {
  simd_isa before;
  explicit forced_isa(simd_isa isa) : before(use_simd_isa(isa)) {}
  ~forced_isa() { use_simd_isa(before); }
};

/// Elements of one magnitude (scale * N(0, 1)), or, with scale 0, of every magnitude: a random sign,
/// an exponent uniform over float's (subnormals included), zeros now and then.
std::vector<float> draw(std::mt19937_64& g, std::size_t n, float scale) {
  std::normal_distribution<float> nd;
  std::uniform_int_distribution<int> ex(-149, 126), z(0, 9);
  std::uniform_real_distribution<float> mant(1.0f, 2.0f);
  std::vector<float> v(n);
  for (auto& x : v) {
    if (scale != 0) x = scale * nd(g);
    else x = z(g) == 0 ? 0.0f : std::ldexp(mant(g), ex(g)) * (z(g) < 5 ? -1.0f : 1.0f);
  }
  return v;
}

/// |fast - serial| within the kernel's rounding bound (both as float, as the kernels return).
bool agrees(float fast, double serial, double bound) {
  const float s = static_cast<float>(serial);
  if (std::isnan(s)) return std::isnan(fast);
  if (std::isinf(s)) return fast == s;
  return std::isfinite(fast) && std::abs(double(fast) - double(s)) <= bound + eps32 * std::abs(double(s));
}

double abs_products(const float* a, const float* b, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += std::abs(double(a[i]) * double(b[i]));
  return s;
}

const std::size_t lengths[] = {1, 2, 3, 7, 8, 16, 17, 33, 64, 65, 300, 1027};
const float scales[] = {1e-38f, 1e-30f, 1e-23f, 1e-20f, 1e-10f, 1.0f, 1e10f, 1e19f, 1e20f, 1e25f, 1e37f, 0.0f};

void check_vector_kernels(const path_kernels& k, const std::vector<float>& a, const std::vector<float>& b) {
  const std::size_t n = a.size();
  const double nn = static_cast<double>(n) + 4;
  const double under = nn * 0x1p-126;
  CHECK(agrees(k.dot(a.data(), b.data(), n), dot_f32_serial(a.data(), b.data(), n),
               nn * eps32 * abs_products(a.data(), b.data(), n) + under));
  const double l2 = l2sq_f32_serial(a.data(), b.data(), n);
  CHECK(agrees(k.l2sq(a.data(), b.data(), n), l2, 2 * nn * eps32 * l2 + under));
  CHECK(agrees(k.cos(a.data(), b.data(), n), cos_f32_serial(a.data(), b.data(), n), 4 * nn * eps32));
  // the metric objects: same value, or the same error, on both paths
  float f = 0, s = 0;
  bool ft = false, st = false;
  try { f = cosine_distance{}(a, b); } catch (const metric_error&) { ft = true; }
  try { s = cosine_distance{.path = kernel_path::serial}(a, b); } catch (const metric_error&) { st = true; }
  CHECK(ft == st);
  if (!ft && !st) CHECK(std::abs(f - s) <= 4 * nn * eps32);
  ft = st = false;
  try { f = euclidean_distance{}(a, b); } catch (const metric_error&) { ft = true; }
  try { s = euclidean_distance{.path = kernel_path::serial}(a, b); } catch (const metric_error&) { st = true; }
  CHECK(ft == st);
  if (!ft && !st) CHECK(std::abs(double(f) - double(s)) <= nn * eps32 * double(s) + std::sqrt(under));
}

}  // namespace

TEST_CASE("the issue's cases: underflowing norms and the clipped Mahalanobis step", "[metrics][simd][float-range]") {
  const std::vector<float> x{1e-23f, 0}, y{0, 1e-23f};
  for (const auto& k : paths()) {
    INFO("path " << simd_isa_name(k.isa));
    forced_isa f(k.isa);
    CHECK(k.cos(x.data(), y.data(), 2) == 1.0f);
    CHECK(cosine_distance{}(x, y) == 1.0f);
    CHECK(cosine_distance{}(x, x) == 0.0f);
    CHECK(cosine_distance{.path = kernel_path::serial}(x, y) == 1.0f);
    CHECK(euclidean_distance{}(x, y) == Approx(1.41421356e-23f).epsilon(1e-6));
    std::vector<float> out(4);
    const std::vector<float> rows{1e-23f, 0, 0, 1e-23f};
    many_vs_many(cosine_distance{}, matrix_view<const float>(rows.data(), 2, 2), matrix_view<const float>(rows.data(), 2, 2),
                 matrix_view<float>(out.data(), 2, 2));
    CHECK(out == std::vector<float>{0, 1, 1, 0});
    // huge: products overflow float, the cosine does not
    const std::vector<float> h{1e20f, 1e20f}, hm{1e20f, -1e20f};
    CHECK(k.cos(h.data(), hm.data(), 2) == Approx(1.0f).margin(1e-6));
    CHECK(k.dot(h.data(), hm.data(), 2) == 0.0f);  // inf - inf in float; 0 in double
    CHECK_THROWS_AS(squared_euclidean_distance{}(h, hm), metric_error);  // 4e40 does not fit a float
    CHECK_THROWS_AS(squared_euclidean_distance{.path = kernel_path::serial}(h, hm), metric_error);
  }
  // Mahalanobis: anchor (1e8, 1), closer (-2, -2), farther (-2, -1). G = 2 (u u^T - v v^T) has norm
  // 2.8e8; the inner-product formula read 0 and L moved by about 2e6. The clipped step moves L by at most
  // learning_rate * max_gradient_norm (t = 0).
  mahalanobis m(2);
  const std::vector<float> before(m.matrix().begin(), m.matrix().end());
  const double loss = m.update(std::vector<float>{1e8f, 1}, std::vector<float>{-2, -2}, std::vector<float>{-2, -1});
  CHECK(loss > 0);
  double moved = 0;
  for (std::size_t i = 0; i < 4; ++i) moved += double(m.matrix()[i] - before[i]) * double(m.matrix()[i] - before[i]);
  CHECK(std::sqrt(moved) <= 0.01 * 10.0 * (1 + 1e-6));
  CHECK(std::sqrt(moved) > 0.01 * 10.0 * 0.5);  // the step was taken, clipped
}

TEST_CASE("Mahalanobis updates never move L by more than the clipped step, at any magnitude", "[metrics][float-range]") {
  auto g = test::seeded_rng(151);
  for (const float scale : {1e-20f, 1e-3f, 1.0f, 1e4f, 1e8f, 1e15f, 0.0f}) {
    for (int trial = 0; trial < 20; ++trial) {
      INFO("scale " << scale << ", trial " << trial);
      const mahalanobis_options o{.learning_rate = 0.05, .decay = 0, .max_gradient_norm = 3.0};
      mahalanobis m(5, o);
      auto x = draw(g, 5, scale), p = draw(g, 5, scale), q = draw(g, 5, scale);
      if (scale == 0)  // mixed magnitudes 2^-60 .. 2^60, so that |L u|^2 fits a double
        for (auto* v : {&x, &p, &q})
          for (auto& e : *v) e = e == 0 ? 0.0f : std::ldexp(e < 0 ? -1.0f : 1.0f, std::ilogb(e) % 61);
      const std::vector<float> before(m.matrix().begin(), m.matrix().end());
      m.update(x, p, q);
      double moved = 0;
      for (std::size_t i = 0; i < before.size(); ++i) {
        const double d = double(m.matrix()[i]) - before[i];
        moved += d * d;
      }
      CHECK(std::sqrt(moved) <= 0.05 * 3.0 * (1 + 1e-5) + 1e-6);
      for (const float v : m.matrix()) CHECK(std::isfinite(v));
    }
  }
}

TEST_CASE("every SIMD path agrees with the serial twins over the whole float range", "[metrics][simd][float-range]") {
  auto g = test::seeded_rng(152);
  for (const auto& k : paths()) {
    INFO("path " << simd_isa_name(k.isa));
    forced_isa f(k.isa);
    SECTION(std::string("empty: ") + simd_isa_name(k.isa)) {
      const float* none = nullptr;
      CHECK(k.dot(none, none, 0) == 0.0f);
      CHECK(k.l2sq(none, none, 0) == 0.0f);
      CHECK(k.cos(none, none, 0) == 0.0f);
      CHECK(k.kl(none, none, 0) == 0.0f);
      CHECK(k.js(none, none, 0) == 0.0f);
      CHECK(dot_f32_auto(none, none, 0) == 0.0f);
      CHECK_THROWS_AS(cosine_distance{}(std::span<const float>{}, std::span<const float>{}), metric_error);
    }
    for (const float scale : scales)
      for (const std::size_t n : lengths) {
        INFO("scale " << scale << " (0: mixed magnitudes), n = " << n);
        const auto a = draw(g, n, scale);
        auto b = draw(g, n, scale);
        check_vector_kernels(k, a, b);
        // nearly parallel (cancellation in l2sq and cos) and mixed against one magnitude
        for (std::size_t i = 0; i < n; ++i) b[i] = a[i] * (1 + 1e-3f * static_cast<float>(i % 3));
        check_vector_kernels(k, a, b);
        check_vector_kernels(k, a, draw(g, n, 1.0f));
        // The dispatched kernels are the forced path's, fallback included.
        CHECK((std::isnan(cos_f32_auto(a.data(), b.data(), n)) || cos_f32_auto(a.data(), b.data(), n) == k.cos(a.data(), b.data(), n)));
        // bf16 has float's exponent range, so the same underflow and overflow
        std::vector<bf16> ah(n), bh(n);
        std::vector<float> aw(n), bw(n);
        for (std::size_t i = 0; i < n; ++i) {
          ah[i] = bf16::from_float(a[i]), bh[i] = bf16::from_float(b[i]);
          aw[i] = ah[i].to_float(), bw[i] = bh[i].to_float();
        }
        const double nn = static_cast<double>(n) + 4;
        CHECK(agrees(k.cos_bf16(ah.data(), bh.data(), n), cos_bf16_serial(ah.data(), bh.data(), n), 4 * nn * eps32));
        CHECK(agrees(k.dot_bf16(ah.data(), bh.data(), n), dot_bf16_serial(ah.data(), bh.data(), n),
                     nn * eps32 * abs_products(aw.data(), bw.data(), n) + nn * 0x1p-126));
        const double l2 = l2sq_bf16_serial(ah.data(), bh.data(), n);
        CHECK(agrees(k.l2sq_bf16(ah.data(), bh.data(), n), l2, 2 * nn * eps32 * l2 + nn * 0x1p-126));
      }
    SECTION(std::string("NaN and inf reach the result on both paths: ") + simd_isa_name(k.isa)) {
      for (const std::size_t n : {1, 9, 100})
        for (const float bad : {nan32, inf32, -inf32}) {
          auto a = draw(g, n, 1), b = draw(g, n, 1);
          a[n / 2] = bad;
          INFO("n " << n << ", a[" << n / 2 << "] = " << bad);
          CHECK_FALSE((std::isfinite(k.dot(a.data(), b.data(), n)) || std::isfinite(float(dot_f32_serial(a.data(), b.data(), n)))));
          CHECK(std::isnan(k.cos(a.data(), b.data(), n)) == std::isnan(cos_f32_serial(a.data(), b.data(), n)));
          for (const kernel_path p : {kernel_path::fast, kernel_path::serial}) {
            CHECK_THROWS_AS(cosine_distance{.path = p}(a, b), metric_error);
            CHECK_THROWS_AS(euclidean_distance{.path = p}(a, b), metric_error);
            CHECK_THROWS_AS(inner_product_distance{.path = p}(a, b), metric_error);
          }
        }
    }
  }
}

TEST_CASE("the probability kernels read subnormal probabilities as the serial twins do", "[metrics][simd][float-range]") {
  auto g = test::seeded_rng(153);
  std::uniform_int_distribution<int> ex(-149, -1), z(0, 4);
  std::uniform_real_distribution<float> mant(1.0f, 2.0f);
  for (const auto& k : paths()) {
    INFO("path " << simd_isa_name(k.isa));
    // q's second entry subnormal: KL = 0.5 log(0.5 / 1e-45) + ..., not capped at log(FLT_MIN)
    const std::vector<float> p{0.5f, 0.5f}, q{1.0f, 1e-45f};
    CHECK(k.kl(p.data(), q.data(), 2) == Approx(kl_f32_serial(p.data(), q.data(), 2)).epsilon(1e-5));
    for (const std::size_t n : lengths) {
      // every exponent, then normalised: many subnormal and zero entries
      std::vector<float> a(n), b(n);
      double sa = 0, sb = 0;
      for (std::size_t i = 0; i < n; ++i) {
        a[i] = z(g) == 0 ? 0.0f : std::ldexp(mant(g), ex(g));
        b[i] = std::ldexp(mant(g), ex(g));
        sa += a[i], sb += b[i];
      }
      for (auto& x : a) x = static_cast<float>(x / (sa > 0 ? sa : 1));
      for (auto& x : b) x = std::max(static_cast<float>(x / sb), 1e-45f);  // full support for KL
      INFO("n = " << n);
      const double nn = static_cast<double>(n) + 4;
      // absolute bounds: each term's log is good to a few ulp of |log| <= 104, times p_i, summed
      CHECK(std::abs(k.kl(a.data(), b.data(), n) - kl_f32_serial(a.data(), b.data(), n)) <= nn * 1e-5);
      CHECK(std::abs(k.js(a.data(), b.data(), n) - js_f32_serial(a.data(), b.data(), n)) <= nn * 1e-5);
      CHECK(std::abs(k.hellinger(a.data(), b.data(), n) - hellinger_f32_serial(a.data(), b.data(), n)) <= nn * 1e-6);
      CHECK(std::abs(k.tv(a.data(), b.data(), n) - tv_f32_serial(a.data(), b.data(), n)) <= nn * 1e-6);
    }
    // NaN in a probability: every metric object refuses it on both paths
    const std::vector<float> bad{0.5f, nan32}, good{0.5f, 0.5f};
    for (const kernel_path pth : {kernel_path::fast, kernel_path::serial}) {
      CHECK_THROWS_AS(kl_divergence{.path = pth}(bad, good), metric_error);
      CHECK_THROWS_AS(jensen_shannon_distance{.path = pth}(good, bad), metric_error);
      CHECK_THROWS_AS(hellinger_distance{.path = pth}(bad, good), metric_error);
      CHECK_THROWS_AS(total_variation_distance{.path = pth}(good, bad), metric_error);
    }
  }
}

TEST_CASE("many_vs_many's blocked path agrees with per-pair serial over the float range", "[metrics][float-range]") {
  auto g = test::seeded_rng(154);
  for (const float scale : {1e-30f, 1e-21f, 1.0f, 1e20f, 1e30f, 0.0f}) {
    INFO("scale " << scale);
    const std::size_t r = 6, d = 19;
    std::vector<float> a = draw(g, r * d, scale), b = draw(g, r * d, scale);
    if (scale == 0)  // every magnitude, but distances that still fit a float
      for (auto* v : {&a, &b})
        for (auto& e : *v) e = std::ldexp(e, -12);
    std::fill_n(a.begin(), d, 0.0f);  // a zero row
    std::vector<float> fast(r * r), serial(r * r);
    const matrix_view<const float> av(a.data(), r, d), bv(b.data(), r, d);
    many_vs_many(cosine_distance{}, av, bv, matrix_view<float>(fast.data(), r, r));
    many_vs_many(cosine_distance{.path = kernel_path::serial}, av, bv, matrix_view<float>(serial.data(), r, r));
    for (std::size_t i = 0; i < fast.size(); ++i) CHECK(std::abs(fast[i] - serial[i]) <= 1e-4f);
    many_vs_many(euclidean_distance{}, av, av, matrix_view<float>(fast.data(), r, r));
    many_vs_many(euclidean_distance{.path = kernel_path::serial}, av, av, matrix_view<float>(serial.data(), r, r));
    // the blocked |a|^2 + |b|^2 - 2 a.b has an absolute error of about 1e-3 |a| |b| (batch.hpp)
    const std::vector<float> zero(d, 0.0f);
    const euclidean_distance exact{.path = kernel_path::serial};
    for (std::size_t i = 0; i < r; ++i)
      for (std::size_t j = 0; j < r; ++j) {
        CHECK(std::isfinite(fast[i * r + j]));
        const double bound = 1e-3 * std::sqrt(double(exact(av.row(i), zero)) * double(exact(av.row(j), zero)));
        CHECK(std::abs(double(fast[i * r + j]) - double(serial[i * r + j])) <= bound + 1e-6 * double(serial[i * r + j]));
      }
  }
}
