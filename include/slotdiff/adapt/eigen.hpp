// slotdiff/adapt/eigen.hpp: Eigen vectors and matrices as the metric views (borrowed, no copy).
//
// as_span(v): any Eigen float vector expression with direct access and unit inner stride
// (VectorXf, RowVectorXf, Map, a row of a row-major matrix, a column of a column-major one, a segment).
// as_matrix(m): a row-major float matrix (or a Map / block with a contiguous row stride) as
// matrix_view; column-major storage is refused at compile time because its rows are not contiguous
// (use `Eigen::Matrix<float, Dynamic, Dynamic, RowMajor>` or transpose into one).
#pragma once

#include <Eigen/Core>

#include <span>

#include "slotdiff/metrics/batch.hpp"
#include "slotdiff/metrics/errors.hpp"

namespace slotdiff {

/// Requires: a float vector with direct access and inner stride 1 (checked at compile time where
/// known, else at run time). Throws metric_error for a strided runtime view.
template <class Derived>
std::span<const float> as_span(const Eigen::PlainObjectBase<Derived>& v) {
  static_assert(std::is_same_v<typename Derived::Scalar, float>, "as_span: float vectors only");
  static_assert(Derived::IsVectorAtCompileTime, "as_span: a vector (use as_matrix for matrices)");
  return {v.data(), static_cast<std::size_t>(v.size())};
}
template <class Derived>
  requires(bool(Eigen::internal::traits<Derived>::Flags & Eigen::DirectAccessBit))
std::span<const float> as_span(const Eigen::MapBase<Derived, Eigen::ReadOnlyAccessors>& v) {
  static_assert(std::is_same_v<typename Derived::Scalar, float>, "as_span: float vectors only");
  static_assert(Derived::IsVectorAtCompileTime, "as_span: a vector (use as_matrix for matrices)");
  if (v.size() > 1 && v.innerStride() != 1)
    detail::throw_metric("as_span: the Eigen view has inner stride ", v.innerStride(), ", not 1");
  return {v.data(), static_cast<std::size_t>(v.size())};
}

/// A row-major float matrix (or map/block of one with contiguous rows) as rows x cols.
template <class Derived>
matrix_view<const float> as_matrix(const Eigen::PlainObjectBase<Derived>& m) {
  static_assert(std::is_same_v<typename Derived::Scalar, float>, "as_matrix: float matrices only");
  static_assert(Derived::IsRowMajor || Derived::ColsAtCompileTime == 1,
                "as_matrix: rows must be contiguous; use a RowMajor matrix");
  return matrix_view<const float>(m.data(), static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols()));
}
template <class Derived>
matrix_view<const float> as_matrix(const Eigen::MapBase<Derived, Eigen::ReadOnlyAccessors>& m) {
  static_assert(std::is_same_v<typename Derived::Scalar, float>, "as_matrix: float matrices only");
  static_assert(Derived::IsRowMajor, "as_matrix: rows must be contiguous; use a RowMajor map");
  if (m.innerStride() != 1 || (m.rows() > 1 && m.outerStride() != m.cols()))
    detail::throw_metric("as_matrix: the Eigen view is strided (inner ", m.innerStride(), ", outer ", m.outerStride(),
                         ") for ", m.cols(), " columns");
  return matrix_view<const float>(m.data(), static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols()));
}

/// A mutable row-major float matrix as an output view (e.g. for many_vs_many).
template <class Derived>
matrix_view<float> as_output(Eigen::PlainObjectBase<Derived>& m) {
  static_assert(std::is_same_v<typename Derived::Scalar, float> && Derived::IsRowMajor,
                "as_output: a row-major float matrix");
  return matrix_view<float>(m.data(), static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols()));
}

}  // namespace slotdiff
