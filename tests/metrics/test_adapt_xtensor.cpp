// xtensor adapters: contiguous containers borrow; strided ones are refused with their strides named.
#include <catch2/catch.hpp>

#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

#include "slotdiff/adapt/xtensor.hpp"
#include "slotdiff/metrics/batch.hpp"
#include "slotdiff/metrics/vector.hpp"

using namespace slotdiff;

TEST_CASE("xtensor containers adapt without copies", "[adapt][xtensor]") {
  xt::xtensor<float, 1> a = {1, 2, 3}, b = {3, 2, 1};
  CHECK(as_span(a).data() == a.data());
  CHECK(euclidean_distance{}(as_span(a), as_span(b)) == Approx(std::sqrt(8.0)));
  xt::xtensor<float, 2> m = {{1, 0}, {0, 1}, {1, 1}};
  const auto mv = as_matrix(m);
  CHECK(mv.rows == 3);
  CHECK(mv.cols == 2);
  std::vector<float> out(3);
  one_vs_many(euclidean_distance{}, std::vector<float>{0, 0}, mv, out);
  CHECK(out[2] == Approx(std::sqrt(2.0)));
  xt::xarray<float> x2 = {{1, 2}, {3, 4}};
  CHECK_THROWS_WITH(as_span(x2), Catch::Contains("2 dimensions"));
  xt::xtensor<float, 2, xt::layout_type::column_major> cm = {{1, 2}, {3, 4}};
  CHECK_THROWS_WITH(as_matrix(cm), Catch::Contains("stride"));
}
