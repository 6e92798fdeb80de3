// slotdiff/metrics/mahalanobis.hpp: a Mahalanobis metric learned online from triplets.
//
// d(a, b) = |L (a - b)|_2 with L a k x d matrix (M = L^T L is positive semidefinite by construction,
// so d is always a pseudo-metric: symmetric, d(a, a) = 0, triangle inequality).
//
// Learning ("learn the metric on the go"): each triplet (anchor x, closer p, farther q) says
// d(x, p) should be smaller than d(x, q) by a margin. The loss is the hinge
//     l(L) = max(0, margin + |L u|^2 - |L v|^2),   u = x - p,  v = x - q,
// and one SGD step is taken when l > 0:
//     G   = dl/dL = 2 (L u) u^T - 2 (L v) v^T              (rank 2: O(k d) to form and apply)
//     G  <- G * min(1, max_gradient_norm / |G|_F)         (clipping; |G|_F entry by entry, O(k d))
//     L  <- L - eta_t G,   eta_t = learning_rate / (1 + decay * t)
// where t counts the triplets seen before this one (active or not). Robbins-Monro: sum eta_t = inf,
// sum eta_t^2 < inf once decay > 0. With decay = 0 the step is constant (tracks a drifting metric).
// Distance calls (const) may run concurrently; update must not run concurrently with anything.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "slotdiff/concepts/distance_metric.hpp"
#include "slotdiff/metrics/errors.hpp"

namespace slotdiff {

struct mahalanobis_options {
  /// Rows of L; 0 = the dimension (full rank). A smaller rank learns a projection to k dimensions.
  std::size_t rank = 0;
  double margin = 1.0;
  double learning_rate = 0.01;
  double decay = 1e-3;
  double max_gradient_norm = 10.0;
};

class mahalanobis {
public:
  /// L = the k x d identity (the leading k coordinates): d starts as the Euclidean distance when k = d.
  /// Throws metric_error if dim == 0 or rank > dim.
  explicit mahalanobis(std::size_t dim, const mahalanobis_options& o = {}) : o_(o), d_(dim), k_(o.rank ? o.rank : dim) {
    if (dim == 0) detail::throw_metric("mahalanobis: dimension 0");
    if (k_ > d_) detail::throw_metric("mahalanobis: rank ", k_, " > dimension ", d_);
    check_options();
    l_.assign(k_ * d_, 0.0f);
    for (std::size_t i = 0; i < k_; ++i) l_[i * d_ + i] = 1.0f;
  }
  /// Starts from a given row-major k x d matrix L (o.rank is ignored: k = l.size() / dim).
  /// Throws metric_error on a size mismatch or NaN.
  static mahalanobis from_matrix(std::size_t dim, std::vector<float> l, const mahalanobis_options& o = {}) {
    if (dim == 0 || l.empty() || l.size() % dim != 0)
      detail::throw_metric("mahalanobis: L has ", l.size(), " entries, not a multiple of the dimension ", dim);
    detail::check_finite("mahalanobis", "L", l.data(), l.size());
    mahalanobis_options full = o;
    full.rank = 0;
    mahalanobis m(dim, full);
    m.k_ = l.size() / dim;
    m.l_ = std::move(l);
    return m;
  }

  std::size_t dimension() const noexcept { return d_; }
  std::size_t rank() const noexcept { return k_; }
  /// L, row-major k x d.
  std::span<const float> matrix() const noexcept { return l_; }
  /// Triplets seen so far (the t of the step rule).
  std::size_t steps() const noexcept { return t_; }

  /// |L (a - b)|^2. Requires a.size() == b.size() == dimension(), finite. Complexity O(k d).
  float squared(std::span<const float> a, std::span<const float> b) const {
    check(a, "a");
    check(b, "b");
    thread_local std::vector<float> diff;  // per thread: const calls may run concurrently
    diff.resize(d_);
    for (std::size_t j = 0; j < d_; ++j) diff[j] = a[j] - b[j];
    return static_cast<float>(norm2_of_l_times(diff, nullptr));
  }
  /// d(a, b) = |L (a - b)|. Throws metric_error naming the input on bad sizes or NaN.
  float operator()(std::span<const float> a, std::span<const float> b) const { return std::sqrt(squared(a, b)); }

