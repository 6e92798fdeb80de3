// slotdiff/error.hpp: the one exception hierarchy of the library.
#pragma once

#include <stdexcept>
#include <string>

namespace slotdiff {

/// Base of every exception slotdiff throws. Messages name the input and the offending value.
class error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// An insertion batch (or an initial sequence) that a slot sequence refuses. The sequence is unchanged.
class slot_error : public error {
public:
  using error::error;
};

/// A removal set that the slot layout cannot undo in one denoising step.
class feasibility_error : public error {
public:
  using error::error;
};

}  // namespace slotdiff
