// slotdiff/adapt/vector.hpp: std::vector (and any contiguous float range) to the metric views.
#pragma once

#include <cstddef>
#include <ranges>
#include <span>
#include <vector>

#include "slotdiff/metrics/batch.hpp"
#include "slotdiff/metrics/errors.hpp"

namespace slotdiff {

/// Borrows a contiguous range of float as std::span<const float> (std::vector, std::array, ...).
/// The range must outlive the span; a temporary is refused at compile time.
template <std::ranges::contiguous_range R>
  requires std::ranges::borrowed_range<R> || std::is_lvalue_reference_v<R>
std::span<const float> as_span(R&& r) {
  static_assert(std::is_same_v<std::ranges::range_value_t<R>, float>, "as_span: the range must hold float");
  return std::span<const float>(std::ranges::data(r), std::ranges::size(r));
}

/// Borrows a vector holding rows x cols floats, row-major. Throws metric_error if the size disagrees.
inline matrix_view<const float> as_matrix(const std::vector<float>& v, std::size_t rows, std::size_t cols) {
  return matrix_view<const float>(std::span<const float>(v), rows, cols);
}
inline matrix_view<float> as_matrix(std::vector<float>& v, std::size_t rows, std::size_t cols) {
  return matrix_view<float>(std::span<float>(v), rows, cols);
}
/// Borrows a vector of equally long rows by copying them into `storage` (which must outlive the view).
/// Throws metric_error naming the first row of another length.
inline matrix_view<const float> as_matrix(const std::vector<std::vector<float>>& rows, std::vector<float>& storage) {
  const std::size_t cols = rows.empty() ? 0 : rows[0].size();
  storage.clear();
  storage.reserve(rows.size() * cols);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].size() != cols)
      detail::throw_metric("as_matrix: row ", i, " has ", rows[i].size(), " elements, row 0 has ", cols);
    storage.insert(storage.end(), rows[i].begin(), rows[i].end());
  }
  return matrix_view<const float>(storage.data(), rows.size(), cols);
}

}  // namespace slotdiff
