// slotdiff/metrics/errors.hpp: the exceptions of the metrics and embedders, and the input checks.
#pragma once

#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <string_view>

#include "slotdiff/error.hpp"
#include "slotdiff/metrics/half.hpp"

namespace slotdiff {

/// An input a metric cannot measure: mismatched or zero lengths, NaN/inf, a negative or unnormalised
/// "probability", a KL support violation. The message names the metric, the input and the value.
class metric_error : public error {
public:
  using error::error;
};

/// An iterative solver (Sinkhorn) that did not reach its tolerance within its iteration budget.
class convergence_error : public error {
public:
  using error::error;
};

namespace detail {

template <class... Parts>
[[noreturn]] inline void throw_metric(const Parts&... parts) {
  std::ostringstream os;
  os.precision(9);
  (os << ... << parts);
  throw metric_error(os.str());
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
