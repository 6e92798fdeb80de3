// python/src/module.cpp: the extension module slotdiff._slotdiff: the error type, the ragged-batch
// conversion every part uses, and the parts' registration.
#include <limits>
#include <string>

#include "common.hpp"
#include "slotdiff/error.hpp"

namespace slotdiff::python {

namespace {

std::string type_name(py::handle h) { return py::str(py::type::handle_of(h).attr("__name__")); }

/// One 1-D integer sequence into `out`: a view when it is int32 and contiguous, else a checked copy.
void add_sequence(ragged_ids& out, py::handle item, const std::string& what) {
  py::array a;
  if (py::isinstance<py::array>(item)) {
    a = py::reinterpret_borrow<py::array>(item);
  } else if (py::isinstance<py::list>(item) || py::isinstance<py::tuple>(item)) {
    if (py::len(item) == 0) {
      out.seqs.emplace_back();
      return;
    }
    a = py::module_::import("numpy").attr("asarray")(item);
  } else if (py::hasattr(item, "__array__") || py::hasattr(item, "numpy")) {  // a torch tensor
    py::object obj = py::reinterpret_borrow<py::object>(item);
    if (py::hasattr(item, "detach")) obj = obj.attr("detach")().attr("cpu")().attr("numpy")();
    a = py::module_::import("numpy").attr("asarray")(obj);
  } else {
    throw py::type_error(what + ": expected a 1-D integer array or list of token ids, got " + type_name(item));
  }
  if (a.ndim() != 1) throw py::type_error(what + ": expected a 1-D array of token ids, got " + std::to_string(a.ndim()) + " dimensions");
  const char kind = a.dtype().kind();
  if (a.size() != 0 && kind != 'i' && kind != 'u')
    throw py::type_error(what + ": dtype " + std::string(py::str(a.dtype())) +
                         " is not an integer dtype (token ids are int32; int64 and other integers are converted)");
  if (a.size() == 0) {
    out.seqs.emplace_back();
    return;
  }
  if (kind == 'i' && a.itemsize() == 4 && (a.flags() & py::array::c_style)) {
    auto v = py::reinterpret_borrow<py::array_t<std::int32_t>>(a);
    const std::int32_t* p = v.data();
    for (py::ssize_t i = 0; i < v.size(); ++i)
      if (p[i] < 0) throw py::value_error(what + ": token id " + std::to_string(p[i]) + " at position " + std::to_string(i) + " is negative");
    out.keep.push_back(v);
    out.seqs.emplace_back(p, static_cast<std::size_t>(v.size()));
    return;
  }
  auto v = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
  if (kind == 'u') v = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(a.attr("astype")("int64"));
  auto& dst = out.converted.emplace_back(static_cast<std::size_t>(v.size()));
  const std::int64_t* p = v.data();
  for (py::ssize_t i = 0; i < v.size(); ++i) {
    if (p[i] < 0 || p[i] > std::numeric_limits<token_id>::max())
      throw py::value_error(what + ": token id " + std::to_string(p[i]) + " at position " + std::to_string(i) +
                            (p[i] < 0 ? " is negative" : " does not fit in int32"));
    dst[static_cast<std::size_t>(i)] = static_cast<token_id>(p[i]);
  }
  out.seqs.emplace_back(dst.data(), dst.size());
}

}  // namespace

ragged_ids to_ragged(py::handle ids, py::handle offsets, const char* name, bool allow_single) {
  ragged_ids out;
  const std::string what(name);
  if (!offsets.is_none()) {
    add_sequence(out, ids, what);
    const std::span<const token_id> flat = out.seqs.back();
    out.seqs.clear();
    py::array o = py::module_::import("numpy").attr("asarray")(offsets);
    if (o.ndim() != 1 || (o.size() != 0 && o.dtype().kind() != 'i' && o.dtype().kind() != 'u'))
      throw py::type_error("offsets: expected a 1-D integer array, got dtype " + std::string(py::str(o.dtype())) + " with " +
                           std::to_string(o.ndim()) + " dimensions");
    auto ov = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(o);
    const std::int64_t* p = ov.data();
    const auto n = static_cast<std::size_t>(ov.size());
    if (n == 0) throw py::value_error("offsets: empty (need n + 1 entries, from 0 to len(" + what + ") = " + std::to_string(flat.size()) + ")");
    if (p[0] != 0) throw py::value_error("offsets: first entry is " + std::to_string(p[0]) + ", must be 0");
    if (p[n - 1] != static_cast<std::int64_t>(flat.size()))
      throw py::value_error("offsets: last entry is " + std::to_string(p[n - 1]) + ", but " + what + " holds " +
                            std::to_string(flat.size()) + " ids (the offsets must add up to len(" + what + "))");
    for (std::size_t i = 0; i + 1 < n; ++i) {
      if (p[i + 1] < p[i])
        throw py::value_error("offsets: decrease at entry " + std::to_string(i + 1) + " (" + std::to_string(p[i]) + " then " +
                              std::to_string(p[i + 1]) + ")");
      out.seqs.push_back(flat.subspan(static_cast<std::size_t>(p[i]), static_cast<std::size_t>(p[i + 1] - p[i])));
    }
  } else if (py::isinstance<py::list>(ids) || py::isinstance<py::tuple>(ids)) {
    // A list of sequences, unless it is a flat list of Python ints (one sequence).
    const auto seq = py::reinterpret_borrow<py::sequence>(ids);
    bool flat_ints = seq.size() > 0;
    for (auto item : seq) flat_ints = flat_ints && py::isinstance<py::int_>(item);
    if (flat_ints) {
      if (!allow_single) throw py::type_error(what + ": expected a list of sequences, got one list of ints");
      add_sequence(out, ids, what);
      out.single = true;
    } else {
      std::size_t i = 0;
      for (auto item : seq) add_sequence(out, item, what + "[" + std::to_string(i++) + "]");
    }
  } else {
    add_sequence(out, ids, what);
    out.single = true;
    if (!allow_single) throw py::type_error(what + ": expected a list of sequences or flat ids with offsets=");
  }
  for (const auto& s : out.seqs) out.total += s.size();
  return out;
}

py::array_t<std::int64_t> offsets_of(const std::vector<std::size_t>& lengths) {
  std::vector<std::int64_t> o(lengths.size() + 1, 0);
  for (std::size_t i = 0; i < lengths.size(); ++i) o[i + 1] = o[i] + static_cast<std::int64_t>(lengths[i]);
  return to_numpy(std::move(o));
}

}  // namespace slotdiff::python

PYBIND11_MODULE(_slotdiff, m) {
  namespace sp = slotdiff::python;
  m.doc() = "slotdiff: insertion-based text diffusion (C++ core; see docs/python.md)";
  // slotdiff::error and every subclass (tokenizer_error, feasibility_error, ...) -> slotdiff.Error, a ValueError.
  pybind11::register_exception<slotdiff::error>(m, "Error", PyExc_ValueError);
  m.attr("source_dir") = SLOTDIFF_SOURCE_DIR;
  sp::register_text_noise(m);
  sp::register_denoise(m);
  sp::register_metrics(m);
}
