// slotdiff/eval/eval_error.hpp: the exception the evaluation metrics and the judge throw.
#pragma once

#include "slotdiff/error.hpp"

namespace slotdiff {

/// Bad input to an evaluation metric or to the judge language model (mismatched list lengths, an
/// order outside the supported range, a discount outside [0, count], an id outside the vocabulary).
class eval_error : public error {
public:
  using error::error;
};

}  // namespace slotdiff
