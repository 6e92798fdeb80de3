// The ODR test's main (odr_simd_a.cpp, odr_simd_b.cpp): Catch's runner, unless this CPU cannot run
// the unit built with -march=x86-64-v3: then it exits with 77, which CTest reports as skipped.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "slotdiff/metrics/detail/simd.hpp"

int main(int argc, char** argv) {
#if !SLOTDIFF_SIMD_X86
  std::puts("SKIPPED: x86-64 with GCC or Clang only (the other unit is built with -march=x86-64-v3)");
  return 77;
#else
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") || !__builtin_cpu_supports("bmi2")) {
    std::puts("SKIPPED: this CPU lacks x86-64-v3, so it cannot run the unit built with -march=x86-64-v3");
    return 77;
  }
  return Catch::Session().run(argc, argv);
#endif
}
