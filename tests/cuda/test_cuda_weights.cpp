// The CUDA reference denoiser refuses weights it cannot run before anything reaches the device, so
// these run (and must pass) on machines without a GPU.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>

#include "slotdiff/cuda/handle.hpp"
#include "slotdiff/backends/reference/config.hpp"
#include "slotdiff/io/safetensors.hpp"
#include "slotdiff/text/tokenizer.hpp"
#include "../reference/st_util.hpp"

namespace {

const std::string source = SLOTDIFF_SOURCE_DIR;
const std::string shipped = source + "/models/reference.safetensors";

// A copy of `src` with `edit` applied to its JSON header (the data is unchanged).
template <class Edit>
void rewrite(const std::string& src, const std::string& dst, Edit edit) {
  const std::string bytes = st_test::read_bytes(src);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  auto j = nlohmann::json::parse(bytes.substr(8, n));
  edit(j);
  st_test::write_bytes(dst, st_test::safetensors_bytes(j.dump(), bytes.substr(8 + n)));
}

}  // namespace

TEST_CASE("cuda: a model whose heads are not 64 wide is refused, naming the sizes", "[cuda]") {
  CHECK_THROWS_WITH(slotdiff::cuda::reference_handle(source + "/tests/reference/data/tiny.safetensors"),
                    Catch::Contains("head dim of 64") && Catch::Contains("tiny.safetensors"));
}

TEST_CASE("cuda: a tensor of another shape is refused, naming it", "[cuda]") {
  st_test::temp_file f("cuda-shape");
  rewrite(shipped, f.path.string(), [](nlohmann::json& j) {
    j["layers.2.w1.weight"]["shape"] = {256, 1024};  // [mlp, d] transposed: same bytes, wrong shape
  });
  CHECK_THROWS_AS(slotdiff::cuda::reference_handle(f.path.string()), slotdiff::safetensors_error);
  CHECK_THROWS_WITH(slotdiff::cuda::reference_handle(f.path.string()), Catch::Contains("layers.2.w1.weight"));
}

TEST_CASE("cuda: a vocabulary of another content is refused, naming both fingerprints", "[cuda]") {
  st_test::temp_file vocab("cuda-vocab");
  std::string text = st_test::read_bytes(source + "/data/wordnet/vocab.txt");
  const std::size_t at = text.find("\nterrorist\t");
  REQUIRE(at != std::string::npos);
  text.insert(at + 10, "x");  // same size, another word
  st_test::write_bytes(vocab.path, text);
  CHECK_THROWS_AS(slotdiff::cuda::reference_handle::load(shipped, slotdiff::tokenizer::load(vocab.path)), slotdiff::reference_model_error);
  CHECK_THROWS_WITH(slotdiff::cuda::reference_handle::load(shipped, slotdiff::tokenizer::load(vocab.path)), Catch::Contains("fnv1a64 686adcad540d040b"));
}

TEST_CASE("cuda: with no device, a good model fails with a CUDA error, not a crash", "[cuda]") {
  if (slotdiff::cuda::visible_devices() > 0) {
    CHECK_NOTHROW(slotdiff::cuda::reference_handle(shipped));
  } else {
    CHECK_THROWS_WITH(slotdiff::cuda::reference_handle(shipped), Catch::StartsWith("CUDA "));
  }
}

// One options struct for both faces; the old name stays one release as a deprecated alias.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
static_assert(std::is_same_v<slotdiff::cuda::reference_options, slotdiff::cuda::gpu_reference_options>);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
static_assert(std::is_same_v<slotdiff::cuda::handle_options, slotdiff::cuda::gpu_reference_options>);

TEST_CASE("cuda: the handle takes gpu_reference_options and refuses knobs out of range", "[cuda]") {
  CHECK_THROWS_AS(slotdiff::cuda::reference_handle(shipped, {.max_sequence_length = 0}), slotdiff::options_error);
  CHECK_THROWS_WITH(slotdiff::cuda::reference_handle(shipped, {.logits_slab = 0}), Catch::Contains("logits_slab must be at least 1, got 0"));
  CHECK_THROWS_AS(slotdiff::cuda::reference_handle(source + "/tests/reference/data/tiny.safetensors"), slotdiff::model_error);
}
