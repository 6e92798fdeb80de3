// Every SIMD path this CPU supports (portable, avx2, avx512), forced one at a time, against the serial
// twins: empty, tail-shaped, tiny, huge and NaN inputs; and the dispatch routes *_auto, the metric
// objects and the blocked kernels to the forced path.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "random.hpp"
#include "slotdiff/metrics/batch.hpp"
#include "slotdiff/metrics/kernels.hpp"
#include "slotdiff/metrics/metrics.hpp"
#include "slotdiff/metrics/transport.hpp"

using namespace slotdiff;

namespace {

bool near(double got, double want, double rel, double abs) { return std::abs(got - want) <= abs + rel * std::abs(want); }

/// The kernels of one ISA, by name.
struct isa_kernels {
  simd_isa isa;
  float (*dot)(const float*, const float*, std::size_t);
  float (*l2sq)(const float*, const float*, std::size_t);
  float (*cos)(const float*, const float*, std::size_t);
  float (*dot_bf16)(const bf16*, const bf16*, std::size_t);
  float (*cos_f16)(const f16*, const f16*, std::size_t);
  float (*kl)(const float*, const float*, std::size_t);
  float (*js)(const float*, const float*, std::size_t);
  float (*hellinger)(const float*, const float*, std::size_t);
  float (*tv)(const float*, const float*, std::size_t);
};

#define SLOTDIFF_TEST_ISA(isa)                                                                                 \
  isa_kernels {                                                                                                \
    simd_isa::isa, dot_f32_##isa, l2sq_f32_##isa, cos_f32_##isa, dot_bf16_##isa, cos_f16_##isa, kl_f32_##isa, \
        js_f32_##isa, hellinger_f32_##isa, tv_f32_##isa                                                        \
  }

/// The paths this CPU can run (the others are reported, not run).
std::vector<isa_kernels> supported_paths() {
  std::vector<isa_kernels> all{SLOTDIFF_TEST_ISA(portable)};
#if SLOTDIFF_SIMD_X86
  all.push_back(SLOTDIFF_TEST_ISA(avx2));
  all.push_back(SLOTDIFF_TEST_ISA(avx512));
#endif
  std::vector<isa_kernels> run;
  for (const auto& k : all) {
    if (static_cast<int>(k.isa) <= static_cast<int>(cpu_simd_isa())) run.push_back(k);
    else WARN("this CPU has no " << simd_isa_name(k.isa) << ": that path is not tested here");
  }
  return run;
}

/// Restores the dispatch when a test section ends.
struct forced_isa {
  simd_isa before;
  explicit forced_isa(simd_isa isa) : before(use_simd_isa(isa)) {}
  ~forced_isa() { use_simd_isa(before); }
};

// Lengths with every tail shape of 4, 8 and 16 lanes and of the 4-accumulator blocks, and a long one.
const std::size_t lengths[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 127, 129, 1000, 4099};

std::vector<float> scaled_normal(std::mt19937_64& g, std::size_t n, float scale) {
  std::normal_distribution<float> d;
  std::vector<float> v(n);
  for (auto& x : v) x = scale * d(g);
  return v;
}
std::vector<float> simplex(std::mt19937_64& g, std::size_t n) {
  std::gamma_distribution<float> d(0.5f);
  std::uniform_int_distribution<int> z(0, 3);
  std::vector<float> v(n);
  double s = 0;
  for (auto& x : v) s += (x = z(g) == 0 ? 0.0f : d(g) + 1e-30f);
  if (s == 0) v[0] = 1, s = 1;
  for (auto& x : v) x = static_cast<float>(x / s);
  return v;
}

}  // namespace

