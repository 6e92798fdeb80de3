// Tests of slotdiff/io/: JSONL round trips and refusals, .npy shards read back through xtensor.
#include <catch2/catch.hpp>

#include <filesystem>
#include <limits>
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
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/scoring/random.hpp"

using namespace slotdiff;

namespace {

std::vector<trajectory<side_slots>> random_trajectories(std::size_t count) {
  auto rng = test::seeded_rng();
  std::vector<trajectory<side_slots>> out;
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
    CHECK(read_jsonl<side_slots>(line, "buf") == trs[i]);
    CHECK(nlohmann::json::parse(line)["id"] == i);
  }
  const std::vector<std::string> lines{"the cat sat on the mat"};
  const auto tok = tokenizer::build(lines);
  const auto tr = noise(tok.encode("the cat sat on the mat"), random_scorer{1}, {.schedule = noise_schedule::per_step(2)});
  const auto j = to_json(tr, 7, {.words = &tok});
  CHECK(j["words"][1] == "cat");
  CHECK(j["states"].size() == static_cast<std::size_t>(tr.steps()) + 1);
  CHECK(j["states"][0] == "the cat sat on the mat");

  CHECK_THROWS_WITH(read_jsonl<side_slots>("{not json", "f.jsonl:3"), Catch::Contains("f.jsonl:3"));
  CHECK_THROWS_AS(read_jsonl<side_slots>(R"({"layout":"side_slots","steps":1})"), format_error);
  CHECK_THROWS_WITH(read_jsonl<gap_slots>(R"({"layout":"side_slots","steps":0,"tokens":[],"removed_at":[]})"),
                    Catch::Contains("expected \"gap_slots\""));
  // a leading run of 2 cannot be refilled by one side_slots step
  CHECK_THROWS_WITH(read_jsonl<side_slots>(R"({"layout":"side_slots","steps":1,"tokens":[4,5,6],"removed_at":[1,1,2]})"),
                    Catch::Contains("step 1"));
}

TEST_CASE("JSONL: every number is type- and range-checked, never narrowed") {
  auto refuse = [](const std::string& line, const std::string& what) {
    CHECK_THROWS_WITH(read_jsonl<side_slots>(line, "t.jsonl:9"), Catch::Contains("t.jsonl:9") && Catch::Contains(what));
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
  const auto big = read_jsonl<side_slots>(R"({"layout":"side_slots","steps":1,"tokens":[2147483647],"removed_at":[1]})");
  CHECK(big.tokens()[0] == 2147483647);
  // A trajectory's own constructor refuses T > n and T = 2^31 - 1 without overflowing.
  CHECK_THROWS_AS(trajectory<side_slots>({4}, {1}, std::numeric_limits<step_index>::max()), error);
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
  CHECK(read_jsonl_stream<side_slots>(a, "a.jsonl") == trs);
  CHECK(read_jsonl_stream<side_slots>(b, "b.jsonl") == trs);
  CHECK(read_jsonl<side_slots>(std::string(utf8_bom) + R"({"layout":"side_slots","steps":0,"tokens":[],"removed_at":[]})" "\r")
            .steps() == 0);
  std::istringstream bad(plain.str() + "{\"layout\":\"side_slots\",\"steps\":1,\"tokens\":[4294967301],\"removed_at\":[1]}\n");
  CHECK_THROWS_WITH(read_jsonl_stream<side_slots>(bad, "c.jsonl"), Catch::Contains("c.jsonl:31"));
}

TEST_CASE("npy shards: every array reads back and the examples rebuild the trajectories") {
  const auto trs = random_trajectories(60);
  npy_shard_writer<side_slots> w(100);
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
    CHECK(trajectory<side_slots>(toks, rem, steps[s]) == tr);
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

  npy_shard_writer<side_slots> small(10);
  CHECK_THROWS_WITH(small.add(trs[1].size() ? trs[1] : trs[2], 5), Catch::Contains("sentence 5"));
}
