// Sinkhorn: the epsilon -> 0 limit against exact OT (brute force over permutations), both paths agree,
// plan marginals, zero weights, non-convergence reported, WMD bounds.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "golden.hpp"
#include "random.hpp"
#include "slotdiff/metrics/transport.hpp"

using namespace slotdiff;

namespace {
std::vector<float> normal(std::mt19937_64& g, std::size_t n) {
  std::normal_distribution<float> d;
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}
double exact_uniform(const std::vector<float>& c, std::size_t n) {
  std::vector<std::size_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  double best = INFINITY;
  do {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += c[i * n + perm[i]];
    best = std::min(best, s / n);
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}
}  // namespace

TEST_CASE("Sinkhorn cost decreases to the exact OT cost as epsilon shrinks", "[metrics][transport]") {
  auto g = test::seeded_rng(20);
  for (std::size_t n : {3u, 4u, 5u, 6u}) {
    for (int rep = 0; rep < 3; ++rep) {
      const auto x = normal(g, n * 4), y = normal(g, n * 4);
      std::vector<float> c(n * n);
      many_vs_many(squared_euclidean_distance{.path = kernel_path::serial}, matrix_view<const float>(x.data(), n, 4),
                   matrix_view<const float>(y.data(), n, 4), matrix_view<float>(c.data(), n, n));
      const double exact = exact_uniform(c, n);
      const double scale = *std::max_element(c.begin(), c.end());
      const std::vector<float> w(n, 1.0f / n);
      for (auto path : {kernel_path::fast, kernel_path::serial}) {
        double prev = INFINITY;
        INFO("n = " << n << " exact " << exact << (path == kernel_path::fast ? " fast" : " serial"));
        for (double rel : {1.0, 0.3, 0.1, 0.03, 0.01, 0.003}) {
          const sinkhorn_result r = sinkhorn(matrix_view<const float>(c.data(), n, n), w, w,
                                             {.epsilon = rel * scale, .tolerance = 1e-6, .max_iterations = 300000, .path = path});
          INFO("eps " << rel * scale << " cost " << r.cost << " iterations " << r.iterations << " stages " << r.stages << " err " << r.marginal_error);
          REQUIRE(r.converged);
          CHECK(r.cost >= exact - 1e-6 * scale);          // never below the true optimum
          CHECK(r.cost <= prev + 1e-5 * scale);  // non-increasing as eps shrinks (up to the tolerance)
          prev = r.cost;
        }
        CHECK(prev == Approx(exact).margin(5e-3 * scale));  // eps = 3e-3 * max C
      }
    }
  }
}

TEST_CASE("Sinkhorn against the golden exact values", "[metrics][transport][golden]") {
  for (const auto& c : test::golden()) {
    if (c.kind != "exact") continue;
    const std::size_t n = std::size_t(c.tags[0]);
    std::vector<float> cost(n * n);
    many_vs_many(squared_euclidean_distance{.path = kernel_path::serial}, matrix_view<const float>(c.arrays.at("x").data(), n, 4),
                 matrix_view<const float>(c.arrays.at("y").data(), n, 4), matrix_view<float>(cost.data(), n, n));
    const std::vector<float> w(n, 1.0f / n);
    const double scale = *std::max_element(cost.begin(), cost.end());
    const double s = sinkhorn_cost(matrix_view<const float>(cost.data(), n, n), w, w,
                                   {.epsilon = 3e-3 * scale, .tolerance = 1e-7, .max_iterations = 200000});
    CHECK(s == Approx(c.expect.at("exact")).margin(5e-3 * scale));
    CHECK(s >= c.expect.at("exact") - 1e-5);
  }
}

TEST_CASE("fast and serial Sinkhorn agree; the plan has the requested marginals", "[metrics][transport]") {
  auto g = test::seeded_rng(21);
  for (auto [n, m] : {std::pair{1, 1}, {1, 5}, {7, 3}, {16, 16}, {32, 32}, {33, 17}}) {
    const auto x = normal(g, n * 8), y = normal(g, m * 8);
    std::vector<float> c(n * m), plan(n * m);
    many_vs_many(euclidean_distance{}, matrix_view<const float>(x.data(), n, 8), matrix_view<const float>(y.data(), m, 8),
                 matrix_view<float>(c.data(), n, m));
    std::uniform_real_distribution<float> u(0.1f, 1.0f);
    std::vector<float> a(n), b(m);
    for (auto& v : a) v = u(g);
    for (auto& v : b) v = u(g);
    const float sa = std::accumulate(a.begin(), a.end(), 0.0f), sb = std::accumulate(b.begin(), b.end(), 0.0f);
    for (auto& v : a) v /= sa;
    for (auto& v : b) v /= sb;
    const sinkhorn_options o{.epsilon = 0.05, .tolerance = 1e-9, .max_iterations = 100000};
    sinkhorn_options os = o;
    os.path = kernel_path::serial;
    const matrix_view<const float> C(c.data(), n, m);
    const auto rf = sinkhorn(C, a, b, o, matrix_view<float>(plan.data(), n, m));
    const auto rs = sinkhorn(C, a, b, os);
    INFO(n << "x" << m << " iterations fast " << rf.iterations << " serial " << rs.iterations);
    REQUIRE(rf.converged);
    REQUIRE(rs.converged);
    CHECK(rf.cost == Approx(rs.cost).epsilon(1e-7));
    for (int i = 0; i < n; ++i) {
      double s = 0;
      for (int j = 0; j < m; ++j) s += plan[i * m + j];
      CHECK(s == Approx(a[i]).margin(1e-6));
    }
    for (int j = 0; j < m; ++j) {
      double s = 0;
      for (int i = 0; i < n; ++i) s += plan[i * m + j];
      CHECK(s == Approx(b[j]).margin(1e-6));
    }
  }
}

TEST_CASE("tiny epsilon does not overflow: the stabilised path still converges", "[metrics][transport]") {
  auto g = test::seeded_rng(22);
  const std::size_t n = 8;
  const auto x = normal(g, n * 4), y = normal(g, n * 4);
  std::vector<float> c(n * n);
  many_vs_many(squared_euclidean_distance{}, matrix_view<const float>(x.data(), n, 4), matrix_view<const float>(y.data(), n, 4),
               matrix_view<float>(c.data(), n, n));
  const std::vector<float> w(n, 1.0f / n);
  // max C / eps ~ 1e4: exp(-C/eps) underflows double without the log-domain potentials.
  const auto r = sinkhorn(matrix_view<const float>(c.data(), n, n), w, w, {.epsilon = 1e-3, .tolerance = 1e-8, .max_iterations = 500000});
  CHECK(r.converged);
  CHECK(std::isfinite(r.cost));
  CHECK(r.cost == Approx(exact_uniform(c, n)).margin(5e-3));
}

TEST_CASE("zero weights drop points; non-convergence is reported, not hidden", "[metrics][transport]") {
  const std::vector<float> c{0, 1, 5, 1, 0, 5, 5, 5, 0};
  const std::vector<float> a{0.5f, 0.5f, 0.0f}, b{0.5f, 0.5f, 0.0f};
  const matrix_view<const float> C(c.data(), 3, 3);
  std::vector<float> plan(9, -1);
  const auto r = sinkhorn(C, a, b, {.epsilon = 0.01}, matrix_view<float>(plan.data(), 3, 3));
  REQUIRE(r.converged);
  CHECK(r.cost == Approx(0).margin(1e-6));
  CHECK(plan[2] == 0.0f);
  CHECK(plan[8] == 0.0f);

  const std::vector<float> w{0.5f, 0.3f, 0.2f}, v{0.2f, 0.2f, 0.6f};
  const auto bad = sinkhorn(C, w, v, {.epsilon = 1e-3, .tolerance = 1e-12, .scaling = 1.0, .max_iterations = 3});
  CHECK_FALSE(bad.converged);
  CHECK(bad.iterations == 3);
  CHECK(bad.marginal_error > 1e-12);
  CHECK_THROWS_AS(sinkhorn_cost(C, w, v, {.epsilon = 1e-3, .tolerance = 1e-12, .scaling = 1.0, .max_iterations = 3}),
                  convergence_error);
  CHECK_THROWS_WITH(sinkhorn_cost(C, w, v, {.epsilon = 1e-3, .tolerance = 1e-12, .scaling = 1.0, .max_iterations = 3}),
                    Catch::Contains("no convergence after 3 iterations"));
}

TEST_CASE("relaxed WMD <= exact OT <= Sinkhorn WMD", "[metrics][transport]") {
  auto g = test::seeded_rng(23);
  for (int rep = 0; rep < 20; ++rep) {
    const std::size_t n = 2 + rep % 5, d = 6;
    const auto x = normal(g, n * d), y = normal(g, n * d);
    const matrix_view<const float> X(x.data(), n, d), Y(y.data(), n, d);
    const std::vector<float> w(n, 1.0f / n);
    std::vector<float> c(n * n);
    many_vs_many(euclidean_distance{}, X, Y, matrix_view<float>(c.data(), n, n));
    const double exact = exact_uniform(c, n);
    const double lower = relaxed_wmd(X, w, Y, w);
    const double wmd = word_movers_distance<>{.sinkhorn = {.epsilon = 0.01, .max_iterations = 200000}}(X, w, Y, w);
    CHECK(lower <= exact + 1e-6);
    CHECK(exact <= wmd + 1e-6);
    // any vector metric as the cost
    CHECK(word_movers_distance<cosine_distance>{.sinkhorn = {.epsilon = 0.01}}(X, w, X, w) == Approx(0).margin(0.02));
  }
}
