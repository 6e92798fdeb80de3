// slotdiff/metrics/detail/simd.hpp: one runtime dispatch for the SIMD kernels, SimSIMD style.
//
// Each fast kernel has one body per instruction set, with the ISA in its name (dot_f32_portable,
// dot_f32_avx2, dot_f32_avx512; see kernels.hpp). Each body is compiled for its ISA by a target
// region (#pragma GCC target / #pragma clang attribute) that pins the whole architecture level,
// x86-64 (SSE2), x86-64-v3 (AVX2, FMA) or x86-64-v4 (AVX-512), whatever -m flags the including
// translation unit has: every unit gets the same body under the same name (no ODR violation), and
// no unit's flags can put an instruction the CPU lacks into a path the dispatch picks.
//
// The *_auto kernels dispatch on simd_isa_in_use(): the best level the running CPU supports, found
// once with __builtin_cpu_supports (cached), never from the unit's own -m flags (__AVX2__ and the
// like). Tests and benchmarks can cap it with use_simd_isa().
//
// The bodies are written with the compilers' generic vector extensions (vector_size), 16, 32 or 64
// bytes wide (detail/simd_body.hpp). Compilers without them (SLOTDIFF_VECTOR_EXT 0) get plain loops.
#pragma once

#include <atomic>

#include "slotdiff/metrics/errors.hpp"
#include "slotdiff/metrics/half.hpp"

#if (defined(__GNUC__) || defined(__clang__)) && !defined(SLOTDIFF_NO_VECTOR_EXT)
#define SLOTDIFF_VECTOR_EXT 1
#else
#define SLOTDIFF_VECTOR_EXT 0
#endif

// x86-64 with GCC or Clang: the AVX2 and AVX-512 bodies exist and the CPU is asked at run time.
#if SLOTDIFF_VECTOR_EXT && defined(__x86_64__)
#define SLOTDIFF_SIMD_X86 1
#else
#define SLOTDIFF_SIMD_X86 0
#endif

namespace slotdiff {

/// The instruction sets the fast kernels have a body for, in increasing order.
///   portable  16-byte vectors of the target's baseline (SSE2 on x86-64, NEON on AArch64), or plain
///             loops without the vector extension
///   avx2      32-byte vectors, x86-64-v3 (AVX2, FMA, F16C, BMI2)
///   avx512    64-byte vectors, x86-64-v4 (AVX-512 F, BW, DQ, VL, CD)
enum class simd_isa : int { portable = 0, avx2 = 1, avx512 = 2 };

/// The name of an ISA ("portable", "avx2", "avx512").
inline const char* simd_isa_name(simd_isa isa) noexcept {
  switch (isa) {
    case simd_isa::avx2: return "avx2";
    case simd_isa::avx512: return "avx512";
    default: return "portable";
  }
}

namespace detail {

/// What the running CPU (and its OS, which must save the wider registers) supports. Complexity: a
/// few CPUID reads; call it through cpu_simd_isa(), which caches it.
inline simd_isa detect_simd_isa() noexcept {
#if SLOTDIFF_SIMD_X86
  __builtin_cpu_init();
#if defined(__clang__)
  // (Clang 14 cannot ask for F16C, MOVBE or LZCNT, the rest of x86-64-v3; every CPU with these has them.)
  const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                  __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
  const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                  __builtin_cpu_supports("avx512cd");
#else
  const bool v3 = __builtin_cpu_supports("x86-64-v3");
  const bool v4 = v3 && __builtin_cpu_supports("x86-64-v4");
#endif
  if (v4) return simd_isa::avx512;
  if (v3) return simd_isa::avx2;
#endif
  return simd_isa::portable;
}

inline std::atomic<simd_isa>& simd_isa_slot() noexcept {
  static std::atomic<simd_isa> isa{detect_simd_isa()};
  return isa;
}

}  // namespace detail

/// The best ISA the running CPU supports (detected once, on first use).
inline simd_isa cpu_simd_isa() noexcept {
  static const simd_isa isa = detail::detect_simd_isa();
  return isa;
}

/// The ISA the *_auto kernels and the metric objects' fast path run: cpu_simd_isa() unless capped by
/// use_simd_isa(). Complexity: one relaxed atomic load.
inline simd_isa simd_isa_in_use() noexcept { return detail::simd_isa_slot().load(std::memory_order_relaxed); }

/// Makes the fast kernels run `isa` (for tests and benchmarks that compare the paths) and returns the
/// ISA used before. Process-wide; not meant to be changed while other threads run kernels.
/// Throws: metric_error if the running CPU does not support `isa`.
inline simd_isa use_simd_isa(simd_isa isa) {
  if (static_cast<int>(isa) > static_cast<int>(cpu_simd_isa()))
    detail::throw_metric("use_simd_isa: this CPU does not support ", simd_isa_name(isa), " (best: ",
                         simd_isa_name(cpu_simd_isa()), ")");
  return detail::simd_isa_slot().exchange(isa, std::memory_order_relaxed);
}

}  // namespace slotdiff
