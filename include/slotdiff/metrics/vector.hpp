// slotdiff/metrics/vector.hpp: distances between two embeddings.
//
//   cosine_distance             1 - a.b / (|a| |b|), in [0, 2]; both vectors zero -> 0, one zero -> 1
//   euclidean_distance          |a - b|                         (a metric)
//   squared_euclidean_distance  |a - b|^2                       (not a metric: no triangle inequality)
//   inner_product_distance      1 - a.b                         (SimSIMD's "ip"; for unit vectors)
//   dot(a, b)                   a.b, a similarity, not a distance
//
// Each is a distance_metric over std::span<const float>, with bf16/f16 overloads (widened to float).
// Throws metric_error for mismatched or empty inputs and for NaN/inf anywhere in them: the check is
// made on the result (a finite result needs finite inputs up to overflow), so the happy path pays
// nothing; a non-finite result triggers a scan that names the first bad element. A result that only
// the float32 return value cannot hold (l2sq of 1e20-sized vectors) throws on both kernel paths.
// The fast and serial paths agree to rounding over the whole float range (kernels.hpp).
#pragma once

#include <cmath>
#include <span>

#include "slotdiff/concepts/distance_metric.hpp"
#include "slotdiff/metrics/errors.hpp"
#include "slotdiff/metrics/half.hpp"
#include "slotdiff/metrics/kernels.hpp"

namespace slotdiff {
namespace detail {

template <class T>
inline void check_result(std::string_view metric, double r, std::span<const T> a, std::span<const T> b) {
  if (std::isfinite(r) && std::isfinite(static_cast<float>(r))) return;
  check_finite(metric, "a", a.data(), a.size());
  check_finite(metric, "b", b.data(), b.size());
  throw_metric(metric, ": the result overflowed float32 (", r, "); rescale the inputs");
}

// One dispatch table row per metric: the serial and fast kernels for each dtype.
struct cos_k {
  static constexpr const char* name = "cosine_distance";
  template <class T> static double serial(const T* a, const T* b, std::size_t n) { return cos_serial(a, b, n); }
  template <class T> static double fast(const T* a, const T* b, std::size_t n) {
    return cos_checked(cos_auto(a, b, n), a, b, n);
  }
  static double finish(double x) { return x; }
};
struct l2_k {
  static constexpr const char* name = "euclidean_distance";
  template <class T> static double serial(const T* a, const T* b, std::size_t n) { return l2sq_serial(a, b, n); }
  template <class T> static double fast(const T* a, const T* b, std::size_t n) { return l2sq_checked(l2sq_auto(a, b, n), a, b, n); }
  static double finish(double x) { return std::sqrt(x); }
};
struct l2sq_k {
  static constexpr const char* name = "squared_euclidean_distance";
  template <class T> static double serial(const T* a, const T* b, std::size_t n) { return l2sq_serial(a, b, n); }
  template <class T> static double fast(const T* a, const T* b, std::size_t n) { return l2sq_checked(l2sq_auto(a, b, n), a, b, n); }
  static double finish(double x) { return x; }
};
struct ip_k {
  static constexpr const char* name = "inner_product_distance";
  template <class T> static double serial(const T* a, const T* b, std::size_t n) { return dot_serial(a, b, n); }
  template <class T> static double fast(const T* a, const T* b, std::size_t n) { return dot_checked(dot_auto(a, b, n), a, b, n); }
  static double finish(double x) { return 1.0 - x; }
};

/// The common shape of the vector metrics. Aggregate, so `cosine_distance{.path = kernel_path::serial}`.
template <class K>
struct vector_metric {
  /// Which kernel runs: the SIMD one (default) or the serial reference.
  kernel_path path = kernel_path::fast;

  /// Requires: a.size() == b.size() > 0, all finite. Complexity: O(n).
  /// Throws: metric_error naming the input and value otherwise.
  template <class T>
  float measure(std::span<const T> a, std::span<const T> b) const {
    check_lengths(K::name, a.size(), b.size());
    const double raw = path == kernel_path::serial ? K::serial(a.data(), b.data(), a.size())
                                                   : K::fast(a.data(), b.data(), a.size());
    const double r = K::finish(raw);
    check_result<T>(K::name, r, a, b);
    return static_cast<float>(r);
  }
  float operator()(std::span<const float> a, std::span<const float> b) const { return measure<float>(a, b); }
  float operator()(std::span<const bf16> a, std::span<const bf16> b) const { return measure<bf16>(a, b); }
  float operator()(std::span<const f16> a, std::span<const f16> b) const { return measure<f16>(a, b); }
};

}  // namespace detail

using cosine_distance = detail::vector_metric<detail::cos_k>;
using euclidean_distance = detail::vector_metric<detail::l2_k>;
using squared_euclidean_distance = detail::vector_metric<detail::l2sq_k>;
using inner_product_distance = detail::vector_metric<detail::ip_k>;

/// a.b (a similarity). Requires equal, non-zero lengths; Throws metric_error like the metrics above.
inline float dot(std::span<const float> a, std::span<const float> b, kernel_path path = kernel_path::fast) {
  detail::check_lengths("dot", a.size(), b.size());
  const double r = path == kernel_path::serial ? dot_f32_serial(a.data(), b.data(), a.size())
                                               : dot_f32_auto(a.data(), b.data(), a.size());
  detail::check_result<float>("dot", r, a, b);
  return static_cast<float>(r);
}

static_assert(distance_metric<cosine_distance>);
static_assert(distance_metric<euclidean_distance>);
static_assert(distance_metric<squared_euclidean_distance>);
static_assert(distance_metric<inner_product_distance>);

}  // namespace slotdiff
