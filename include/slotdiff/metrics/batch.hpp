// slotdiff/metrics/batch.hpp: one-vs-many and many-vs-many distances into a caller-provided buffer.
//
// Any distance_metric works (one call per pair). The vector metrics of vector.hpp get a faster
// many-vs-many path: a register-blocked dot-product kernel (4 rows x 2 rows at a time) plus per-row
// squared norms, so each pair costs about a quarter of the loads of separate calls. That path computes
// |a-b|^2 as |a|^2 + |b|^2 - 2 a.b (clamped at 0): its absolute error is about 1e-7 (|a|^2 + |b|^2), so
// near-duplicate rows can read a few ulps of |a|^2 away from 0. Pass .path = kernel_path::serial to
// the metric for the exact per-pair computation. Rows whose squared norm float cannot hold to rounding
// (under 2^-64 or overflowing) are measured pair by pair with the metric's checked kernels instead.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <type_traits>
#include <vector>

#include "slotdiff/concepts/distance_metric.hpp"
#include "slotdiff/metrics/errors.hpp"
#include "slotdiff/metrics/kernels.hpp"
#include "slotdiff/metrics/vector.hpp"

namespace slotdiff {

/// A row-major rows x cols matrix over borrowed storage (T = const float for inputs, float for outputs).
template <class T>
struct matrix_view {
  T* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;

  matrix_view() = default;
  matrix_view(T* d, std::size_t r, std::size_t c) : data(d), rows(r), cols(c) {}
  /// Borrows a span as rows x cols. Throws metric_error if the sizes disagree.
  matrix_view(std::span<T> s, std::size_t r, std::size_t c) : data(s.data()), rows(r), cols(c) {
    if (s.size() != r * c)
      detail::throw_metric("matrix_view: a span of ", s.size(), " elements cannot be ", r, " x ", c);
  }
  /// A view of non-const data converts to a view of const data.
  template <class U>
    requires(std::is_const_v<T> && std::is_same_v<std::remove_const_t<T>, U>)
  matrix_view(matrix_view<U> o) : data(o.data), rows(o.rows), cols(o.cols) {}

  std::span<T> row(std::size_t i) const { return {data + i * cols, cols}; }
  T& operator()(std::size_t i, std::size_t j) const { return data[i * cols + j]; }
  std::size_t size() const { return rows * cols; }
};

namespace detail {

inline bool is_fast_vector_metric(const auto&) { return false; }
template <class K>
inline bool is_fast_vector_metric(const vector_metric<K>& m) {
  return m.path == kernel_path::fast;
}

/// out(i, j) = a_i . b_j for all pairs: 4 x 2 register blocks of the dot kernel (kernels.hpp).
inline void gram_f32(matrix_view<const float> a, matrix_view<const float> b, matrix_view<float> out) noexcept {
  gram_auto(a.data, a.rows, b.data, b.rows, a.cols, out.data, out.cols);
}

inline void row_norms2(matrix_view<const float> a, std::vector<float>& out) {
  out.resize(a.rows);
  for (std::size_t i = 0; i < a.rows; ++i) out[i] = dot_auto(a.data + i * a.cols, a.data + i * a.cols, a.cols);
}

template <class K>
inline void fast_pairwise(const vector_metric<K>&, matrix_view<const float> a, matrix_view<const float> b,
                          matrix_view<float> out) {
  gram_f32(a, b, out);
  std::vector<float> na, nb;
  if constexpr (std::is_same_v<K, ip_k>) {
    for (std::size_t i = 0; i < out.size(); ++i) out.data[i] = 1.0f - out.data[i];
  } else {
    row_norms2(a, na);
    row_norms2(b, nb);
    for (std::size_t i = 0; i < a.rows; ++i)
      for (std::size_t j = 0; j < b.rows; ++j) {
        float& o = out(i, j);
        if constexpr (std::is_same_v<K, cos_k>) {
          o = static_cast<float>(cosine_from_parts(o, na[i], nb[j]));
        } else {
          const float d2 = std::max(0.0f, na[i] + nb[j] - 2.0f * o);
          o = std::is_same_v<K, l2_k> ? std::sqrt(d2) : d2;
        }
      }
  }
  // Where float could not hold the blocked computation (a norm outside [2^-64, FLT_MAX], so products
  // may have underflowed or overflowed; a non-finite entry), the pair is measured by the metric itself,
  // which falls back to the serial kernel and names a NaN/inf input (kernels.hpp, vector.hpp).
  const vector_metric<K> one{};
  for (std::size_t i = 0; i < a.rows; ++i)
    for (std::size_t j = 0; j < b.rows; ++j) {
      float& o = out(i, j);
      const bool norms_ok = std::is_same_v<K, ip_k> || (trusted_square_sum(na[i]) && trusted_square_sum(nb[j]));
      if (!norms_ok || !std::isfinite(o)) o = one(a.row(i), b.row(j));
    }
}

}  // namespace detail

/// out[j] = m(query, many.row(j)) for every row j.
/// Requires: query.size() == many.cols > 0, out.size() == many.rows. Complexity: many.rows calls of m.
/// Throws: metric_error on a shape mismatch; whatever m throws on a bad row (naming the metric's input).
template <distance_metric M>
void one_vs_many(const M& m, std::span<const float> query, matrix_view<const float> many, std::span<float> out) {
  if (query.size() != many.cols)
    detail::throw_metric("one_vs_many: query has ", query.size(), " elements but the rows of many have ", many.cols);
  if (out.size() != many.rows)
    detail::throw_metric("one_vs_many: out has ", out.size(), " elements for ", many.rows, " rows");
  for (std::size_t j = 0; j < many.rows; ++j) out[j] = static_cast<float>(m(query, many.row(j)));
}

/// out(i, j) = m(a.row(i), b.row(j)): a cost matrix (a.rows x b.rows).
/// Requires: a.cols == b.cols > 0, out is a.rows x b.rows. Complexity: a.rows * b.rows * cols; the
/// vector metrics take the blocked path (see the header comment). Throws: metric_error.
template <distance_metric M>
void many_vs_many(const M& m, matrix_view<const float> a, matrix_view<const float> b, matrix_view<float> out) {
  if (a.cols != b.cols) detail::throw_metric("many_vs_many: rows of a have ", a.cols, " elements, rows of b have ", b.cols);
  if (a.cols == 0) detail::throw_metric("many_vs_many: rows of a and b are empty");
  if (out.rows != a.rows || out.cols != b.rows)
    detail::throw_metric("many_vs_many: out is ", out.rows, " x ", out.cols, " but must be ", a.rows, " x ", b.rows);
  if (detail::is_fast_vector_metric(m)) {
    if constexpr (requires { detail::fast_pairwise(m, a, b, out); }) {
      detail::fast_pairwise(m, a, b, out);
      return;
    }
  }
  for (std::size_t i = 0; i < a.rows; ++i)
    for (std::size_t j = 0; j < b.rows; ++j) out(i, j) = static_cast<float>(m(a.row(i), b.row(j)));
}

}  // namespace slotdiff
