// slotdiff/metrics/transport.hpp: entropic optimal transport between weighted point sets.
//
// sinkhorn() solves   min_P <P, C> - eps H(P)   s.t.  P 1 = a,  P^T 1 = b,  P >= 0
// (H(P) = -sum P log P; the same problem and plan as POT's ot.sinkhorn / ot.sinkhorn2 with reg = eps)
// and returns the transport cost <P, C> of that plan: it is >= the exact OT cost and decreases to it as
// eps -> 0. The plan is kept as P_ij = exp((f_i + g_j - C_ij) / eps) with dual potentials f, g.
//
// Two paths, same answer:
//   kernel_path::serial  the reference: pure log-domain updates (log-sum-exp over rows and columns,
//                        std::exp / std::log in double), one marginal check per iteration.
//   kernel_path::fast    the stabilised scaling form (Schmitzer 2019): the kernel
//                        K = exp((f + g - C) / eps) is built once per stage with a vectorised exp and
//                        then iterated with multiplicative updates u = a / K v, v = b / K^T u (two
//                        matrix-vector products, no exp); whenever u or v leaves [1e-50, 1e50] they are
//                        absorbed into the log-domain potentials (f += eps log u) and K is rebuilt.
//                        No overflow or underflow for any eps.
// Both use epsilon scaling: eps_0 = .epsilon_start (default: the range of C), eps_{k+1} =
// max(.epsilon, .scaling * eps_k); intermediate stages stop at .stage_tolerance, the last at .tolerance.
// Convergence: after each iteration the column marginals are exact, and the row marginal violation
// sum_i |(P 1)_i - a_i| (L1) is measured; converged when it is <= .tolerance.
// Non-convergence within .max_iterations is reported (result.converged = false), never hidden;
// wmd_distance / sinkhorn_cost throw convergence_error instead.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <span>
#include <vector>

#include "slotdiff/concepts/distance_metric.hpp"
#include "slotdiff/metrics/batch.hpp"
#include "slotdiff/metrics/detail/simd.hpp"
#include "slotdiff/metrics/errors.hpp"
#include "slotdiff/metrics/kernels.hpp"
#include "slotdiff/metrics/vector.hpp"

namespace slotdiff {

struct sinkhorn_options {
  /// Target entropic regularisation, in the units of the cost (absolute). > 0.
  double epsilon = 0.05;
  /// Final stopping rule: L1 row-marginal violation.
  double tolerance = 1e-6;
  /// Stopping rule of the intermediate epsilon-scaling stages.
  double stage_tolerance = 1e-3;
  /// Multiplier between stages, in (0, 1]; 1 disables epsilon scaling.
  double scaling = 0.5;
  /// First stage's epsilon; 0 = max(C) - min(C) (or .epsilon if that is smaller).
  double epsilon_start = 0;
  /// Iteration budget over all stages.
  int max_iterations = 10000;
  /// |sum a - sum b| and |sum - 1| allowed for the weights.
  double weight_tolerance = 1e-4;
  kernel_path path = kernel_path::fast;
};

struct sinkhorn_result {
  double cost = std::numeric_limits<double>::quiet_NaN();  ///< <P, C>
  double marginal_error = std::numeric_limits<double>::infinity();  ///< final L1 row-marginal violation
  int iterations = 0;     ///< over all stages
  int stages = 0;         ///< epsilon values visited
  bool converged = false;
};

namespace detail {

inline void check_weights(const char* fn, const char* name, std::span<const float> w, double tol) {
  double s = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (!std::isfinite(w[i])) throw_metric(fn, ": ", name, "[", i, "] = ", w[i], " is not finite");
    if (w[i] < 0) throw_metric(fn, ": ", name, "[", i, "] = ", w[i], " is a negative weight");
    s += w[i];
  }
  if (!(std::abs(s - 1.0) <= tol)) throw_metric(fn, ": ", name, " sums to ", s, ", not 1 (tolerance ", tol, ")");
}

// Solver state over the support (the points with positive weight).
struct ot_problem {
  std::size_t n = 0, m = 0;
  std::vector<double> c;      // n x m
  std::vector<double> a, b;   // positive weights
};

/// One half of a log-domain Sinkhorn iteration, for the rows (f) or the columns (g): for k < count,
/// out_k = eps (log_w_k - LSE_l (other_l - C(k, l)) / eps) over l < other_count, where
/// C(k, l) = c[k * stride_k + l * stride_l] (rows: strides m, 1; columns: 1, m). Complexity O(count other_count).
inline void sinkhorn_half_step(std::vector<double>& out, const std::vector<double>& log_w, const std::vector<double>& other,
                               std::size_t count, std::size_t other_count, const std::vector<double>& c, std::size_t stride_k,
                               std::size_t stride_l, double eps) {
  for (std::size_t k = 0; k < count; ++k) {
    double mx = -std::numeric_limits<double>::infinity();
    for (std::size_t l = 0; l < other_count; ++l) mx = std::max(mx, (other[l] - c[k * stride_k + l * stride_l]) / eps);
    double s = 0;
    for (std::size_t l = 0; l < other_count; ++l) s += std::exp((other[l] - c[k * stride_k + l * stride_l]) / eps - mx);
    out[k] = eps * (log_w[k] - mx - std::log(s));
  }
}

inline sinkhorn_result sinkhorn_log_serial(const ot_problem& pr, const sinkhorn_options& o, std::vector<double>& f,
                                           std::vector<double>& g, double eps0) {
  const std::size_t n = pr.n, m = pr.m;
  sinkhorn_result res;
  std::vector<double> la(n), lb(m), tmp(std::max(n, m));
  for (std::size_t i = 0; i < n; ++i) la[i] = std::log(pr.a[i]);
  for (std::size_t j = 0; j < m; ++j) lb[j] = std::log(pr.b[j]);
  double eps = eps0;
  for (;;) {
    ++res.stages;
    const bool last = eps <= o.epsilon;
    const double tol = last ? o.tolerance : std::max(o.tolerance, o.stage_tolerance);
    for (;;) {
      if (res.iterations >= o.max_iterations) return res;
      ++res.iterations;
      // f_i = eps log a_i - eps LSE_j (g_j - C_ij) / eps, then g likewise over the columns
      sinkhorn_half_step(f, la, g, n, m, pr.c, m, 1, eps);
      sinkhorn_half_step(g, lb, f, m, n, pr.c, 1, m, eps);
      double err = 0;
      for (std::size_t i = 0; i < n; ++i) {
        double s = 0;
        for (std::size_t j = 0; j < m; ++j) s += std::exp((f[i] + g[j] - pr.c[i * m + j]) / eps);
        err += std::abs(s - pr.a[i]);
      }
      res.marginal_error = err;
      if (!std::isfinite(err)) return res;
      if (err <= tol) break;
    }
    if (last) break;
    eps = std::max(o.epsilon, eps * o.scaling);
  }
  res.converged = true;
  double cost = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j) cost += std::exp((f[i] + g[j] - pr.c[i * m + j]) / eps) * pr.c[i * m + j];
  res.cost = cost;
  return res;
}


