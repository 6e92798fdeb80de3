// slotdiff/config.hpp: version, basic vocabulary types and the host/device macro.
#pragma once

#include <cstdint>
#include <limits>

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

namespace slotdiff {

/// A token id. Ids are non-negative; what they mean is the tokenizer's business.
using token_id = std::int32_t;

/// The denoising step at which a token was born (0 for the tokens a sequence starts with).
using step_index = std::int32_t;

/// "No vocabulary bound": any non-negative id is accepted.
inline constexpr token_id unbounded_vocabulary = std::numeric_limits<token_id>::max();

}  // namespace slotdiff
