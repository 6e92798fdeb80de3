// Tests of slotdiff/io/: JSONL round trips and refusals, .npy shards read back through xtensor.
#include <catch2/catch.hpp>

#include <filesystem>
#include <limits>
#include <random>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include "random.hpp"
#include "slotdiff/io/jsonl.hpp"
#include "slotdiff/io/npy.hpp"
#include "slotdiff/io/npy_reader.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/scoring/random.hpp"

using namespace slotdiff;

namespace {

std::vector<trajectory<side_layout>> random_trajectories(std::size_t count) {
  auto rng = test::seeded_rng();
  std::vector<trajectory<side_layout>> out;
  for (std::size_t i = 0; i < count; ++i) {
    std::vector<token_id> x0(rng() % 25);
    for (auto& t : x0) t = 4 + static_cast<token_id>(rng() % 50);
    out.push_back(noise(x0, random_scorer{rng()}, {.schedule = noise_schedule::fraction(0.4f), .keep_keywords = rng() % 3}));
  }
  return out;
}

template <class T>
std::vector<T> load(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in);
  const auto a = xt::load_npy<T>(in);
  return std::vector<T>(a.begin(), a.end());
}

}  // namespace

TEST_CASE("JSONL: round trip, words and states, refusals") {
  const auto trs = random_trajectories(40);
  std::stringstream buf;
  for (std::size_t i = 0; i < trs.size(); ++i) write_jsonl(buf, trs[i], i);
  std::string line;
  for (std::size_t i = 0; std::getline(buf, line); ++i) {
    CHECK(read_jsonl<side_layout>(line, "buf") == trs[i]);
    CHECK(nlohmann::json::parse(line)["id"] == i);
  }
  const std::vector<std::string> lines{"the cat sat on the mat"};
  const auto tok = tokenizer::build(lines);
  const auto tr = noise(tok.encode("the cat sat on the mat"), random_scorer{1}, {.schedule = noise_schedule::per_step(2)});
  const auto j = to_json(tr, 7, {.words = &tok});
  CHECK(j["words"][1] == "cat");
  CHECK(j["states"].size() == static_cast<std::size_t>(tr.steps()) + 1);
  CHECK(j["states"][0] == "the cat sat on the mat");

  CHECK_THROWS_WITH(read_jsonl<side_layout>("{not json", "f.jsonl:3"), Catch::Contains("f.jsonl:3"));
  CHECK_THROWS_AS(read_jsonl<side_layout>(R"({"layout":"side_slots","steps":1})"), format_error);
  CHECK_THROWS_WITH(read_jsonl<gap_layout>(R"({"layout":"side_slots","steps":0,"tokens":[],"removed_at":[]})"),
                    Catch::Contains("expected \"gap_slots\""));
  // a leading run of 2 cannot be refilled by one side_layout step
  CHECK_THROWS_WITH(read_jsonl<side_layout>(R"({"layout":"side_slots","steps":1,"tokens":[4,5,6],"removed_at":[1,1,2]})"),
                    Catch::Contains("step 1"));
}