// K_ij = exp((f_i + g_j - C_ij) / eps)
inline void build_kernel(const ot_problem& pr, const std::vector<double>& f, const std::vector<double>& g, double eps,
                         std::vector<double>& k) {
  const std::size_t n = pr.n, m = pr.m;
  const double inv = 1.0 / eps;
  for (std::size_t i = 0; i < n; ++i) {
    const double* c = pr.c.data() + i * m;
    double* kr = k.data() + i * m;
    exp_row_auto(f[i], g.data(), c, inv, kr, m);
  }
}

// out_i = sum_j K_ij v_j
inline void kernel_times(const std::vector<double>& k, std::size_t n, std::size_t m, const double* v, double* out) {
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = dot_f64_auto(k.data() + i * m, v, m);
  }
}

// out_j = sum_i K_ij u_i  (axpy form: rows streamed once)
inline void kernel_t_times(const std::vector<double>& k, std::size_t n, std::size_t m, const double* u, double* out) {
  std::fill(out, out + m, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const double* kr = k.data() + i * m;
    const double ui = u[i];
    for (std::size_t j = 0; j < m; ++j) out[j] += ui * kr[j];
  }
}


inline sinkhorn_result sinkhorn_scaling_fast(const ot_problem& pr, const sinkhorn_options& o, std::vector<double>& f,
                                             std::vector<double>& g, double eps0) {
  constexpr double hi = 1e50, lo = 1e-50;
  const std::size_t n = pr.n, m = pr.m;
  sinkhorn_result res;
  std::vector<double> k(n * m), u(n, 1.0), v(m, 1.0), kv(n), ktu(m);
  double eps = eps0;
  auto absorb = [&] {
    for (std::size_t i = 0; i < n; ++i) f[i] += eps * std::log(u[i]), u[i] = 1.0;
    for (std::size_t j = 0; j < m; ++j) g[j] += eps * std::log(v[j]), v[j] = 1.0;
  };
  for (;;) {
    ++res.stages;
    const bool last = eps <= o.epsilon;
    const double tol = last ? o.tolerance : std::max(o.tolerance, o.stage_tolerance);
    build_kernel(pr, f, g, eps, k);
    for (;;) {
      kernel_times(k, n, m, v.data(), kv.data());
      if (res.iterations > 0) {  // row marginal of the current plan: u_i (K v)_i
        double err = 0;
        for (std::size_t i = 0; i < n; ++i) err += std::abs(u[i] * kv[i] - pr.a[i]);
        res.marginal_error = err;
        if (!std::isfinite(err)) return res;
        if (err <= tol) break;
      }
      if (res.iterations >= o.max_iterations) return res;
      ++res.iterations;
      bool big = false;
      for (std::size_t i = 0; i < n; ++i) {
        u[i] = pr.a[i] / kv[i];
        big |= !(u[i] < hi && u[i] > lo);
      }
      kernel_t_times(k, n, m, u.data(), ktu.data());
      for (std::size_t j = 0; j < m; ++j) {
        v[j] = pr.b[j] / ktu[j];
        big |= !(v[j] < hi && v[j] > lo);
      }
      if (big) {
        for (std::size_t i = 0; i < n; ++i)
          if (!(u[i] > 0) || !std::isfinite(u[i])) return res;  // K v underflowed to 0: cannot recover
        for (std::size_t j = 0; j < m; ++j)
          if (!(v[j] > 0) || !std::isfinite(v[j])) return res;
        absorb();
        build_kernel(pr, f, g, eps, k);
      }
    }
    absorb();
    if (last) break;
    eps = std::max(o.epsilon, eps * o.scaling);
  }
  res.converged = true;
  build_kernel(pr, f, g, eps, k);
  double cost = 0;
  for (std::size_t i = 0; i < n * m; ++i) cost += k[i] * pr.c[i];
  res.cost = cost;
  return res;
}

}  // namespace detail

