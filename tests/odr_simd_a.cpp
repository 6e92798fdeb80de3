// One of two translation units built with different -march flags (tests/CMakeLists.txt: this one
// -march=x86-64-v3, odr_simd_b.cpp -march=x86-64) that include the same kernels. Each unit reports
// what the kernels give it; odr_simd_b.cpp checks the two agree bit for bit on every path the CPU
// supports. Kernels whose body followed the unit's flags (32-byte vectors and FMA here, 16-byte
// vectors there) would give different sums, and the linker would keep one unit's copy for both.
// Only call these functions on a CPU with x86-64-v3: this unit may use AVX2 anywhere.
#include "odr_simd.hpp"

slotdiff::test::odr_simd_report odr_simd_unit_a(const slotdiff::test::odr_simd_inputs& in) {
  return slotdiff::test::odr_simd_run(in);
}
