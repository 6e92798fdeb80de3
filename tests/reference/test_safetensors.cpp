// The strict safetensors reader: a valid file reads back exactly; every crafted corrupt or truncated
// file is refused with a message that names the problem (and the tensor, where there is one).
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "slotdiff/io/safetensors.hpp"
#include "st_util.hpp"

using namespace slotdiff;
using st_test::safetensors_bytes;
using st_test::temp_file;

namespace {

std::string floats(std::initializer_list<float> v) {
  std::string s(v.size() * 4, '\0');
  std::size_t i = 0;
  for (float x : v) std::memcpy(s.data() + 4 * i++, &x, 4);
  return s;
}

// Writes the file and expects open() to throw a safetensors_error whose message contains `needle`.
void refused(const std::string& bytes, const std::string& needle, safetensors_options opt = {}) {
  temp_file f("bad");
  st_test::write_bytes(f.path, bytes);
  INFO("expecting an error containing: " << needle);
  try {
    (void)safetensors_file::open(f.path, opt);
    FAIL("the file was accepted");
  } catch (const safetensors_error& e) {
    const std::string what = e.what();
    INFO("message: " << what);
    CHECK(what.find(needle) != std::string::npos);
    CHECK(what.find(f.path.string()) != std::string::npos);  // names the file
  }
}

const std::string good_header =
    R"({"__metadata__":{"k":"v"},"b":{"dtype":"I32","shape":[3],"data_offsets":[16,28]},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
const std::string good_data = floats({1.5f, -2.0f, 3.25f, 0.0f}) + std::string("\x01\0\0\0\x02\0\0\0\xff\xff\xff\xff", 12);

}  // namespace

TEST_CASE("safetensors: a valid file reads back", "[safetensors]") {
  temp_file f("good");
  std::string header = good_header;
  header += std::string((8 - header.size() % 8) % 8, ' ');  // trailing padding is allowed
  st_test::write_bytes(f.path, safetensors_bytes(header, good_data));
  const auto st = safetensors_file::open(f.path);
  REQUIRE(st.tensors().size() == 2);
  CHECK(st.tensors()[0].name == "a");  // name order
  CHECK(st.metadata("k") == "v");
  CHECK_THROWS_WITH(st.metadata("missing"), Catch::Contains("\"missing\""));
  const auto a = st.read_f32("a", {2, 2});
  CHECK(a == std::vector<float>{1.5f, -2.0f, 3.25f, 0.0f});
  const auto b = st.read<std::int32_t>("b", st_dtype::i32, {3});
  CHECK(b == std::vector<std::int32_t>{1, 2, -1});
  CHECK(st.find("c") == nullptr);
  CHECK_THROWS_WITH(st.read_f32("c"), Catch::Contains("no tensor \"c\""));
  CHECK_THROWS_WITH(st.read_f32("b"), Catch::Contains("\"b\" is I32, expected F32"));
  CHECK_THROWS_WITH(st.read_f32("a", {4}), Catch::Contains("\"a\" has shape [2, 2], expected [4]"));
  // moving keeps the views valid
  auto moved = std::move(const_cast<safetensors_file&>(st));
  CHECK(moved.read_f32("a")[2] == 3.25f);
}

TEST_CASE("safetensors: zero-element tensors and an empty header object", "[safetensors]") {
  temp_file f("empty");
  st_test::write_bytes(f.path, safetensors_bytes(R"({"z":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]}})", ""));
  const auto st = safetensors_file::open(f.path);
  CHECK(st.read_f32("z", {0, 3}).empty());
  temp_file g("empty2");
  st_test::write_bytes(g.path, safetensors_bytes("{}", ""));
  CHECK(safetensors_file::open(g.path).tensors().empty());
}

TEST_CASE("safetensors: header length bounds", "[safetensors]") {
  refused("", "too short for the 8-byte header length");
  refused(std::string("\x10\0\0", 3), "3 bytes, too short");
  refused(safetensors_bytes("", ""), "header length 0 is too small");
  refused(safetensors_bytes("{}", "", 1000), "header length 1000 runs past the end of the file");
  refused(safetensors_bytes("{}", "", ~0ull - 1), "exceeds the limit");
  refused(safetensors_bytes(good_header, good_data), "exceeds the limit of 16", {.max_header_bytes = 16});
}