/// Entropic OT between weights a (rows of cost) and b (columns of cost), cost matrix C (n x m).
/// Requires: C finite, n, m > 0; a, b >= 0, finite, each summing to 1 within .weight_tolerance;
/// options: epsilon > 0, 0 < scaling <= 1. Zero-weight points are dropped from the problem (their
/// plan rows/columns are 0).
/// Complexity: O(n m) per iteration, plus one vectorised exp of n m entries per stage and absorption.
/// If `plan` is given (n x m) it receives P. Throws: metric_error on bad input (naming it); a solver
/// that does not converge is reported in the result, not thrown.
inline sinkhorn_result sinkhorn(matrix_view<const float> cost, std::span<const float> a, std::span<const float> b,
                                const sinkhorn_options& o = {}, matrix_view<float> plan = {}) {
  const char* fn = "sinkhorn";
  if (cost.rows == 0 || cost.cols == 0) detail::throw_metric(fn, ": the cost matrix is empty (", cost.rows, " x ", cost.cols, ")");
  if (a.size() != cost.rows) detail::throw_metric(fn, ": a has ", a.size(), " weights for ", cost.rows, " cost rows");
  if (b.size() != cost.cols) detail::throw_metric(fn, ": b has ", b.size(), " weights for ", cost.cols, " cost columns");
  if (!(o.epsilon > 0) || !std::isfinite(o.epsilon)) detail::throw_metric(fn, ": .epsilon = ", o.epsilon, " must be > 0");
  if (!(o.scaling > 0 && o.scaling <= 1)) detail::throw_metric(fn, ": .scaling = ", o.scaling, " must be in (0, 1]");
  if (plan.data && (plan.rows != cost.rows || plan.cols != cost.cols))
    detail::throw_metric(fn, ": plan is ", plan.rows, " x ", plan.cols, " but the cost is ", cost.rows, " x ", cost.cols);
  detail::check_weights(fn, "a", a, o.weight_tolerance);
  detail::check_weights(fn, "b", b, o.weight_tolerance);
  std::vector<std::size_t> ri, ci;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] > 0) ri.push_back(i);
  for (std::size_t j = 0; j < b.size(); ++j)
    if (b[j] > 0) ci.push_back(j);
  detail::ot_problem pr;
  pr.n = ri.size();
  pr.m = ci.size();
  pr.c.resize(pr.n * pr.m);
  pr.a.resize(pr.n);
  pr.b.resize(pr.m);
  double cmin = std::numeric_limits<double>::infinity(), cmax = -cmin;
  for (std::size_t i = 0; i < pr.n; ++i) {
    pr.a[i] = a[ri[i]];
    for (std::size_t j = 0; j < pr.m; ++j) {
      const float c = cost(ri[i], ci[j]);
      if (!std::isfinite(c)) detail::throw_metric(fn, ": cost(", ri[i], ", ", ci[j], ") = ", c, " is not finite");
      pr.c[i * pr.m + j] = c;
      cmin = std::min(cmin, double(c));
      cmax = std::max(cmax, double(c));
    }
  }
  for (std::size_t j = 0; j < pr.m; ++j) pr.b[j] = b[ci[j]];
  // Rescale the weights to sum exactly to 1 each (they agree within weight_tolerance already).
  double sa = 0, sb = 0;
  for (double x : pr.a) sa += x;
  for (double x : pr.b) sb += x;
  for (double& x : pr.a) x /= sa;
  for (double& x : pr.b) x /= sb;
  double eps0 = o.epsilon_start > 0 ? o.epsilon_start : cmax - cmin;
  if (o.scaling == 1.0 || !(eps0 > o.epsilon)) eps0 = o.epsilon;
  std::vector<double> f(pr.n, 0.0), g(pr.m, 0.0);
  sinkhorn_result r = o.path == kernel_path::serial ? detail::sinkhorn_log_serial(pr, o, f, g, eps0)
                                                     : detail::sinkhorn_scaling_fast(pr, o, f, g, eps0);
  if (plan.data) {
    std::fill(plan.data, plan.data + plan.size(), 0.0f);
    if (r.converged)
      for (std::size_t i = 0; i < pr.n; ++i)
        for (std::size_t j = 0; j < pr.m; ++j)
          plan(ri[i], ci[j]) = static_cast<float>(std::exp((f[i] + g[j] - pr.c[i * pr.m + j]) / o.epsilon));
  }
  return r;
}

