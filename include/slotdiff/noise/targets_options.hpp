// slotdiff/noise/targets_options.hpp: what a trajectory's per-slot targets write where nothing is to
// be inserted. A header of its own, below the trajectory and the backends that read targets, so that
// neither needs the tokenizer for one id.
#pragma once

#include <cstddef>

#include "slotdiff/types/token.hpp"

namespace slotdiff {

/// The "insert nothing" id of slotdiff's own vocabularies: tokenizer::none (text/tokenizer.hpp;
/// pipeline/text_trajectories.hpp static_asserts that the two agree). Another vocabulary passes its
/// own through targets_options.
inline constexpr token_id default_none_id = 3;

/// How trajectory::targets writes the per-slot targets.
struct targets_options {
  /// The id of a slot where nothing is inserted: the model vocabulary's "none" (tokenizer::none, a
  /// backend's none_id()). Requires: >= 0 (trajectory::targets throws input_error otherwise).
  token_id none_id = default_none_id;
};

namespace detail {
/// The targets of step t with `none` where nothing is inserted: tr.targets(t, {.none_id = none}) for
/// a trajectory that takes targets_options (slotdiff::trajectory), else tr.targets(t) (a
/// replayable_trajectory of the caller's, which writes its own none id).
template <class Trajectory>
auto targets_with_none(const Trajectory& tr, std::size_t t, token_id none) {
  if constexpr (requires { tr.targets(t, targets_options{}); })
    return tr.targets(t, targets_options{.none_id = none});
  else
    return tr.targets(t);
}
}  // namespace detail

}  // namespace slotdiff