TEST_CASE("JSONL: every number is type- and range-checked, never narrowed") {
  auto refuse = [](const std::string& line, const std::string& what) {
    CHECK_THROWS_WITH(read_jsonl<side_layout>(line, "t.jsonl:9"), Catch::Contains("t.jsonl:9") && Catch::Contains(what));
  };
  // The issue's case: 4294967301 = 2^32 + 5 was read as token 5.
  refuse(R"({"layout":"side_slots","steps":1,"tokens":[4294967301],"removed_at":[1]})", "4294967301");
  refuse(R"({"layout":"side_slots","steps":1,"tokens":[2147483648],"removed_at":[1]})", "\"tokens\"[0]");
  refuse(R"({"layout":"side_slots","steps":1,"tokens":[-1],"removed_at":[1]})", "\"tokens\"[0] = -1");
  refuse(R"({"layout":"side_slots","steps":1,"tokens":[4.5],"removed_at":[1]})", "4.5");
  refuse(R"({"layout":"side_slots","steps":1,"tokens":[true],"removed_at":[1]})", "true");
  refuse(R"({"layout":"side_slots","steps":1,"tokens":["4"],"removed_at":[1]})", "\"4\"");
  refuse(R"({"layout":"side_slots","steps":1,"tokens":[4],"removed_at":[0]})", "\"removed_at\"[0] = 0");
  refuse(R"({"layout":"side_slots","steps":1,"tokens":[4],"removed_at":[1.0]})", "\"removed_at\"[0]");
  refuse(R"({"layout":"side_slots","steps":1,"tokens":4,"removed_at":[1]})", "not an array");
  // The issue's case: steps 2^31 - 1 overflowed a signed int (UBSan) in the trajectory's checks.
  refuse(R"({"layout":"side_slots","steps":2147483647,"tokens":[4],"removed_at":[1]})", "\"steps\"");
  refuse(R"({"layout":"side_slots","steps":2147483646,"tokens":[4],"removed_at":[1]})", "2147483646 steps for 1 tokens");
  refuse(R"({"layout":"side_slots","steps":1.5,"tokens":[4],"removed_at":[1]})", "1.5");
  refuse(R"({"layout":"side_slots","steps":-1,"tokens":[],"removed_at":[]})", "-1");
  refuse(R"({"layout":"side_slots","steps":1e3,"tokens":[4],"removed_at":[1]})", "\"steps\"");
  refuse(R"({"layout":7,"steps":1,"tokens":[4],"removed_at":[1]})", "layout");
  refuse(R"([1,2])", "not a JSON object");
  // The largest accepted values read exactly.
  const auto big = read_jsonl<side_layout>(R"({"layout":"side_slots","steps":1,"tokens":[2147483647],"removed_at":[1]})");
  CHECK(big.tokens()[0] == 2147483647);
  // A trajectory's own constructor refuses T > n and T = 2^31 - 1 without overflowing.
  CHECK_THROWS_AS(trajectory<side_layout>({4}, {1}, std::numeric_limits<step_index>::max()), error);
}

TEST_CASE("JSONL streams: a BOM and CRLF read as the LF file, and errors name the line") {
  const auto trs = random_trajectories(30);
  std::ostringstream plain;
  for (std::size_t i = 0; i < trs.size(); ++i) write_jsonl(plain, trs[i], i);
  std::string crlf = "\xEF\xBB\xBF";
  for (char c : plain.str()) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  std::istringstream a(plain.str()), b(crlf + "\r\n");
  CHECK(read_jsonl_stream<side_layout>(a, "a.jsonl") == trs);
  CHECK(read_jsonl_stream<side_layout>(b, "b.jsonl") == trs);
  CHECK(read_jsonl<side_layout>(std::string(utf8_bom) + R"({"layout":"side_slots","steps":0,"tokens":[],"removed_at":[]})" "\r")
            .steps() == 0);
  std::istringstream bad(plain.str() + "{\"layout\":\"side_slots\",\"steps\":1,\"tokens\":[4294967301],\"removed_at\":[1]}\n");
  CHECK_THROWS_WITH(read_jsonl_stream<side_layout>(bad, "c.jsonl"), Catch::Contains("c.jsonl:31"));
}