/// The transport cost of sinkhorn(), or convergence_error naming the residual and the budget.
inline double sinkhorn_cost(matrix_view<const float> cost, std::span<const float> a, std::span<const float> b,
                            const sinkhorn_options& o = {}) {
  const sinkhorn_result r = sinkhorn(cost, a, b, o);
  if (!r.converged) {
    std::ostringstream os;
    os << "sinkhorn: no convergence after " << r.iterations << " iterations (" << r.stages
       << " epsilon stages): marginal error " << r.marginal_error << " > tolerance " << o.tolerance
       << " at epsilon " << o.epsilon << "; raise .max_iterations or .epsilon";
    throw convergence_error(os.str());
  }
  return r.cost;
}

/// Word mover's distance (Kusner et al. 2015) by entropic OT: the Sinkhorn transport cost between the
/// word sets x (rows, weights wx) and y (rows, weights wy) with cost C_ij = metric(x_i, y_j).
/// Requires: x.cols == y.cols; weights as in sinkhorn(). Complexity: O(n m d) for C plus sinkhorn().
/// Throws: metric_error on bad input, convergence_error when Sinkhorn does not converge.
template <distance_metric M = euclidean_distance>
struct word_movers_distance {
  M metric{};
  sinkhorn_options sinkhorn{};

  double operator()(matrix_view<const float> x, std::span<const float> wx, matrix_view<const float> y,
                    std::span<const float> wy) const {
    std::vector<float> c(x.rows * y.rows);
    many_vs_many(metric, x, y, matrix_view<float>(c.data(), x.rows, y.rows));
    return sinkhorn_cost(matrix_view<const float>(c.data(), x.rows, y.rows), wx, wy, sinkhorn);
  }
};

/// The relaxed WMD lower bound (Kusner et al. 2015): max(sum_i wx_i min_j C_ij, sum_j wy_j min_i C_ij),
/// a lower bound of the exact OT cost (hence of the Sinkhorn cost). Requires/Throws as above; weights
/// are checked to be finite, >= 0 and sum to 1 within 1e-4. Complexity: O(n m d).
template <distance_metric M = euclidean_distance>
double relaxed_wmd(matrix_view<const float> x, std::span<const float> wx, matrix_view<const float> y,
                   std::span<const float> wy, const M& metric = {}) {
  if (wx.size() != x.rows) detail::throw_metric("relaxed_wmd: wx has ", wx.size(), " weights for ", x.rows, " rows");
  if (wy.size() != y.rows) detail::throw_metric("relaxed_wmd: wy has ", wy.size(), " weights for ", y.rows, " rows");
  detail::check_weights("relaxed_wmd", "wx", wx, 1e-4);
  detail::check_weights("relaxed_wmd", "wy", wy, 1e-4);
  std::vector<float> c(x.rows * y.rows);
  many_vs_many(metric, x, y, matrix_view<float>(c.data(), x.rows, y.rows));
  double lx = 0, ly = 0;
  for (std::size_t i = 0; i < x.rows; ++i) lx += wx[i] * *std::min_element(c.begin() + i * y.rows, c.begin() + (i + 1) * y.rows);
  for (std::size_t j = 0; j < y.rows; ++j) {
    float mn = c[j];
    for (std::size_t i = 1; i < x.rows; ++i) mn = std::min(mn, c[i * y.rows + j]);
    ly += wy[j] * mn;
  }
  return std::max(lx, ly);
}

}  // namespace slotdiff
