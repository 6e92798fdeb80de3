// Fast kernels against their serial twins on random inputs of every length 1..300 (all tail shapes),
// and the building blocks (polynomial log/exp, 16-bit conversions) against the standard library.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "random.hpp"
#include "slotdiff/metrics/batch.hpp"
#include "slotdiff/metrics/detail/fast_math.hpp"
#include "slotdiff/metrics/kernels.hpp"

using namespace slotdiff;

namespace {
bool near(double got, double want, double rel, double abs) { return std::abs(got - want) <= abs + rel * std::abs(want); }

std::vector<float> normal(std::mt19937_64& g, std::size_t n) {
  std::normal_distribution<float> d;
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}
std::vector<float> simplex(std::mt19937_64& g, std::size_t n, bool zeros) {
  std::gamma_distribution<float> d(0.5f);
  std::uniform_int_distribution<int> z(0, 3);
  std::vector<float> v(n);
  double s = 0;
  for (auto& x : v) s += (x = zeros && z(g) == 0 ? 0.0f : d(g) + 1e-30f);
  if (s == 0) v[0] = 1, s = 1;
  for (auto& x : v) x = static_cast<float>(x / s);
  return v;
}
}  // namespace

TEST_CASE("fast vector kernels agree with the serial ones at every length", "[metrics][kernels]") {
  auto g = test::seeded_rng(1);
  for (std::size_t n = 1; n <= 300; ++n) {
    const auto a = normal(g, n), b = normal(g, n);
    INFO("n = " << n);
    const double scale = std::sqrt(double(n));
    CHECK(near(dot_f32_auto(a.data(), b.data(), n), dot_f32_serial(a.data(), b.data(), n), 1e-5, 1e-5 * scale));
    CHECK(near(l2sq_f32_auto(a.data(), b.data(), n), l2sq_f32_serial(a.data(), b.data(), n), 1e-5, 1e-6));
    CHECK(near(cos_f32_auto(a.data(), b.data(), n), cos_f32_serial(a.data(), b.data(), n), 0, 2e-6 * scale));
  }
}

TEST_CASE("fast probability kernels agree with the serial ones at every length", "[metrics][kernels]") {
  auto g = test::seeded_rng(2);
  for (std::size_t n = 1; n <= 300; ++n)
    for (bool zeros : {false, true}) {
      const auto p = simplex(g, n, zeros), q = simplex(g, n, false);
      INFO("n = " << n << " zeros " << zeros);
      CHECK(near(kl_f32_auto(p.data(), q.data(), n), kl_f32_serial(p.data(), q.data(), n), 1e-4, 2e-6));
      CHECK(near(js_f32_auto(p.data(), q.data(), n), js_f32_serial(p.data(), q.data(), n), 1e-4, 2e-6));
      CHECK(near(hellinger_f32_auto(p.data(), q.data(), n), hellinger_f32_serial(p.data(), q.data(), n), 1e-5, 1e-6));
      CHECK(near(tv_f32_auto(p.data(), q.data(), n), tv_f32_serial(p.data(), q.data(), n), 1e-5, 1e-6));
    }
}

TEST_CASE("bf16 and f16 kernels widen exactly", "[metrics][kernels][half]") {
  auto g = test::seeded_rng(3);
  for (std::size_t n : {1u, 7u, 8u, 9u, 31u, 64u, 100u, 768u}) {
    const auto a = normal(g, n), b = normal(g, n);
    std::vector<bf16> ab(n), bb(n);
    std::vector<f16> ah(n), bh(n);
    std::vector<float> ar(n), br(n), ahr(n), bhr(n);
    for (std::size_t i = 0; i < n; ++i) {
      ab[i] = bf16::from_float(a[i]), bb[i] = bf16::from_float(b[i]), ah[i] = f16::from_float(a[i]), bh[i] = f16::from_float(b[i]);
      ar[i] = ab[i].to_float(), br[i] = bb[i].to_float(), ahr[i] = ah[i].to_float(), bhr[i] = bh[i].to_float();
    }
    INFO("n = " << n);
    // Same float values through the float kernel: identical lane order, so bit-identical results.
    CHECK(dot_bf16_auto(ab.data(), bb.data(), n) == dot_f32_auto(ar.data(), br.data(), n));
    CHECK(dot_f16_auto(ah.data(), bh.data(), n) == dot_f32_auto(ahr.data(), bhr.data(), n));
    CHECK(l2sq_bf16_auto(ab.data(), bb.data(), n) == l2sq_f32_auto(ar.data(), br.data(), n));
    CHECK(l2sq_f16_auto(ah.data(), bh.data(), n) == l2sq_f32_auto(ahr.data(), bhr.data(), n));
    CHECK(cos_bf16_auto(ab.data(), bb.data(), n) == cos_f32_auto(ar.data(), br.data(), n));
    CHECK(cos_f16_auto(ah.data(), bh.data(), n) == cos_f32_auto(ahr.data(), bhr.data(), n));
    CHECK(dot_bf16_serial(ab.data(), bb.data(), n) == dot_f32_serial(ar.data(), br.data(), n));
    CHECK(cos_f16_serial(ah.data(), bh.data(), n) == cos_f32_serial(ahr.data(), bhr.data(), n));
  }
}

