// slotdiff/types/token.hpp: the two integer vocabulary types every other header speaks in.
//
// The lowest header of the library with config.hpp: it includes nothing of slotdiff's own.
#pragma once

#include <cstdint>
#include <limits>

namespace slotdiff {

/// A token id. Ids are non-negative; what they mean is the tokenizer's business.
using token_id = std::int32_t;

/// The denoising step at which a token was born (0 for the tokens a sequence starts with).
using step_index = std::int32_t;

/// "No vocabulary bound": any non-negative id is accepted.
inline constexpr token_id unbounded_vocabulary = std::numeric_limits<token_id>::max();

}  // namespace slotdiff
