// slotdiff/eval/eval_error.hpp: eval_error, the evaluation's input_error, is declared in error.hpp.
#pragma once

#include "slotdiff/error.hpp"
