// slotdiff/adapt/xtensor.hpp: xtensor containers as the metric views (borrowed, no copy).
//
// as_span(e): a 1-d float container (xt::xtensor<float, 1>, xt::xarray<float> of dimension 1, an
// xt::adapt of a buffer) with row-major contiguous storage. as_matrix(e): a 2-d one, rows x cols.
// Views with other strides (xt::view with steps, transposes, column-major layout) are refused with
// a metric_error naming the strides: copy them into a row-major container first.
#pragma once

#include <xtensor/xcontainer.hpp>

#include <span>

#include "slotdiff/metrics/batch.hpp"
#include "slotdiff/metrics/errors.hpp"

namespace slotdiff {
namespace detail {
template <class E>
void check_xt_contiguous(const E& e, const char* fn) {
  static_assert(std::is_same_v<typename E::value_type, float>, "slotdiff: xtensor adapters take float containers");
  std::size_t expect = 1;
  for (std::size_t k = e.dimension(); k-- > 0;) {
    if (e.shape()[k] > 1 && static_cast<std::size_t>(e.strides()[k]) != expect)
      throw_metric(fn, ": axis ", k, " has stride ", e.strides()[k], ", a row-major contiguous container needs ", expect);
    expect *= e.shape()[k];
  }
}
}  // namespace detail

/// Requires: e.dimension() == 1, contiguous. Throws metric_error otherwise.
template <class D>
std::span<const float> as_span(const xt::xcontainer<D>& c) {
  const D& e = static_cast<const D&>(c);
  if (e.dimension() != 1) detail::throw_metric("as_span: the xtensor container has ", e.dimension(), " dimensions, not 1");
  detail::check_xt_contiguous(e, "as_span");
  return {e.data() + e.data_offset(), e.size()};
}

/// Requires: e.dimension() == 2, row-major contiguous. Throws metric_error otherwise.
template <class D>
matrix_view<const float> as_matrix(const xt::xcontainer<D>& c) {
  const D& e = static_cast<const D&>(c);
  if (e.dimension() != 2) detail::throw_metric("as_matrix: the xtensor container has ", e.dimension(), " dimensions, not 2");
  detail::check_xt_contiguous(e, "as_matrix");
  return matrix_view<const float>(e.data() + e.data_offset(), e.shape()[0], e.shape()[1]);
}

}  // namespace slotdiff
