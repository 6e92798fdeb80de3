// slotdiff/metrics/probability.hpp: divergences and distances between two probability vectors.
//
//   kl_divergence                KL(p || q) = sum p_i log(p_i / q_i), nats, >= 0, not symmetric
//   jensen_shannon_divergence    JS(p, q) = (KL(p || m) + KL(q || m)) / 2, m = (p + q) / 2, in [0, log 2]
//   jensen_shannon_distance      sqrt(JS(p, q)): a metric (Endres & Schindelin 2003)
//   hellinger_distance           sqrt(sum (sqrt p_i - sqrt q_i)^2 / 2), in [0, 1], a metric
//   total_variation_distance     sum |p_i - q_i| / 2, in [0, 1], a metric
// Convention: 0 log 0 = 0.
//
// Input policy (named in the call, e.g. `kl_divergence{.smoothing = 1e-6f}`):
//   .input = validate (default): every entry finite and >= 0 and |sum - 1| <= .tolerance, else
//            metric_error naming the input, the index and the value. Nothing is rescaled.
//   .input = normalize: entries finite and >= 0 with a positive sum; each input is divided by its sum.
//   .smoothing = eps > 0: after the above, every entry becomes (x_i + eps) / (1 + n eps), so zeros in q
//            no longer make KL infinite. With .smoothing = 0 (default) KL(p || q) with q_i = 0 < p_i
//            is a metric_error (the divergence is infinite), never a silent clamp.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "slotdiff/concepts/distance_metric.hpp"
#include "slotdiff/metrics/errors.hpp"
#include "slotdiff/metrics/kernels.hpp"

namespace slotdiff {

/// How a probability metric treats its inputs (see the header comment).
enum class probability_input { validate, normalize };

namespace detail {

/// A probability metric's kernel pair: the serial twin and the dispatched fast path (kernels.hpp),
/// with the defaults the metrics share (no support condition, the sum is the value). Each metric
/// below adds its name and, where it differs, its support condition and finishing step.
template <auto Serial, auto Fast>
struct probability_kernel {
  static constexpr bool needs_support = false;
  static double serial(const float* p, const float* q, std::size_t n) { return Serial(p, q, n); }
  static double fast(const float* p, const float* q, std::size_t n) { return Fast(p, q, n); }
  static double finish(double x) { return x; }
};

struct kl_k : probability_kernel<kl_f32_serial, kl_auto> {
  static constexpr const char* name = "kl_divergence";
  static constexpr bool needs_support = true;
  static double finish(double x) { return std::max(0.0, x); }
};
struct js_k : probability_kernel<js_f32_serial, js_auto> {
  static constexpr const char* name = "jensen_shannon_divergence";
};
struct jsd_k : js_k {
  static constexpr const char* name = "jensen_shannon_distance";
  static double finish(double x) { return std::sqrt(std::max(0.0, x)); }
};
struct hellinger_k : probability_kernel<hellinger_f32_serial, hellinger_auto> {
  static constexpr const char* name = "hellinger_distance";
};
struct tv_k : probability_kernel<tv_f32_serial, tv_auto> {
  static constexpr const char* name = "total_variation_distance";
};

/// Sum and minimum of x, one vectorisable pass. NaN makes the sum NaN; inf makes it non-finite.
struct mass_stats {
  double sum;
  float min;
};
inline mass_stats mass_of(const float* x, std::size_t n) noexcept {
  constexpr std::size_t W = 16;
  float s[W] = {}, m[W];
  for (auto& v : m) v = x[0];
  std::size_t i = 0;
  for (; i + W <= n; i += W)
    for (std::size_t j = 0; j < W; ++j) {
      s[j] += x[i + j];
      m[j] = std::min(m[j], x[i + j]);
    }
  double sum = 0;
  float mn = x[0];
  for (std::size_t j = 0; j < W; ++j) {
    sum += s[j];
    mn = std::min(mn, m[j]);
  }
  for (; i < n; ++i) {
    sum += x[i];
    mn = std::min(mn, x[i]);
  }
  return {sum, mn};
}

/// Validates one input under the policy; returns its sum. Throws metric_error naming the culprit.
inline double check_distribution(std::string_view metric, const char* name, const float* x, std::size_t n,
                                 probability_input input, float tolerance) {
  const mass_stats st = mass_of(x, n);
  if (!std::isfinite(st.sum) || !(st.min >= 0)) {  // also catches a NaN minimum
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(x[i])) throw_metric(metric, ": ", name, "[", i, "] = ", x[i], " is not finite");
      if (x[i] < 0) throw_metric(metric, ": ", name, "[", i, "] = ", x[i], " is negative (a probability must be >= 0)");
    }
    throw_metric(metric, ": ", name, " sums to ", st.sum, " (overflow)");
  }
  if (input == probability_input::validate && !(std::abs(st.sum - 1.0) <= tolerance))
    throw_metric(metric, ": ", name, " sums to ", st.sum, ", not 1 (tolerance ", tolerance,
                 "); pass .input = probability_input::normalize to rescale it");
  if (input == probability_input::normalize && !(st.sum > 0))
    throw_metric(metric, ": ", name, " sums to ", st.sum, " and cannot be normalised");
  return st.sum;
}

