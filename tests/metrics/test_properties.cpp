// Property tests over random inputs: symmetry, identity, triangle inequality for the true metrics,
// non-negativity, and known values.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "random.hpp"
#include "slotdiff/metrics/probability.hpp"
#include "slotdiff/metrics/vector.hpp"

using namespace slotdiff;

namespace {
std::vector<float> normal(std::mt19937_64& g, std::size_t n) {
  std::normal_distribution<float> d;
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}
std::vector<float> simplex(std::mt19937_64& g, std::size_t n) {
  std::gamma_distribution<float> d(0.5f);
  std::uniform_int_distribution<int> z(0, 4);
  std::vector<float> v(n);
  double s = 0;
  for (auto& x : v) s += (x = z(g) == 0 ? 0.0f : d(g));
  if (s == 0) v[0] = 1, s = 1;
  for (auto& x : v) x = static_cast<float>(x / s);
  return v;
}
}  // namespace

TEMPLATE_TEST_CASE("vector distances: symmetric, zero on the diagonal, non-negative", "[metrics][properties]",
                   cosine_distance, euclidean_distance, squared_euclidean_distance) {
  auto g = test::seeded_rng(10);
  for (auto path : {kernel_path::fast, kernel_path::serial}) {
    const TestType m{.path = path};
    for (int t = 0; t < 200; ++t) {
      const std::size_t n = 1 + t % 97;
      const auto a = normal(g, n), b = normal(g, n);
      CHECK(m(a, b) == m(b, a));
      CHECK(m(a, a) == 0.0f);
      CHECK(m(a, b) >= 0.0f);
    }
  }
}

TEMPLATE_TEST_CASE("probability metrics: symmetric, zero on the diagonal, bounded", "[metrics][properties]",
                   jensen_shannon_divergence, jensen_shannon_distance, hellinger_distance, total_variation_distance) {
  auto g = test::seeded_rng(11);
  for (auto path : {kernel_path::fast, kernel_path::serial}) {
    const TestType m{.path = path};
    for (int t = 0; t < 200; ++t) {
      const std::size_t n = 1 + t % 97;
      const auto p = simplex(g, n), q = simplex(g, n);
      CHECK(m(p, q) == Approx(m(q, p)).margin(1e-6));
      CHECK(m(p, p) == 0.0f);
      CHECK(m(p, q) >= 0.0f);
      CHECK(m(p, q) <= 1.0f);
    }
  }
}

TEMPLATE_TEST_CASE("true metrics satisfy the triangle inequality", "[metrics][properties]", euclidean_distance,
                   jensen_shannon_distance, hellinger_distance, total_variation_distance) {
  auto g = test::seeded_rng(12);
  constexpr bool prob = !std::is_same_v<TestType, euclidean_distance>;
  for (auto path : {kernel_path::fast, kernel_path::serial}) {
    const TestType m{.path = path};
    int tight = 0;
    for (int t = 0; t < 500; ++t) {
      const std::size_t n = 2 + t % 40;
      std::vector<float> x, y, z;
      if constexpr (prob) {
        x = simplex(g, n), y = simplex(g, n), z = simplex(g, n);
      } else {
        x = normal(g, n), y = normal(g, n), z = normal(g, n);
      }
      const double xz = m(x, z), xy = m(x, y), yz = m(y, z);
      CHECK(xz <= xy + yz + 1e-5);
      tight += xz > 0.8 * (xy + yz);
    }
    INFO("near-tight triples " << tight);
  }
}

TEST_CASE("squared Euclidean and KL are not metrics, and the tests would see it", "[metrics][properties]") {
  // The triangle check above has teeth: these counterexamples fail it.
  const std::vector<float> x{0}, y{1}, z{2};
  const squared_euclidean_distance sq;
  CHECK(sq(x, z) > sq(x, y) + sq(y, z));
  const std::vector<float> p{0.5f, 0.5f}, q{0.9f, 0.1f};
  const kl_divergence kl;
  CHECK(kl(p, q) != Approx(kl(q, p)));
}

TEST_CASE("KL is non-negative and zero only at p = q (Gibbs)", "[metrics][properties]") {
  auto g = test::seeded_rng(13);
  for (auto path : {kernel_path::fast, kernel_path::serial}) {
    const kl_divergence kl{.path = path};
    for (int t = 0; t < 300; ++t) {
      const std::size_t n = 1 + t % 61;
      const auto p = simplex(g, n);
      auto q = simplex(g, n);
      for (auto& x : q) x = 0.9f * x + 0.1f / n;  // q > 0 everywhere
      CHECK(kl(p, q) >= 0.0f);
      CHECK(kl(q, q) == 0.0f);
    }
  }
}

TEST_CASE("known values", "[metrics][properties]") {
  const std::vector<float> e1{1, 0}, e2{0, 1}, m1{-1, 0};
  CHECK(cosine_distance{}(e1, e2) == Approx(1.0));
  CHECK(cosine_distance{}(e1, m1) == Approx(2.0));
  CHECK(euclidean_distance{}(e1, e2) == Approx(std::sqrt(2.0)));
  const std::vector<float> zero{0, 0};
  CHECK(cosine_distance{}(zero, zero) == 0.0f);  // documented convention
  CHECK(cosine_distance{}(zero, e1) == 1.0f);
  // Disjoint supports: JS = log 2, Hellinger = 1, TV = 1.
  CHECK(jensen_shannon_divergence{}(e1, e2) == Approx(std::log(2.0)).epsilon(1e-6));
  CHECK(hellinger_distance{}(e1, e2) == Approx(1.0));
  CHECK(total_variation_distance{}(e1, e2) == Approx(1.0));
  // KL of two Bernoullis.
  const std::vector<float> p{0.25f, 0.75f}, q{0.5f, 0.5f};
  CHECK(kl_divergence{}(p, q) == Approx(0.25 * std::log(0.5) + 0.75 * std::log(1.5)).epsilon(1e-5));
}

TEST_CASE("input policies: normalize and smoothing", "[metrics][properties]") {
  const std::vector<float> p{1, 3}, q{2, 2};  // unnormalised
  const std::vector<float> pn{0.25f, 0.75f}, qn{0.5f, 0.5f};
  const kl_divergence norm{.input = probability_input::normalize};
  CHECK(norm(p, q) == Approx(kl_divergence{}(pn, qn)));
  const std::vector<float> z{1, 0};
  const kl_divergence smooth{.smoothing = 1e-3f};
  const double eps = 1e-3, zz = 1 + 2 * eps;
  const double a0 = (0.25 + eps) / zz, a1 = (0.75 + eps) / zz, b0 = (1 + eps) / zz, b1 = eps / zz;
  CHECK(smooth(pn, z) == Approx(a0 * std::log(a0 / b0) + a1 * std::log(a1 / b1)).epsilon(1e-5));
}