TEST_CASE("npy shards: every array reads back and the examples rebuild the trajectories") {
  const auto trs = random_trajectories(60);
  npy_shard_writer<side_layout> w(100);
  for (std::size_t i = 0; i < trs.size(); ++i) w.add(trs[i], static_cast<std::int64_t>(1000 + i));
  const auto dir = std::filesystem::temp_directory_path() / ("slotdiff_test_shard_" + std::to_string(Catch::rngSeed()));
  std::filesystem::remove_all(dir);
  w.write(dir);
  const auto meta = nlohmann::json::parse(std::ifstream(dir / "shard.json"));
  CHECK(meta["layout"] == "side_slots");
  CHECK(meta["trajectories"] == trs.size());

  const auto x0 = load<std::int32_t>(dir / "x0_tokens.npy");
  const auto x0_off = load<std::int64_t>(dir / "x0_offsets.npy");
  const auto removed = load<std::int32_t>(dir / "removed_at.npy");
  const auto steps = load<std::int32_t>(dir / "steps.npy");
  const auto ids = load<std::int64_t>(dir / "sentence_ids.npy");
  const auto inputs = load<std::int32_t>(dir / "inputs.npy");
  const auto in_off = load<std::int64_t>(dir / "input_offsets.npy");
  const auto targets = load<std::int32_t>(dir / "targets.npy");
  const auto tg_off = load<std::int64_t>(dir / "target_offsets.npy");
  const auto ex_sent = load<std::int64_t>(dir / "example_sentence.npy");
  const auto ex_step = load<std::int32_t>(dir / "example_step.npy");
  REQUIRE(x0_off.size() == trs.size() + 1);
  REQUIRE(steps.size() == trs.size());
  std::size_t e = 0;
  for (std::size_t s = 0; s < trs.size(); ++s) {
    const auto& tr = trs[s];
    CHECK(ids[s] == static_cast<std::int64_t>(1000 + s));
    CHECK(steps[s] == tr.steps());
    const std::vector<token_id> toks(x0.begin() + x0_off[s], x0.begin() + x0_off[s + 1]);
    const std::vector<step_index> rem(removed.begin() + x0_off[s], removed.begin() + x0_off[s + 1]);
    CHECK(trajectory<side_layout>(toks, rem, steps[s]) == tr);
    for (step_index t = 0; t < tr.steps(); ++t, ++e) {
      REQUIRE(e < ex_step.size());
      CHECK(ex_sent[e] == static_cast<std::int64_t>(s));
      CHECK(ex_step[e] == t + 1);
      CHECK(std::vector<token_id>(inputs.begin() + in_off[e], inputs.begin() + in_off[e + 1]) == tr.state(t + 1));
      CHECK(std::vector<token_id>(targets.begin() + tg_off[e], targets.begin() + tg_off[e + 1]) == tr.targets(t));
    }
  }
  CHECK(e == ex_step.size());
  CHECK(in_off.size() == e + 1);
  CHECK(tg_off.size() == e + 1);
  std::filesystem::remove_all(dir);

  npy_shard_writer<side_layout> small(10);
  CHECK_THROWS_WITH(small.add(trs[1].size() ? trs[1] : trs[2], 5), Catch::Contains("sentence 5"));
}