  /// One SGD step on the triplet (see the header comment). Returns the hinge loss before the step
  /// (0: the triplet was already satisfied with margin, L unchanged). Complexity O(k d).
  /// Throws metric_error on bad sizes or NaN (L unchanged).
  double update(std::span<const float> anchor, std::span<const float> closer, std::span<const float> farther) {
    check(anchor, "anchor");
    check(closer, "closer");
    check(farther, "farther");
    std::vector<double> u(d_), v(d_), lu(k_), lv(k_);
    for (std::size_t j = 0; j < d_; ++j) {
      u[j] = double(anchor[j]) - closer[j];
      v[j] = double(anchor[j]) - farther[j];
    }
    const double du = l_times(u, lu), dv = l_times(v, lv);
    const double loss = std::max(0.0, o_.margin + du - dv);
    if (!std::isfinite(du) || !std::isfinite(dv))
      detail::throw_metric("mahalanobis: update: |L (anchor - closer)|^2 = ", du, " and |L (anchor - farther)|^2 = ", dv,
                           " overflow double; rescale the inputs");
    const double eta = o_.learning_rate / (1.0 + o_.decay * static_cast<double>(t_));
    ++t_;
    if (loss <= 0) return loss;
    // |G|_F summed entry by entry, G_ij = 2 (Lu_i u_j - Lv_i v_j): the expansion through inner products
    // (|Lu|^2 |u|^2 + |Lv|^2 |v|^2 - 2 (Lu . Lv)(u . v)) cancels catastrophically when u and v are
    // long and nearly parallel (anchor (1e8, 1): it read 0 and the clip never fired). Scaled by the
    // largest entry so that the squares cannot overflow.
    const double gnorm = 2.0 * rank2_frobenius(lu, u, lv, v);
    if (!std::isfinite(gnorm)) {
      --t_;
      detail::throw_metric("mahalanobis: update: the gradient's norm ", gnorm, " is not finite; rescale the inputs");
    }
    const double scale = gnorm > o_.max_gradient_norm ? o_.max_gradient_norm / gnorm : 1.0;
    const double step = 2.0 * eta * scale;
    for (std::size_t i = 0; i < k_; ++i) {
      float* row = l_.data() + i * d_;
      const double a = step * lu[i], b = step * lv[i];
      for (std::size_t j = 0; j < d_; ++j) row[j] = static_cast<float>(row[j] - a * u[j] + b * v[j]);
    }
    return loss;
  }

private:
  void check_options() const {
    if (!(o_.learning_rate > 0) || !(o_.decay >= 0) || !(o_.max_gradient_norm > 0) || !(o_.margin >= 0))
      detail::throw_metric("mahalanobis: options need learning_rate > 0, decay >= 0, max_gradient_norm > 0, margin >= 0 (got ",
                           o_.learning_rate, ", ", o_.decay, ", ", o_.max_gradient_norm, ", ", o_.margin, ")");
  }
  void check(std::span<const float> x, const char* name) const {
    if (x.size() != d_) detail::throw_metric("mahalanobis: ", name, " has ", x.size(), " elements, the metric has dimension ", d_);
    detail::check_finite("mahalanobis", name, x.data(), x.size());
  }
  template <class V>
  double norm2_of_l_times(const V& x, std::vector<double>* out) const {
    double s = 0;
    for (std::size_t i = 0; i < k_; ++i) {
      const float* row = l_.data() + i * d_;
      double r = 0;
      for (std::size_t j = 0; j < d_; ++j) r += double(row[j]) * x[j];
      if (out) (*out)[i] = r;
      s += r * r;
    }
    return s;
  }
  double l_times(const std::vector<double>& x, std::vector<double>& out) const { return norm2_of_l_times(x, &out); }
  /// |x u^T - y v^T|_F, entry by entry, two passes (largest entry, then the scaled sum of squares).
  static double rank2_frobenius(const std::vector<double>& x, const std::vector<double>& u, const std::vector<double>& y,
                                const std::vector<double>& v) {
    double big = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
      for (std::size_t j = 0; j < u.size(); ++j) big = std::max(big, std::abs(x[i] * u[j] - y[i] * v[j]));
    if (big == 0 || !std::isfinite(big)) return big;
    double s = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
      for (std::size_t j = 0; j < u.size(); ++j) {
        const double g = (x[i] * u[j] - y[i] * v[j]) / big;
        s += g * g;
      }
    return big * std::sqrt(s);
  }

  mahalanobis_options o_;
  std::size_t d_ = 0, k_ = 0, t_ = 0;
  std::vector<float> l_;
};

static_assert(distance_metric<mahalanobis>);

}  // namespace slotdiff
