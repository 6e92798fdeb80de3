// tests/odr_simd.hpp: what the two units of the ODR test compute (odr_simd_a.cpp, odr_simd_b.cpp).
#pragma once

#include <cstddef>
#include <vector>

#include "slotdiff/detail/batch.hpp"
#include "slotdiff/metrics/batch.hpp"
#include "slotdiff/metrics/kernels.hpp"
#include "slotdiff/metrics/metrics.hpp"

namespace slotdiff::test {

struct odr_simd_inputs {
  std::vector<float> a, b, p, q;  // a, b: any floats; p, q: probability vectors; all of one length
  std::size_t rows = 0;           // a and b as rows x (size / rows) matrices for many_vs_many
};

/// Per ISA (portable, avx2, avx512; only those the CPU supports are filled): each kernel's result.
struct odr_simd_report {
  bool cpu_has_avx2 = false;
  simd_isa cpu = simd_isa::portable;
  std::vector<float> results[3];
};

/// Runs every *_auto kernel (and a metric object, and the blocked many_vs_many) under each ISA the
/// CPU supports. Static: each unit has its own copy, compiled with its own flags, into which the
/// optimiser inlines the kernels (at -O0 the linker's one copy of each kernel serves both units, so
/// the test can only catch a flag-dependent body in an optimised build).
static odr_simd_report odr_simd_run(const odr_simd_inputs& in) {
  odr_simd_report r;
  r.cpu_has_avx2 = detail::cpu_has_avx2();
  r.cpu = cpu_simd_isa();
  const std::size_t n = in.a.size(), cols = n / in.rows;
  const simd_isa before = simd_isa_in_use();
  for (int i = 0; i <= static_cast<int>(r.cpu); ++i) {
    use_simd_isa(static_cast<simd_isa>(i));
    auto& out = r.results[i];
    const float *a = in.a.data(), *b = in.b.data(), *p = in.p.data(), *q = in.q.data();
    out = {dot_f32_auto(a, b, n), l2sq_f32_auto(a, b, n), cos_f32_auto(a, b, n), kl_f32_auto(p, q, n),
           js_f32_auto(p, q, n), hellinger_f32_auto(p, q, n), tv_f32_auto(p, q, n), cosine_distance{}(in.a, in.b)};
    std::vector<float> gram(in.rows * in.rows);
    many_vs_many(euclidean_distance{}, matrix_view<const float>(a, in.rows, cols),
                 matrix_view<const float>(b, in.rows, cols), matrix_view<float>(gram.data(), in.rows, in.rows));
    out.insert(out.end(), gram.begin(), gram.end());
  }
  use_simd_isa(before);
  return r;
}

}  // namespace slotdiff::test