namespace {

// A .npy file by hand: version, header dict text (padded as NumPy pads it) and data bytes.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1, bool pad = true) {
  std::string header = dict;
  const std::size_t pre = major == 1 ? 10 : 12;
  if (pad)
    while ((pre + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  for (std::size_t k = 0; k < (major == 1 ? 2u : 4u); ++k) out.push_back(static_cast<char>(header.size() >> (8 * k)));
  return out + header + data;
}

npy_array parse_npy(const std::string& bytes) {
  std::istringstream in(bytes, std::ios::binary);
  return read_npy(in, "a.npy");
}

template <class T>
void same_as_xtensor(const std::vector<std::size_t>& shape, std::mt19937_64& rng) {
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(static_cast<std::int64_t>(rng() % 2001) - 1000) / static_cast<T>(std::is_floating_point_v<T> ? 8 : 1);
  const auto view = xt::adapt(v.data(), v.size(), xt::no_ownership(), shape);
  const auto a = parse_npy(xt::dump_npy(view));
  CHECK(a.shape == shape);
  CHECK_FALSE(a.fortran_order);
  CHECK(a.template values<T>() == v);
}

}  // namespace

TEST_CASE("read_npy: what xtensor writes reads back exactly, for every shard dtype and shape") {
  auto rng = test::seeded_rng();
  for (const auto& shape : std::vector<std::vector<std::size_t>>{{0}, {1}, {7}, {3, 4}, {2, 0, 3}, {2, 3, 4}}) {
    INFO("rank " << shape.size());
    same_as_xtensor<std::int32_t>(shape, rng);
    same_as_xtensor<std::int64_t>(shape, rng);
    same_as_xtensor<float>(shape, rng);
    same_as_xtensor<double>(shape, rng);
    same_as_xtensor<std::int16_t>(shape, rng);
  }
  // A 0-d array: shape () holds one element.
  const auto scalar = parse_npy(npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (), }", std::string("\x07\0\0\0", 4)));
  CHECK(scalar.shape.empty());
  CHECK(scalar.values<std::int32_t>() == std::vector<std::int32_t>{7});
  // Versions 2.0 and 3.0, keys in another order, double quotes, no trailing comma, no padding.
  const auto v2 = parse_npy(npy_bytes(R"({"shape": (2, 1), "fortran_order": True, "descr": "|u1"})", "\x05\x06", 2, false));
  CHECK(v2.shape == std::vector<std::size_t>{2, 1});
  CHECK(v2.fortran_order);
  CHECK(v2.values<std::uint8_t>() == std::vector<std::uint8_t>{5, 6});
  CHECK(parse_npy(npy_bytes("{'descr': '|b1', 'fortran_order': False, 'shape': (2,)}", std::string("\x01\0", 2), 3)).values<bool>() ==
        std::vector<bool>{true, false});
}

TEST_CASE("read_npy: a shard written by npy_shard_writer reads back as xtensor reads it") {
  const auto trs = random_trajectories(20);
  npy_shard_writer<side_layout> w(60);
  for (std::size_t i = 0; i < trs.size(); ++i) w.add(trs[i], static_cast<std::int64_t>(i));
  const auto dir = std::filesystem::temp_directory_path() / ("slotdiff_test_npy_reader_" + std::to_string(Catch::rngSeed()));
  w.write(dir);
  CHECK(load_npy(dir / "x0_tokens.npy").values<std::int32_t>() == load<std::int32_t>(dir / "x0_tokens.npy"));
  CHECK(load_npy(dir / "targets.npy").values<std::int32_t>() == load<std::int32_t>(dir / "targets.npy"));
  CHECK(load_npy(dir / "input_offsets.npy").values<std::int64_t>() == load<std::int64_t>(dir / "input_offsets.npy"));
  CHECK_THROWS_WITH(load_npy(dir / "x0_tokens.npy").values<std::int64_t>("x0_tokens.npy"), Catch::Contains("<i4"));
  CHECK_THROWS_WITH(load_npy(dir / "missing.npy"), Catch::Contains("missing.npy"));
  // No temporary is left beside the shard's files.
  for (const auto& e : std::filesystem::directory_iterator(dir)) CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("read_npy: malformed, truncated and oversized inputs are refused by name, without large allocations") {
  const std::string four("\x01\0\0\0\x02\0\0\0", 8);
  auto refuse = [](const std::string& bytes, const std::string& what) {
    std::istringstream in(bytes, std::ios::binary);
    CHECK_THROWS_WITH(read_npy(in, "bad.npy"), Catch::Contains("bad.npy") && Catch::Contains(what));
  };
  const std::string ok = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }";
  CHECK(parse_npy(npy_bytes(ok, four)).values<std::int32_t>() == std::vector<std::int32_t>{1, 2});
  refuse(std::string("\x93NUMPZ\x01\0", 8), "bad magic");
  refuse(std::string("\x93NUMPY\x04\0", 8), "version 4.0");
  refuse(npy_bytes(ok, four).substr(0, 9), "truncated");
  refuse(npy_bytes(ok, four.substr(0, 6)), "needs 8 data bytes, the input has 6");
  refuse(npy_bytes(ok, four + "x"), "bytes after");
  refuse(npy_bytes("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", four), "not little-endian");
  refuse(npy_bytes("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", four), "unsupported dtype");
  refuse(npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2), }", four), "trailing comma");
  refuse(npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (-2,), }", four), "non-negative");
  refuse(npy_bytes("{'descr': '<i4', 'fortran_order': 0, 'shape': (2,), }", four), "True or False");
  refuse(npy_bytes("{'descr': '<i4', 'shape': (2,), }", four), "lacks");
  refuse(npy_bytes("{'descr': '<i4', 'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", four), "twice");
  refuse(npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), 'x': 1}", four), "unknown key 'x'");
  refuse(npy_bytes("{'descr': '<i\\4', 'fortran_order': False, 'shape': (2,), }", four), "escapes");
  refuse(npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }junk", four), "end with spaces");
  refuse(npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (99999999999999999999,), }", four), "64 bits");
  // Bombs: a shape of 2^62 elements, or 2^32 x 2^32 (overflow), and a 4 GB header claim, each in a few bytes.
  refuse(npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (4611686018427387904,), }", four), "overflows");
  refuse(npy_bytes("{'descr': '<i1', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", four), "overflows");
  refuse(npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (1000000000000,), }", four), "truncated");
  refuse(std::string("\x93NUMPY\x02\0\xff\xff\xff\xff{", 13), "exceeds the limit");
  CHECK_THROWS_WITH(parse_npy(npy_bytes("{'descr': '|b1', 'fortran_order': False, 'shape': (1,)}", "\x02")).values<bool>("b.npy"),
                    Catch::Contains("boolean element 0 is 2"));
}
