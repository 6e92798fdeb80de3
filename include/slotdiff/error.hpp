// slotdiff/error.hpp: the one exception family of the library (docs/design.md, "Errors").
//
//   std::runtime_error
//   └─ error                    everything slotdiff throws
//      ├─ input_error           a bad argument or value passed to a function
//      ├─ options_error         an options struct (or a command-line option) outside its range
//      ├─ file_format_error     a file or stream that cannot be parsed
//      ├─ model_error           a model's weights or metadata that cannot be used
//      ├─ backend_error         a backend's answer (or device call) that cannot be used
//      └─ file_write_error      a file that could not be written
//
// Every named exception below derives from exactly one kind, so a caller catches a whole domain
// (`catch (const slotdiff::file_format_error&)`) or everything (`catch (const slotdiff::error&)`).
// Messages are one line: "WHERE: WHAT, got VALUE", where WHERE names the function, file (with line
// or field) or option, and VALUE the offending input.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace slotdiff {

/// Base of every exception slotdiff throws. Messages name the input and the offending value.
class error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// ---- the kinds ----------------------------------------------------------------------------------

/// A bad argument or value passed to a function: mismatched lengths, an id outside its range, NaN.
class input_error : public error {
public:
  using error::error;
};

/// A field of an options struct (sampling, noise, schedule) or a command-line option out of range.
class options_error : public error {
public:
  using error::error;
};

/// A file or stream that cannot be parsed: a bad header, a truncated body, an encoding slotdiff does
/// not read. The message names the file and the line, field or byte offset.
class file_format_error : public error {
public:
  using error::error;
};

/// A model's weights or metadata that cannot be used: a unigram model, word vectors, the reference
/// model (a bad value, or a model that does not fit its tokenizer). Also a token id a model refuses.
class model_error : public error {
public:
  using error::error;
};

/// A backend's answer that cannot be used, or a device call (CUDA, cuBLAS) that failed.
class backend_error : public error {
public:
  using error::error;
};

/// A file that could not be written (the message names the final path and what failed).
class file_write_error : public error {
public:
  using error::error;
};

// ---- named exceptions, each of one kind ---------------------------------------------------------

/// An insertion batch (or an initial sequence) that a slot sequence refuses. The sequence is unchanged.
class slot_error : public input_error {
public:
  using input_error::input_error;
};

/// A removal set that the slot layout cannot undo in one denoising step.
class feasibility_error : public input_error {
public:
  using input_error::input_error;
};

/// An input a metric cannot measure: mismatched or zero lengths, NaN/inf, a negative or unnormalised
/// "probability", a KL support violation. The message names the metric, the input and the value.
class metric_error : public input_error {
public:
  using input_error::input_error;
};

/// An iterative solver (Sinkhorn) that did not reach its tolerance within its iteration budget; the
/// inputs (epsilon, iterations, cost scale) are too tight for it.
class convergence_error : public input_error {
public:
  using input_error::input_error;
};

/// Bad input to an evaluation metric or to the judge language model (mismatched list lengths, an
/// order outside the supported range, a discount outside [0, count], an id outside the vocabulary).
class eval_error : public input_error {
public:
  using input_error::input_error;
};

/// A text input in an encoding slotdiff does not read (UTF-16 or UTF-32), or a stream that failed.
class text_encoding_error : public file_format_error {
public:
  using file_format_error::file_format_error;
};

/// Bad text (invalid UTF-8), a bad vocabulary file, or an id the vocabulary does not have.
class tokenizer_error : public file_format_error {
public:
  using file_format_error::file_format_error;
};

/// A JSONL line that does not describe a valid trajectory.
class format_error : public file_format_error {
public:
  using file_format_error::file_format_error;
};

/// A .npy input that is malformed, truncated, or not the array the caller asked for.
class npy_error : public file_format_error {
public:
  using file_format_error::file_format_error;
};

/// A safetensors file that is corrupt, truncated, or not what the caller asked for.
class safetensors_error : public file_format_error {
public:
  using file_format_error::file_format_error;
};

/// A word-vector file or table that cannot be used: the message names the file (or input) and what
/// is wrong with it (line number, byte offset, expected vs actual).
class embed_error : public model_error {
public:
  using model_error::model_error;
};

/// A reference-model file that does not describe a valid model, or one that does not fit the
/// tokenizer it is used with.
class reference_model_error : public model_error {
public:
  using model_error::model_error;
};

namespace cuda {

/// A CUDA or cuBLAS call that failed; the message names the call and the runtime's reason.
class cuda_error : public backend_error {
public:
  using backend_error::backend_error;
};

}  // namespace cuda

namespace detail {

/// Throws E with the parts streamed into one message (floating point with 9 significant digits).
template <class E, class... Parts>
[[noreturn]] inline void throw_as(const Parts&... parts) {
  std::ostringstream os;
  os.precision(9);
  (os << ... << parts);
  throw E(os.str());
}

}  // namespace detail
}  // namespace slotdiff
