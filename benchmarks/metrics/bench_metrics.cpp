// bench_metrics: the distance kernels for d in {64, 256, 768, 1536} and Sinkhorn for 16/32/64-point
// sets in d = 256, against a plain-loop baseline in the same binary (and SimSIMD when its headers are
// there: scripts/fetch-simsimd). Fixed seeds; items/s = pairs per second, bytes/s = input bytes read.
// Run: build/metrics-rel/benchmarks/metrics/bench_metrics --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "slotdiff/metrics/batch.hpp"
#include "slotdiff/metrics/kernels.hpp"
#include "slotdiff/metrics/probability.hpp"
#include "slotdiff/metrics/transport.hpp"
#include "slotdiff/metrics/vector.hpp"

#if SLOTDIFF_BENCH_SIMSIMD
#define SIMSIMD_DYNAMIC_DISPATCH 0
#define SIMSIMD_NATIVE_F16 0
#define SIMSIMD_NATIVE_BF16 0
#include <simsimd/simsimd.h>
#endif

using namespace slotdiff;

namespace {

struct inputs {
  std::vector<float> a, b, p, q;
  explicit inputs(std::size_t d) : a(d), b(d), p(d), q(d) {
    std::mt19937_64 g(42 + d);
    std::normal_distribution<float> n;
    std::uniform_real_distribution<float> u(0.01f, 1.0f);
    for (auto& x : a) x = n(g);
    for (auto& x : b) x = n(g);
    double sp = 0, sq = 0;
    for (auto& x : p) sp += (x = u(g));
    for (auto& x : q) sq += (x = u(g));
    for (auto& x : p) x = static_cast<float>(x / sp);
    for (auto& x : q) x = static_cast<float>(x / sq);
  }
};

// The plain loops a user would write (float accumulation, std::log): the baseline.
float plain_dot(const float* a, const float* b, std::size_t n) {
  float s = 0;
  for (std::size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}
float plain_l2(const float* a, const float* b, std::size_t n) {
  float s = 0;
  for (std::size_t i = 0; i < n; ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s);
}
float plain_cos(const float* a, const float* b, std::size_t n) {
  float ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < n; ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
  return 1.0f - ab / std::sqrt(aa * bb);
}
float plain_kl(const float* p, const float* q, std::size_t n) {
  float s = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] > 0) s += p[i] * std::log(p[i] / q[i]);
  return s;
}
float plain_js(const float* p, const float* q, std::size_t n) {
  float s = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float m = 0.5f * (p[i] + q[i]);
    if (p[i] > 0) s += p[i] * std::log(p[i] / m);
    if (q[i] > 0) s += q[i] * std::log(q[i] / m);
  }
  return std::sqrt(0.5f * s);
}

template <class F>
void run_pair(benchmark::State& st, bool prob, F f) {
  const auto d = static_cast<std::size_t>(st.range(0));
  const inputs in(d);
  const float* x = prob ? in.p.data() : in.a.data();
  const float* y = prob ? in.q.data() : in.b.data();
  for (auto _ : st) {
    benchmark::DoNotOptimize(x);
    benchmark::DoNotOptimize(y);
    benchmark::DoNotOptimize(f(x, y, d));
  }
  st.SetItemsProcessed(st.iterations());
  st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(2 * d * sizeof(float)));
}

#define PAIR(name, prob, expr)                                                              \
  void BM_##name(benchmark::State& st) { run_pair(st, prob, [](const float* x, const float* y, std::size_t n) { return expr; }); } \
  BENCHMARK(BM_##name)->Arg(64)->Arg(256)->Arg(768)->Arg(1536)

// slotdiff fast kernels (raw: what the metric objects call after checking)
PAIR(dot_f32_auto, false, dot_f32_auto(x, y, n));
PAIR(l2_f32_auto, false, std::sqrt(l2sq_f32_auto(x, y, n)));
PAIR(cos_f32_auto, false, cos_f32_auto(x, y, n));
PAIR(kl_f32_auto, true, kl_f32_auto(x, y, n));
PAIR(js_f32_auto, true, std::sqrt(js_f32_auto(x, y, n)));  // the distance, as SimSIMD's js returns
PAIR(hellinger_f32_auto, true, hellinger_f32_auto(x, y, n));
PAIR(tv_f32_auto, true, tv_f32_auto(x, y, n));
// the checked metric objects (length + NaN checks; for distributions the validation pass)
PAIR(cosine_distance_checked, false, (cosine_distance{}(std::span<const float>(x, n), std::span<const float>(y, n))));
PAIR(euclidean_distance_checked, false, (euclidean_distance{}(std::span<const float>(x, n), std::span<const float>(y, n))));
PAIR(kl_divergence_checked, true, (kl_divergence{}(std::span<const float>(x, n), std::span<const float>(y, n))));
PAIR(jensen_shannon_distance_checked, true, (jensen_shannon_distance{}(std::span<const float>(x, n), std::span<const float>(y, n))));
// serial references
PAIR(dot_f32_serial, false, static_cast<float>(dot_f32_serial(x, y, n)));
PAIR(kl_f32_serial, true, static_cast<float>(kl_f32_serial(x, y, n)));
// plain-loop baseline
PAIR(plain_dot, false, plain_dot(x, y, n));
PAIR(plain_l2, false, plain_l2(x, y, n));
PAIR(plain_cos, false, plain_cos(x, y, n));
PAIR(plain_kl, true, plain_kl(x, y, n));
PAIR(plain_js, true, plain_js(x, y, n));
#if SLOTDIFF_BENCH_SIMSIMD
// SimSIMD's best kernel for this machine (dynamic dispatch off: the compile-time ISA, haswell under AVX2)
template <void (*K)(simsimd_f32_t const*, simsimd_f32_t const*, simsimd_size_t, simsimd_distance_t*)>
float ss(const float* x, const float* y, std::size_t n) {
  simsimd_distance_t r;
  K(x, y, n, &r);
  return static_cast<float>(r);
}
PAIR(simsimd_dot_f32, false, (ss<simsimd_dot_f32>(x, y, n)));
PAIR(simsimd_l2_f32, false, (ss<simsimd_l2_f32>(x, y, n)));
PAIR(simsimd_cos_f32, false, (ss<simsimd_cos_f32>(x, y, n)));
PAIR(simsimd_kl_f32, true, (ss<simsimd_kl_f32>(x, y, n)));
PAIR(simsimd_js_f32, true, (ss<simsimd_js_f32>(x, y, n)));
#endif

// ---- bf16 inputs ----
void cos_bf16_auto_bench(benchmark::State& st) {
  const auto d = static_cast<std::size_t>(st.range(0));
  const inputs in(d);
  std::vector<bf16> a(d), b(d);
  for (std::size_t i = 0; i < d; ++i) a[i] = bf16::from_float(in.a[i]), b[i] = bf16::from_float(in.b[i]);
  for (auto _ : st) benchmark::DoNotOptimize(cos_bf16_auto(a.data(), b.data(), d));
  st.SetItemsProcessed(st.iterations());
  st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(2 * d * sizeof(bf16)));
}
BENCHMARK(cos_bf16_auto_bench)->Arg(768);