TEST_CASE("the dispatch finds the CPU's ISA once and can be capped", "[metrics][simd]") {
  INFO("cpu_simd_isa() = " << simd_isa_name(cpu_simd_isa()));
  CHECK(simd_isa_in_use() == cpu_simd_isa());
#if SLOTDIFF_SIMD_X86
  CHECK((cpu_simd_isa() >= simd_isa::avx2) == (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")));
  CHECK((cpu_simd_isa() == simd_isa::avx512) == static_cast<bool>(__builtin_cpu_supports("avx512bw")));
  if (cpu_simd_isa() != simd_isa::avx512) CHECK_THROWS_AS(use_simd_isa(simd_isa::avx512), metric_error);
#endif
  {
    forced_isa f(simd_isa::portable);
    CHECK(simd_isa_in_use() == simd_isa::portable);
  }
  CHECK(simd_isa_in_use() == cpu_simd_isa());
}

TEST_CASE("each supported SIMD path agrees with the serial twins", "[metrics][simd]") {
  auto g = test::seeded_rng(71);
  for (const auto& k : supported_paths()) {
    INFO("path " << simd_isa_name(k.isa));
    SECTION(std::string("empty inputs: ") + simd_isa_name(k.isa)) {
      const float* none = nullptr;
      CHECK(k.dot(none, none, 0) == 0.0f);
      CHECK(k.l2sq(none, none, 0) == 0.0f);
      CHECK(k.cos(none, none, 0) == 0.0f);  // both vectors zero: distance 0
      CHECK(k.tv(none, none, 0) == 0.0f);
      CHECK(k.hellinger(none, none, 0) == 0.0f);
    }
    // scale 1: ordinary; 1e-15: tiny (products 1e-30, still normal); 1e15: huge (sums near 1e33).
    for (const float scale : {1.0f, 1e-15f, 1e15f}) {
      for (const std::size_t n : lengths) {
        INFO("n = " << n << ", scale = " << scale);
        const auto a = scaled_normal(g, n, scale), b = scaled_normal(g, n, scale);
        const double s2 = double(scale) * scale;
        CHECK(near(k.dot(a.data(), b.data(), n), dot_f32_serial(a.data(), b.data(), n), 1e-5, 1e-5 * s2 * std::sqrt(n)));
        CHECK(near(k.l2sq(a.data(), b.data(), n), l2sq_f32_serial(a.data(), b.data(), n), 1e-5, 0));
        CHECK(near(k.cos(a.data(), b.data(), n), cos_f32_serial(a.data(), b.data(), n), 0, 2e-6 * std::sqrt(n)));
        std::vector<bf16> ab(n), bb(n);
        std::vector<float> ar(n), br(n);
        for (std::size_t i = 0; i < n; ++i) {
          ab[i] = bf16::from_float(a[i] / scale), bb[i] = bf16::from_float(b[i] / scale);
          ar[i] = ab[i].to_float(), br[i] = bb[i].to_float();
        }
        // bf16 widened on load: the same arithmetic as on the widened floats.
        CHECK(k.dot_bf16(ab.data(), bb.data(), n) == k.dot(ar.data(), br.data(), n));
      }
    }
    for (const std::size_t n : lengths) {
      INFO("n = " << n);
      const auto p = simplex(g, n), q = simplex(g, n);
      std::vector<float> qs(q);
      for (auto& x : qs) x = x * 0.999f + 0.001f / static_cast<float>(n);  // full support for KL
      CHECK(near(k.kl(p.data(), qs.data(), n), kl_f32_serial(p.data(), qs.data(), n), 1e-4, 2e-6));
      CHECK(near(k.js(p.data(), q.data(), n), js_f32_serial(p.data(), q.data(), n), 1e-4, 2e-6));
      CHECK(near(k.hellinger(p.data(), q.data(), n), hellinger_f32_serial(p.data(), q.data(), n), 1e-5, 1e-6));
      CHECK(near(k.tv(p.data(), q.data(), n), tv_f32_serial(p.data(), q.data(), n), 1e-5, 1e-6));
      // f16 cosine on exactly representable halves
      std::vector<f16> ph(n), qh(n);
      for (std::size_t i = 0; i < n; ++i) ph[i] = f16::from_float(p[i] * 100), qh[i] = f16::from_float(q[i] * 100);
      CHECK(near(k.cos_f16(ph.data(), qh.data(), n), cos_f16_serial(ph.data(), qh.data(), n), 0, 2e-6 * std::sqrt(n)));
    }
    // A NaN anywhere (in a full block or in the tail) reaches the result. (The probability kernels
    // clamp their result, as the serial ones do: their callers reject NaN before.)
    for (const std::size_t n : {1, 7, 64, 100}) {
      for (const std::size_t at : {std::size_t{0}, n / 2, n - 1}) {
        INFO("NaN at " << at << " of " << n);
        auto a = scaled_normal(g, n, 1), b = scaled_normal(g, n, 1);
        a[at] = std::numeric_limits<float>::quiet_NaN();
        CHECK(std::isnan(k.dot(a.data(), b.data(), n)));
        CHECK(std::isnan(k.l2sq(a.data(), b.data(), n)));
        CHECK(std::isnan(k.cos(a.data(), b.data(), n)));
      }
    }
  }
}

TEST_CASE("forcing a path routes *_auto, the metric objects and the blocked kernels to it", "[metrics][simd]") {
  auto g = test::seeded_rng(72);
  const std::size_t n = 77, rows = 9;
  const auto a = scaled_normal(g, n, 1), b = scaled_normal(g, n, 1);
  const auto p = simplex(g, n), q = simplex(g, n);
  const auto m = scaled_normal(g, rows * n, 1);
  std::vector<float> serial_out(rows * rows), out(rows * rows);
  const matrix_view<const float> mv(m.data(), rows, n);
  many_vs_many(squared_euclidean_distance{.path = kernel_path::serial}, mv, mv, matrix_view<float>(serial_out.data(), rows, rows));
  for (const auto& k : supported_paths()) {
    INFO("path " << simd_isa_name(k.isa));
    forced_isa f(k.isa);
    CHECK(dot_f32_auto(a.data(), b.data(), n) == k.dot(a.data(), b.data(), n));
    CHECK(cos_f32_auto(a.data(), b.data(), n) == k.cos(a.data(), b.data(), n));
    CHECK(js_f32_auto(p.data(), q.data(), n) == k.js(p.data(), q.data(), n));
    CHECK(cosine_distance{}(a, b) == k.cos(a.data(), b.data(), n));
    CHECK(total_variation_distance{}(p, q) == Approx(k.tv(p.data(), q.data(), n)).epsilon(1e-6));
    // The blocked path computes |a|^2 + |b|^2 - 2 a.b: an absolute error of about 1e-7 (|a|^2 + |b|^2).
    many_vs_many(squared_euclidean_distance{}, mv, mv, matrix_view<float>(out.data(), rows, rows));
    for (std::size_t i = 0; i < out.size(); ++i) CHECK(near(out[i], serial_out[i], 1e-5, 1e-3));
    // The Sinkhorn kernel rows: exp by the ISA's polynomial against std::exp.
    std::vector<double> gg(n), cc(n), row(n);
    for (std::size_t j = 0; j < n; ++j) gg[j] = 0.01 * static_cast<double>(j), cc[j] = 0.5 * a[j] * a[j];
    detail::exp_row_auto(0.25, gg.data(), cc.data(), 2.0, row.data(), n);
    for (std::size_t j = 0; j < n; ++j) CHECK(near(row[j], std::exp((0.25 + gg[j] - cc[j]) * 2.0), 1e-14, 0));
    CHECK(near(detail::dot_f64_auto(gg.data(), cc.data(), n), [&] {
      double s = 0;
      for (std::size_t j = 0; j < n; ++j) s += gg[j] * cc[j];
      return s;
    }(), 1e-13, 1e-13));
  }
}