/// The common shape of the probability metrics (an aggregate: designated initializers work).
template <class K>
struct probability_metric {
  probability_input input = probability_input::validate;
  /// Allowed |sum - 1| under probability_input::validate.
  float tolerance = 1e-3f;
  /// Additive smoothing eps >= 0 applied to both inputs (then renormalised); 0 = none.
  float smoothing = 0.0f;
  kernel_path path = kernel_path::fast;

  /// Requires: p.size() == q.size() > 0 and the input policy above. Complexity: O(n); a copy of both
  /// inputs only when normalising (a sum != 1) or smoothing. Throws: metric_error.
  float operator()(std::span<const float> p, std::span<const float> q) const {
    check_lengths(K::name, p.size(), q.size(), "p", "q");
    if (!(smoothing >= 0) || !std::isfinite(smoothing)) throw_metric(K::name, ": .smoothing = ", smoothing, " must be finite and >= 0");
    const std::size_t n = p.size();
    const double sp = check_distribution(K::name, "p", p.data(), n, input, tolerance);
    const double sq = check_distribution(K::name, "q", q.data(), n, input, tolerance);
    const bool rescale = input == probability_input::normalize && (sp != 1.0 || sq != 1.0);
    std::vector<float> bp, bq;
    const float* pp = p.data();
    const float* qq = q.data();
    if (rescale || smoothing > 0) {
      const double np = input == probability_input::normalize ? sp : 1.0;
      const double nq = input == probability_input::normalize ? sq : 1.0;
      const double z = 1.0 + double(n) * smoothing;
      bp.resize(n);
      bq.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        bp[i] = static_cast<float>((p[i] / np + smoothing) / z);
        bq[i] = static_cast<float>((q[i] / nq + smoothing) / z);
      }
      pp = bp.data();
      qq = bq.data();
    }
    if constexpr (K::needs_support) {
      for (std::size_t i = 0; i < n; ++i)
        if (qq[i] == 0 && pp[i] > 0)
          throw_metric(K::name, ": q[", i, "] = 0 where p[", i, "] = ", pp[i],
                       " > 0, so KL(p || q) is infinite; pass .smoothing = eps to smooth q");
    }
    const double raw = path == kernel_path::serial ? K::serial(pp, qq, n) : K::fast(pp, qq, n);
    return static_cast<float>(K::finish(raw));
  }
};

}  // namespace detail

using kl_divergence = detail::probability_metric<detail::kl_k>;
using jensen_shannon_divergence = detail::probability_metric<detail::js_k>;
using jensen_shannon_distance = detail::probability_metric<detail::jsd_k>;
using hellinger_distance = detail::probability_metric<detail::hellinger_k>;
using total_variation_distance = detail::probability_metric<detail::tv_k>;

static_assert(distance_metric<kl_divergence>);
static_assert(distance_metric<jensen_shannon_distance>);
static_assert(distance_metric<hellinger_distance>);
static_assert(distance_metric<total_variation_distance>);

}  // namespace slotdiff
