// slotdiff/metrics/errors.hpp: the metrics' input checks (metric_error and convergence_error are in error.hpp).
#pragma once

#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <string_view>

#include "slotdiff/error.hpp"
#include "slotdiff/metrics/half.hpp"

namespace slotdiff {

namespace detail {

/// Throws metric_error with the parts as its message (error.hpp's throw_as).
template <class... Parts>
[[noreturn]] inline void throw_metric(const Parts&... parts) {
  throw_as<metric_error>(parts...);
}

/// Same length and not empty.
inline void check_lengths(std::string_view metric, std::size_t na, std::size_t nb, const char* a = "a", const char* b = "b") {
  if (na != nb) throw_metric(metric, ": ", a, " has ", na, " elements but ", b, " has ", nb);
  if (na == 0) throw_metric(metric, ": ", a, " and ", b, " are empty");
}

/// Throws naming the first non-finite element of x; returns if there is none.
template <class T>
inline void check_finite(std::string_view metric, const char* name, const T* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = to_float(x[i]);
    if (!std::isfinite(v)) throw_metric(metric, ": ", name, "[", i, "] = ", v, " is not finite");
  }
}

}  // namespace detail
}  // namespace slotdiff
