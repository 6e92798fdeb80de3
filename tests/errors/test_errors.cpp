// The exception family (include/slotdiff/error.hpp, docs/design.md "Errors"): each named exception is
// caught as its kind and as slotdiff::error, never as another kind; the old headers still declare
// them; and real throw sites throw the kind their domain promises.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

// The headers that declared these classes before error.hpp did: each must still provide its class.
#include "slotdiff/backends/reference/config.hpp"
#include "slotdiff/denoise/sampling.hpp"
#include "slotdiff/embed/word_vectors.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/eval/eval_error.hpp"
#include "slotdiff/io/atomic_file.hpp"
#include "slotdiff/io/jsonl.hpp"
#include "slotdiff/io/npy_reader.hpp"
#include "slotdiff/io/safetensors.hpp"
#include "slotdiff/metrics/errors.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/scoring/unigram.hpp"
#include "slotdiff/text/lines.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace {

using namespace slotdiff;

/// 0 = input, 1 = options, 2 = file format, 3 = model, 4 = backend, 5 = file write, -1 = none.
/// Tries each kind in turn, so an exception of two kinds would be caught by the first and fail below.
template <class E>
int caught_kind(const std::string& message) {
  try {
    throw E(message);
  } catch (const input_error& e) {
    CHECK(std::string(e.what()) == message);
    return 0;
  } catch (const options_error&) {
    return 1;
  } catch (const file_format_error&) {
    return 2;
  } catch (const model_error&) {
    return 3;
  } catch (const backend_error&) {
    return 4;
  } catch (const file_write_error&) {
    return 5;
  } catch (const error&) {
    return -1;
  }
}

template <class E, class Kind>
void check_kind(int expected) {
  STATIC_REQUIRE(std::is_base_of_v<error, E>);
  STATIC_REQUIRE(std::is_base_of_v<std::runtime_error, E>);
  STATIC_REQUIRE(std::is_base_of_v<Kind, E>);
  CHECK(caught_kind<E>("some message") == expected);
  // As slotdiff::error, with the message unchanged.
  try {
    throw E("where: what, got 7");
  } catch (const error& e) {
    CHECK(std::string(e.what()) == "where: what, got 7");
  }
}

/// The kinds themselves are disjoint: none derives from another.
template <class A, class B>
constexpr bool unrelated = !std::is_base_of_v<A, B> && !std::is_base_of_v<B, A>;

}  // namespace

TEST_CASE("each kind is an error and no kind is another kind", "[errors]") {
  STATIC_REQUIRE(unrelated<input_error, options_error>);
  STATIC_REQUIRE(unrelated<input_error, file_format_error>);
  STATIC_REQUIRE(unrelated<input_error, model_error>);
  STATIC_REQUIRE(unrelated<input_error, backend_error>);
  STATIC_REQUIRE(unrelated<input_error, file_write_error>);
  STATIC_REQUIRE(unrelated<options_error, file_format_error>);
  STATIC_REQUIRE(unrelated<options_error, model_error>);
  STATIC_REQUIRE(unrelated<options_error, backend_error>);
  STATIC_REQUIRE(unrelated<options_error, file_write_error>);
  STATIC_REQUIRE(unrelated<file_format_error, model_error>);
  STATIC_REQUIRE(unrelated<file_format_error, backend_error>);
  STATIC_REQUIRE(unrelated<file_format_error, file_write_error>);
  STATIC_REQUIRE(unrelated<model_error, backend_error>);
  STATIC_REQUIRE(unrelated<model_error, file_write_error>);
  STATIC_REQUIRE(unrelated<backend_error, file_write_error>);
  check_kind<input_error, input_error>(0);
  check_kind<options_error, options_error>(1);
  check_kind<file_format_error, file_format_error>(2);
  check_kind<model_error, model_error>(3);
  check_kind<backend_error, backend_error>(4);
  check_kind<file_write_error, file_write_error>(5);
  CHECK(caught_kind<error>("bare") == -1);
}

TEST_CASE("each named exception is caught as its kind and as slotdiff::error", "[errors]") {
  check_kind<slot_error, input_error>(0);
  check_kind<feasibility_error, input_error>(0);
  check_kind<metric_error, input_error>(0);
  check_kind<convergence_error, input_error>(0);
  check_kind<eval_error, input_error>(0);
  check_kind<text_encoding_error, file_format_error>(2);
  check_kind<tokenizer_error, file_format_error>(2);
  check_kind<format_error, file_format_error>(2);
  check_kind<npy_error, file_format_error>(2);
  check_kind<safetensors_error, file_format_error>(2);
  check_kind<embed_error, model_error>(3);
  check_kind<reference_model_error, model_error>(3);
  check_kind<cuda::cuda_error, backend_error>(4);
}

TEST_CASE("throw_as, throw_metric and throw_embed stream the same message into their class", "[errors]") {
  std::ostringstream expect;
  expect.precision(9);
  expect << "f: x[" << 3 << "] = " << 0.1234567891234 << " is not finite";
  try {
    detail::throw_metric("f: x[", 3, "] = ", 0.1234567891234, " is not finite");
  } catch (const metric_error& e) {
    CHECK(std::string(e.what()) == expect.str());
  }
  try {
    detail::throw_embed("f: x[", 3, "] = ", 0.1234567891234, " is not finite");
  } catch (const embed_error& e) {
    CHECK(std::string(e.what()) == expect.str());
  }
  try {
    detail::throw_as<backend_error>("f: x[", 3, "] = ", 0.1234567891234, " is not finite");
  } catch (const backend_error& e) {
    CHECK(std::string(e.what()) == expect.str());
  }
  CHECK(expect.str() == "f: x[3] = 0.123456789 is not finite");
}

TEST_CASE("real throw sites throw their domain's kind", "[errors]") {
  // A metric's mismatched lengths: bad input.
  CHECK_THROWS_AS(detail::check_lengths("cosine", 2, 3), input_error);
  // A sampling option out of range: options, with the message naming the value.
  sampling_options o;
  o.top_p = 0.0f;
  CHECK_THROWS_AS(o.validate(), options_error);
  CHECK_THROWS_WITH(o.validate(), "sampling_options: top_p must lie in (0, 1], got 0.000000");
  CHECK_THROWS_AS(detail::check_temperature(-1.0f), options_error);
  // A vocabulary file that is not one: file format.
  std::istringstream bad("hello world\n");
  CHECK_THROWS_AS(tokenizer::read(bad, "bad-vocab.txt"), file_format_error);
}
