// slotdiff/config.hpp: version, the host/device macro, the assertion macro, and the basic integer
// vocabulary types (types/token.hpp, included here so that every header that includes this one has
// token_id and step_index).
#pragma once

#include <cstdio>
#include <cstdlib>

#include "slotdiff/types/token.hpp"

#define SLOTDIFF_VERSION_MAJOR 0
#define SLOTDIFF_VERSION_MINOR 1
#define SLOTDIFF_VERSION_PATCH 0

// Marks functions that are also usable from CUDA device code. The core never needs the CUDA headers:
// the macro is empty unless a CUDA compiler is compiling this translation unit.
#if defined(__CUDACC__)
#define SLOTDIFF_HOST_DEVICE __host__ __device__
#else
#define SLOTDIFF_HOST_DEVICE
#endif

// SLOTDIFF_ASSERT(condition): checks a precondition or an invariant that the library does not check
// in a normal build (an index below size(), a container's internal structure after a step). Off by
// default, so it costs nothing; on when the translation unit is compiled with
// -DSLOTDIFF_ENABLE_ASSERTS=1 (the asan preset does). A failed check prints the condition, the file
// and the line to stderr and aborts: it reports a bug in the caller or in slotdiff, which no
// exception handler can repair (and it fires inside noexcept functions too).
//
// Every translation unit of one program must agree on SLOTDIFF_ENABLE_ASSERTS: the macro changes
// the bodies of inline functions (ODR).
#if defined(SLOTDIFF_ENABLE_ASSERTS) && SLOTDIFF_ENABLE_ASSERTS
#define SLOTDIFF_ASSERT(condition) \
  (static_cast<bool>(condition) ? void(0) : ::slotdiff::detail::assertion_failed(#condition, __FILE__, __LINE__))
#else
#define SLOTDIFF_ASSERT(condition) static_cast<void>(0)
#endif

namespace slotdiff::detail {

/// What a failed SLOTDIFF_ASSERT calls: one line on stderr, then std::abort().
[[noreturn]] inline void assertion_failed(const char* condition, const char* file, int line) noexcept {
  std::fprintf(stderr, "%s:%d: slotdiff assertion failed: %s\n", file, line, condition);
  std::abort();
}

}  // namespace slotdiff::detail