TEST_CASE("f16 conversion round-trips every finite half and rounds to nearest even", "[metrics][half]") {
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const f16 x{static_cast<std::uint16_t>(h)};
    const float f = x.to_float();
    if (std::isnan(f)) continue;
    INFO("bits " << h);
    REQUIRE(f16::from_float(f).bits == h);
  }
  CHECK(f16::from_float(1.0f).to_float() == 1.0f);
  CHECK(f16::from_float(65504.0f).to_float() == 65504.0f);
  CHECK(std::isinf(f16::from_float(1e6f).to_float()));
  CHECK(f16::from_float(1.0f + 1.0f / 2048).to_float() == 1.0f);                 // tie -> even
  CHECK(f16::from_float(1.0f + 3.0f / 2048).to_float() == 1.0f + 2.0f / 1024);  // tie -> even (up)
  CHECK(f16::from_float(5.96046448e-8f).bits == 1);                             // smallest subnormal
  CHECK(bf16::from_float(1.0f + 1.0f / 256).to_float() == 1.0f);                // tie -> even
  CHECK(bf16::from_float(3.14159265f).to_float() == Approx(3.140625f));
  CHECK(std::isnan(bf16::from_float(std::nanf("")).to_float()));
}

TEST_CASE("polynomial log and exp are within a few ulp of the standard library", "[metrics][kernels]") {
  auto g = test::seeded_rng(4);
  std::uniform_real_distribution<float> mant(1.0f, 2.0f);
  std::uniform_int_distribution<int> ex(-125, 126);
  for (int i = 0; i < 20000; ++i) {
    const float x = std::ldexp(mant(g), ex(g));
    const double ref = std::log(double(x));
    INFO("x = " << x);
    REQUIRE(std::abs(detail::fast_logf(x) - ref) <= 2.5e-7 * std::max(1.0, std::abs(ref)));
  }
  std::uniform_real_distribution<double> xs(-700, 700);
  for (int i = 0; i < 20000; ++i) {
    const double x = xs(g);
    INFO("x = " << x);
    REQUIRE(std::abs(detail::fast_exp(x) - std::exp(x)) <= 4e-16 * std::exp(x));
  }
  CHECK(detail::fast_exp(-1000) < 1e-300);
}

TEST_CASE("blocked many-vs-many equals per-pair calls", "[metrics][batch]") {
  auto g = test::seeded_rng(5);
  for (auto [n, m, d] : {std::tuple{1, 1, 1}, {5, 3, 7}, {8, 8, 64}, {9, 13, 33}, {32, 32, 256}}) {
    const auto a = normal(g, n * d), b = normal(g, m * d);
    const matrix_view<const float> A(a.data(), n, d), B(b.data(), m, d);
    std::vector<float> fast(n * m), slow(n * m);
    auto both = [&](auto metric, double rel, double abs) {
      many_vs_many(metric, A, B, matrix_view<float>(fast.data(), n, m));
      metric.path = kernel_path::serial;
      many_vs_many(metric, A, B, matrix_view<float>(slow.data(), n, m));
      for (std::size_t i = 0; i < fast.size(); ++i) REQUIRE(near(fast[i], slow[i], rel, abs * d));
    };
    INFO(n << "x" << m << " d=" << d);
    both(squared_euclidean_distance{}, 1e-5, 1e-6);
    both(euclidean_distance{}, 1e-5, 1e-6);
    both(cosine_distance{}, 0, 1e-6);
    both(inner_product_distance{}, 1e-5, 1e-6);
    std::vector<float> row(m);
    one_vs_many(cosine_distance{}, A.row(0), B, row);
    for (int j = 0; j < m; ++j) CHECK(row[j] == cosine_distance{}(A.row(0), B.row(j)));
  }
}
