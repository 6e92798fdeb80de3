// fuzz/fuzz_common.hpp: what every slotdiff fuzz target shares.
//
// A target feeds the bytes to one parser. The parser may refuse them with a slotdiff::error (that is
// the right answer to bad input); anything else is a finding: a crash, a sanitizer report, an
// exception of another type (std::bad_alloc from a size the input did not justify, std::length_error,
// a nlohmann exception that escaped), a timeout, or a round trip that does not reproduce what was
// accepted (check() aborts with a message).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "slotdiff/error.hpp"

namespace slotdiff::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Aborts (a libFuzzer finding) with `what` unless `ok`.
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "slotdiff fuzz: invariant failed: %s\n", what);
    std::abort();
  }
}

/// Runs `body`; a slotdiff::error is the parser refusing the input and is swallowed. Every other
/// exception propagates and libFuzzer reports it as a crash.
template <class Body>
void refusal_ok(Body&& body) {
  try {
    body();
  } catch (const slotdiff::error&) {
  }
}

}  // namespace slotdiff::fuzz