TEST_CASE("safetensors: the header must be one well-formed JSON object", "[safetensors]") {
  refused(safetensors_bytes(R"({"a": {"dtype": "F32",)", ""), "not valid JSON");
  refused(safetensors_bytes(R"([1, 2])", ""), "does not start with '{'");
  refused(safetensors_bytes(R"({"a":1} trailing)", ""), "not valid JSON");
  refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                            floats({1})),
          "\"a\" more than once");
  refused(safetensors_bytes(R"({"a":{"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,4]}})", floats({1})), "\"dtype\" more than once");
  refused(safetensors_bytes(R"({"__metadata__":{"k":1}})", ""), "metadata \"k\" is not a string");
  refused(safetensors_bytes(R"({"__metadata__":[]})", ""), "\"__metadata__\" is not an object");
  refused(safetensors_bytes(R"({"a":[]})", ""), "tensor \"a\" is not an object");
}

TEST_CASE("safetensors: dtype, shape and offset checks", "[safetensors]") {
  const std::string d4 = floats({1, 2, 3, 4});
  refused(safetensors_bytes(R"({"a":{"dtype":"F23","shape":[4],"data_offsets":[0,16]}})", d4), "tensor \"a\" has an unknown dtype \"F23\"");
  refused(safetensors_bytes(R"({"a":{"shape":[4],"data_offsets":[0,16]}})", d4), "tensor \"a\" has no string \"dtype\"");
  refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", d4), "shape entry -4");
  refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,16]}})", d4), "shape entry 2.5");
  refused(safetensors_bytes(R"({"a":{"dtype":"F32","data_offsets":[0,16]}})", d4), "no \"shape\" array");
  refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,16]}})", d4), "overflows");
  refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}})", d4.substr(0, 8)),
          "tensor \"a\" is F32 [2, 2] = 16 bytes, but data_offsets [0, 8] hold 8");
  refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4]}})", d4), "no \"data_offsets\" pair");
  refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,8,16]}})", d4), "no \"data_offsets\" pair");
  refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[-1,16]}})", d4), "data offset -1");
  refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[16,0]}})", d4), "end before they begin");
  refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"extra":1}})", d4), "unknown field \"extra\"");
}

TEST_CASE("safetensors: offsets outside the file, overlaps and holes", "[safetensors]") {
  const std::string d4 = floats({1, 2, 3, 4});
  // offsets outside the data (as in a file cut short)
  refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", d4),
          "tensor \"a\" has data_offsets [0, 32] outside the 16 data bytes");
  // two tensors sharing bytes
  refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", d4),
          "tensor \"b\" [8, 16) overlaps tensor \"a\" [0, 12)");
  refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", d4),
          "overlaps");
  // bytes nobody owns
  refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", d4), "data bytes [0, 8) belong to no tensor");
  refused(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", d4), "data bytes [8, 16) belong to no tensor");
}

TEST_CASE("safetensors: a real file truncated anywhere is refused", "[safetensors]") {
  const std::string bytes = st_test::read_bytes(SLOTDIFF_REFERENCE_TEST_DATA "/tiny.safetensors");
  REQUIRE(bytes.size() > 1000);
  { (void)safetensors_file::open(SLOTDIFF_REFERENCE_TEST_DATA "/tiny.safetensors"); }
  for (std::size_t cut : {std::size_t{0}, std::size_t{5}, std::size_t{8}, std::size_t{100}, bytes.size() / 2, bytes.size() - 4, bytes.size() - 1}) {
    temp_file f("cut");
    st_test::write_bytes(f.path, bytes.substr(0, cut));
    INFO("cut at " << cut);
    CHECK_THROWS_AS(safetensors_file::open(f.path), safetensors_error);
  }
  temp_file g("grown");
  st_test::write_bytes(g.path, bytes + "junk");
  CHECK_THROWS_WITH(safetensors_file::open(g.path), Catch::Contains("belong to no tensor"));
}

TEST_CASE("safetensors: a missing file or a folder is refused", "[safetensors]") {
  CHECK_THROWS_WITH(safetensors_file::open("/nonexistent/slotdiff.safetensors"), Catch::Contains("cannot open /nonexistent/slotdiff.safetensors"));
  CHECK_THROWS_AS(safetensors_file::open(std::filesystem::temp_directory_path()), safetensors_error);
}