// ---- Sinkhorn: n x n points in d = 256, the WMD cost (squared Euclidean / max), eps = 0.05, tol 1e-6 ----
struct ot_inputs {
  std::size_t n, d = 256;
  std::vector<float> x, y, c, w;
  explicit ot_inputs(std::size_t n_) : n(n_), x(n_ * 256), y(n_ * 256), c(n_ * n_), w(n_, 1.0f / float(n_)) {
    std::mt19937_64 g(7 + n);
    std::normal_distribution<float> nd;
    for (auto& v : x) v = nd(g) / 16.0f;
    for (auto& v : y) v = nd(g) / 16.0f;
    many_vs_many(squared_euclidean_distance{.path = kernel_path::serial}, matrix_view<const float>(x.data(), n, d),
                 matrix_view<const float>(y.data(), n, d), matrix_view<float>(c.data(), n, n));
    float mx = 0;
    for (float v : c) mx = std::max(mx, v);
    for (float& v : c) v /= mx;
  }
};

void sinkhorn_bench(benchmark::State& st, kernel_path path, bool scaling) {
  const ot_inputs in(static_cast<std::size_t>(st.range(0)));
  const matrix_view<const float> C(in.c.data(), in.n, in.n);
  const sinkhorn_options o{.epsilon = 0.05, .tolerance = 1e-6, .scaling = scaling ? 0.5 : 1.0, .max_iterations = 100000, .path = path};
  sinkhorn_result r;
  for (auto _ : st) {
    r = sinkhorn(C, in.w, in.w, o);
    benchmark::DoNotOptimize(r.cost);
  }
  if (!r.converged) st.SkipWithError("did not converge");
  st.counters["iterations"] = r.iterations;
  st.counters["cost"] = r.cost;
  st.SetItemsProcessed(st.iterations());
}
void sinkhorn_fast(benchmark::State& st) { sinkhorn_bench(st, kernel_path::fast, true); }
void sinkhorn_fast_noscaling(benchmark::State& st) { sinkhorn_bench(st, kernel_path::fast, false); }
void sinkhorn_serial(benchmark::State& st) { sinkhorn_bench(st, kernel_path::serial, true); }
BENCHMARK(sinkhorn_fast)->Arg(16)->Arg(32)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(sinkhorn_fast_noscaling)->Arg(16)->Arg(32)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(sinkhorn_serial)->Arg(16)->Arg(32)->Arg(64)->Unit(benchmark::kMicrosecond);

// Full WMD from the points: the cost matrix (blocked) + Sinkhorn.
void wmd_points(benchmark::State& st) {
  const ot_inputs in(static_cast<std::size_t>(st.range(0)));
  // costs are ~2 +- 0.25 here (unnormalised): eps = 0.1 is the same 5% of the cost scale as above
  const word_movers_distance<squared_euclidean_distance> wmd{.sinkhorn = {.epsilon = 0.1, .tolerance = 1e-6, .max_iterations = 100000}};
  for (auto _ : st)
    benchmark::DoNotOptimize(wmd(matrix_view<const float>(in.x.data(), in.n, in.d), in.w, matrix_view<const float>(in.y.data(), in.n, in.d), in.w));
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(wmd_points)->Arg(16)->Arg(32)->Arg(64)->Unit(benchmark::kMicrosecond);

// Cost matrix alone: blocked gram path vs per-pair serial.
void cost_matrix(benchmark::State& st, kernel_path path) {
  const ot_inputs in(static_cast<std::size_t>(st.range(0)));
  std::vector<float> out(in.n * in.n);
  for (auto _ : st)
    many_vs_many(squared_euclidean_distance{.path = path}, matrix_view<const float>(in.x.data(), in.n, in.d),
                 matrix_view<const float>(in.y.data(), in.n, in.d), matrix_view<float>(out.data(), in.n, in.n));
  st.SetItemsProcessed(st.iterations() * static_cast<std::int64_t>(in.n * in.n));
}
void cost_matrix_blocked(benchmark::State& st) { cost_matrix(st, kernel_path::fast); }
void cost_matrix_serial(benchmark::State& st) { cost_matrix(st, kernel_path::serial); }
BENCHMARK(cost_matrix_blocked)->Arg(32)->Unit(benchmark::kMicrosecond);
BENCHMARK(cost_matrix_serial)->Arg(32)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
