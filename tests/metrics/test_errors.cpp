// Bad input: a clear metric_error naming the input and the value.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "slotdiff/metrics/batch.hpp"
#include "slotdiff/metrics/mahalanobis.hpp"
#include "slotdiff/metrics/probability.hpp"
#include "slotdiff/metrics/transport.hpp"
#include "slotdiff/metrics/vector.hpp"

using namespace slotdiff;
using Catch::Contains;

TEST_CASE("vector metrics refuse bad inputs", "[metrics][errors]") {
  const std::vector<float> a{1, 2, 3}, b{1, 2}, empty;
  std::vector<float> nan{1, std::nanf(""), 3}, inf{1, 2, INFINITY};
  CHECK_THROWS_WITH(cosine_distance{}(a, b), Contains("cosine_distance") && Contains("a has 3 elements but b has 2"));
  CHECK_THROWS_AS(euclidean_distance{}(empty, empty), metric_error);
  CHECK_THROWS_WITH(euclidean_distance{}(a, nan), Contains("b[1] = nan is not finite"));
  CHECK_THROWS_WITH(squared_euclidean_distance{}(inf, a), Contains("a[2] = inf is not finite"));
  CHECK_THROWS_WITH(cosine_distance{.path = kernel_path::serial}(nan, a), Contains("a[1] = nan"));
  const std::vector<float> big{3e19f, 3e19f};
  CHECK_THROWS_WITH(squared_euclidean_distance{}(big, std::vector<float>{-3e19f, 0}), Contains("overflow"));
  CHECK_THROWS_AS(dot(a, b), metric_error);
  static_assert(std::is_base_of_v<slotdiff::error, metric_error>);
}

TEST_CASE("probability metrics refuse non-distributions unless a policy says otherwise", "[metrics][errors]") {
  const std::vector<float> p{0.5f, 0.5f}, neg{1.2f, -0.2f}, unnorm{0.5f, 0.6f}, zero_q{1.0f, 0.0f}, p2{0.3f, 0.7f};
  std::vector<float> nan{0.5f, std::nanf("")};
  CHECK_THROWS_WITH(kl_divergence{}(neg, p), Contains("kl_divergence: p[1] = -0.200000003 is negative"));
  CHECK_THROWS_WITH(hellinger_distance{}(p, nan), Contains("q[1] = nan is not finite"));
  CHECK_THROWS_WITH(total_variation_distance{}(unnorm, p), Contains("p sums to 1.1") && Contains("normalize"));
  CHECK_NOTHROW(total_variation_distance{.input = probability_input::normalize}(unnorm, p));
  CHECK_THROWS_WITH(jensen_shannon_distance{.input = probability_input::normalize}(std::vector<float>{0, 0}, p),
                    Contains("sums to 0"));
  CHECK_THROWS_WITH(kl_divergence{}(p2, zero_q), Contains("q[1] = 0 where p[1] = 0.699999988") && Contains("smoothing"));
  CHECK(std::isfinite(kl_divergence{.smoothing = 1e-6f}(p2, zero_q)));
  CHECK_NOTHROW(kl_divergence{}(zero_q, p2));  // 0 log 0 = 0
  CHECK_THROWS_WITH(kl_divergence{.smoothing = -1.0f}(p, p), Contains("smoothing"));
  CHECK_THROWS_WITH(jensen_shannon_divergence{}(p, std::vector<float>{1.0f}), Contains("p has 2 elements but q has 1"));
}

TEST_CASE("batched forms and transport refuse bad shapes and weights", "[metrics][errors]") {
  const std::vector<float> m(6, 1.0f), q{1, 2};
  std::vector<float> out(2);
  CHECK_THROWS_WITH(one_vs_many(cosine_distance{}, q, matrix_view<const float>(m.data(), 2, 3), out),
                    Contains("query has 2 elements but the rows of many have 3"));
  CHECK_THROWS_WITH(many_vs_many(cosine_distance{}, matrix_view<const float>(m.data(), 2, 3),
                                 matrix_view<const float>(m.data(), 3, 2), matrix_view<float>(out.data(), 2, 1)),
                    Contains("rows of a have 3"));
  CHECK_THROWS_AS(matrix_view<const float>(std::span<const float>(m), 4, 2), metric_error);
  const std::vector<float> c{0, 1, 1, 0}, w{0.5f, 0.5f};
  const matrix_view<const float> C(c.data(), 2, 2);
  CHECK_THROWS_WITH(sinkhorn(C, std::vector<float>{0.7f, 0.7f}, w), Contains("a sums to 1.39"));
  CHECK_THROWS_WITH(sinkhorn(C, std::vector<float>{1.5f, -0.5f}, w), Contains("a[1] = -0.5 is a negative weight"));
  CHECK_THROWS_WITH(sinkhorn(C, w, std::vector<float>{1.0f}), Contains("b has 1 weights for 2 cost columns"));
  CHECK_THROWS_WITH(sinkhorn(C, w, w, {.epsilon = 0}), Contains(".epsilon = 0"));
  const std::vector<float> cn{0, std::nanf(""), 1, 0};
  CHECK_THROWS_WITH(sinkhorn(matrix_view<const float>(cn.data(), 2, 2), w, w), Contains("cost(0, 1) = nan"));
  CHECK_THROWS_WITH(mahalanobis(3)(q, q), Contains("a has 2 elements, the metric has dimension 3"));
  CHECK_THROWS_AS(mahalanobis(2, {.rank = 3}), metric_error);
}
