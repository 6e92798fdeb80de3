// Eigen adapters: borrowed views give the same distances as the raw spans; strided views are refused.
#include <catch2/catch.hpp>

#include <Eigen/Core>

#include "slotdiff/adapt/eigen.hpp"
#include "slotdiff/adapt/vector.hpp"
#include "slotdiff/metrics/batch.hpp"
#include "slotdiff/metrics/vector.hpp"

using namespace slotdiff;

TEST_CASE("Eigen vectors and row-major matrices adapt without copies", "[adapt][eigen]") {
  Eigen::VectorXf a(5), b(5);
  a << 1, 2, 3, 4, 5;
  b << 5, 4, 3, 2, 1;
  const std::vector<float> av(a.data(), a.data() + 5), bv(b.data(), b.data() + 5);
  CHECK(as_span(a).data() == a.data());
  CHECK(euclidean_distance{}(as_span(a), as_span(b)) == euclidean_distance{}(av, bv));
  CHECK(euclidean_distance{}(as_span(a), as_span(b)) == Approx((a - b).norm()));

  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> m(3, 4), n(2, 4);
  m.setRandom();
  n.setRandom();
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> out(3, 2);
  many_vs_many(euclidean_distance{}, as_matrix(m), as_matrix(n), as_output(out));
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j) CHECK(out(i, j) == Approx((m.row(i) - n.row(j)).norm()).epsilon(1e-5));

  const Eigen::Map<const Eigen::VectorXf> mp(av.data(), 5);
  CHECK(as_span(mp).data() == av.data());
  const Eigen::Map<const Eigen::VectorXf, 0, Eigen::InnerStride<>> strided(av.data(), 2, Eigen::InnerStride<>(2));
  CHECK_THROWS_AS(as_span(strided), metric_error);
}

TEST_CASE("std::vector adapters", "[adapt]") {
  std::vector<float> v{1, 2, 3, 4, 5, 6};
  CHECK(as_span(v).size() == 6);
  CHECK(as_matrix(v, 2, 3).row(1)[0] == 4);
  CHECK_THROWS_AS(as_matrix(v, 4, 2), metric_error);
  std::vector<float> storage;
  CHECK(as_matrix(std::vector<std::vector<float>>{{1, 2}, {3, 4}}, storage).row(1)[1] == 4);
  CHECK_THROWS_WITH(as_matrix(std::vector<std::vector<float>>{{1, 2}, {3}}, storage), Catch::Contains("row 1 has 1"));
}
