// slotdiff/denoise/limits.hpp: the fixed limits of one denoising step that several components must
// agree on (denoise's option check, the sampler's stack buffer, the n-gram's answer list, the CLI's
// --candidates range), named once here.
#pragma once

#include <cstddef>

namespace slotdiff {

/// The most candidates per slot that denoise asks a backend for (denoise_options::candidates lies
/// in 1..max_candidates): sample_slot draws among at most this many with no allocation, and the
/// n-gram backend keeps this many best tokens per side to answer any request.
inline constexpr std::size_t max_candidates = 256;

}  // namespace slotdiff
