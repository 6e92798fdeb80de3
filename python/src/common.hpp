// python/src/common.hpp: what every part of the extension shares: numpy in (ragged id batches,
// checked and viewed without a copy where the dtype allows) and numpy out (vectors handed over to
// numpy without a copy), and the declarations of each part's registration function.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "slotdiff/config.hpp"

namespace slotdiff::python {

namespace py = pybind11;

/// A numpy array that owns `v` (moved into a capsule): no copy of the data.
template <class T>
py::array_t<T> to_numpy(std::vector<T>&& v) {
  auto* owned = new std::vector<T>(std::move(v));
  py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(owned->size())}, {static_cast<py::ssize_t>(sizeof(T))}, owned->data(), owner);
}

/// The same, shaped (rows, cols), row-major. Requires v.size() == rows * cols.
template <class T>
py::array_t<T> to_numpy(std::vector<T>&& v, std::size_t rows, std::size_t cols) {
  auto* owned = new std::vector<T>(std::move(v));
  py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)},
                        {static_cast<py::ssize_t>(cols * sizeof(T)), static_cast<py::ssize_t>(sizeof(T))}, owned->data(), owner);
}

/// A batch of token-id sequences from Python, as spans that stay valid while this object lives (it
/// holds the arrays it views). Accepted forms (`name` is the argument's name in error messages):
///   - one 1-D integer array or list: one sequence (`single` is true);
///   - a list/tuple of 1-D integer arrays or lists: one sequence each;
///   - a flat 1-D integer array plus `offsets` (n + 1 non-decreasing integers from 0 to len(ids)).
/// An int32 C-contiguous array is viewed in place; other integer dtypes are converted (checked to
/// fit). Throws: TypeError naming the argument for a non-integer dtype or a non-1-D array;
/// ValueError for a negative id, an id beyond int32, or offsets that do not add up.
struct ragged_ids {
  std::vector<std::span<const token_id>> seqs;
  bool single = false;
  std::size_t total = 0;
  std::vector<py::object> keep;                 // arrays viewed
  std::deque<std::vector<token_id>> converted;  // arrays converted
};

ragged_ids to_ragged(py::handle ids, py::handle offsets, const char* name, bool allow_single = true);

/// A 1-D numpy array of non-negative int64 offsets (n + 1 entries) for the spans' lengths.
py::array_t<std::int64_t> offsets_of(const std::vector<std::size_t>& lengths);

void register_text_noise(py::module_& m);
void register_denoise(py::module_& m);
void register_metrics(py::module_& m);

}  // namespace slotdiff::python
