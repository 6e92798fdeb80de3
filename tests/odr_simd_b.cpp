// The second unit of the ODR test (see odr_simd_a.cpp), built with -march=x86-64. Its main is in
// odr_simd_main.cpp: on a CPU that cannot run the other unit, or off x86-64, it exits with 77, which
// CTest reports as skipped.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include "odr_simd.hpp"
#include "random.hpp"

slotdiff::test::odr_simd_report odr_simd_unit_a(const slotdiff::test::odr_simd_inputs& in);

TEST_CASE("units built with different -march flags get the same kernels", "[odr][simd]") {
  using namespace slotdiff;
#if SLOTDIFF_SIMD_X86
  auto g = test::seeded_rng(5);
  std::normal_distribution<float> d;
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  test::odr_simd_inputs in;
  in.rows = 3;
  const std::size_t n = 3 * 101;  // rows of 101: every tail shape in play
  for (std::size_t i = 0; i < n; ++i) {
    in.a.push_back(d(g)), in.b.push_back(d(g));
    in.p.push_back(u(g)), in.q.push_back(u(g));
  }
  double sp = 0, sq = 0;
  for (std::size_t i = 0; i < n; ++i) sp += in.p[i], sq += in.q[i];
  for (std::size_t i = 0; i < n; ++i) in.p[i] = static_cast<float>(in.p[i] / sp), in.q[i] = static_cast<float>(in.q[i] / sq);

  const auto a = odr_simd_unit_a(in);
  const auto b = test::odr_simd_run(in);
  CHECK(a.cpu_has_avx2 == b.cpu_has_avx2);
  CHECK(b.cpu_has_avx2 == static_cast<bool>(__builtin_cpu_supports("avx2")));
  REQUIRE(a.cpu == b.cpu);
  for (int i = 0; i <= static_cast<int>(b.cpu); ++i) {
    INFO("path " << simd_isa_name(static_cast<simd_isa>(i)));
    REQUIRE(a.results[i].size() == b.results[i].size());
    // Bit for bit (memcmp: NaN-safe, and -0 != +0 would show too).
    CHECK(std::memcmp(a.results[i].data(), b.results[i].data(), a.results[i].size() * sizeof(float)) == 0);
  }
#endif
}
