#include <slotdiff/backends/callback.hpp>
#include <slotdiff/denoise/preference.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include "random.hpp"
#include "test_trajectory.hpp"

using namespace slotdiff;
using slotdiff::test::test_none;
using slotdiff::test::test_vocab;

namespace {
struct toy_embedder {
  std::size_t dimension() const { return 6; }
  void embed(std::span<const token_id> tokens, std::span<float> out) const {
    std::fill(out.begin(), out.end(), 0.0f);
    for (token_id t : tokens)
      for (std::size_t d = 0; d < 6; ++d) out[d] += static_cast<float>((static_cast<std::uint32_t>(t) * 40503u + 13u * d) % 97) / 97.0f;
    if (!tokens.empty()) for (auto& v : out) v /= static_cast<float>(tokens.size());
  }
};
struct l1 {
  float operator()(std::span<const float> a, std::span<const float> b) const {
    float s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += std::abs(a[i] - b[i]);
    return s;
  }
};
auto flat_model = [](const ragged_batch&, std::span<float> out) {
  const std::size_t rows = out.size() / test_vocab;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t v = 0; v < test_vocab; ++v)
      out[r * test_vocab + v] = v < 3 ? -std::numeric_limits<float>::infinity()
                                      : static_cast<float>(std::log(v == test_none ? 0.4 : 0.6 / (test_vocab - 4)));
};
}  // namespace

TEST_CASE("preference pairs: chosen changes the meaning least, every candidate replays from its state", "[preference]") {
  auto rng = test::seeded_rng(41);
  callback_backend<side_layout, decltype(flat_model)> backend(flat_model, test_vocab, test_none);
  toy_embedder emb;
  embedding_change<toy_embedder, l1> measure(emb, l1{});
  std::vector<std::vector<token_id>> states;
  for (int i = 0; i < 20; ++i) states.push_back(test::random_sentence(rng, 8));
  const auto pairs = make_preferences(backend, std::span<const std::vector<token_id>>(states), measure, {.samples = 5});
  REQUIRE(pairs.size() >= 15);
  std::vector<float> a(6), b(6);
  for (const auto& p : pairs) {
    REQUIRE(p.chosen.change < p.rejected.change);
    for (const candidate_step* c : {&p.chosen, &p.rejected}) {
      std::vector<token_id> replay;
      detail::apply_to<side_layout>(p.state, c->inserted, replay);
      REQUIRE(replay == c->result);
      emb.embed(p.state, a);
      emb.embed(c->result, b);
      REQUIRE(c->change == Approx(l1{}(a, b)).margin(1e-5));
      REQUIRE(c->reward == Approx(0.05f * static_cast<float>(c->inserted.size()) - c->change).margin(1e-5));
    }
  }
  // Same inputs, same pairs.
  const auto again = make_preferences(backend, std::span<const std::vector<token_id>>(states), measure, {.samples = 5});
  REQUIRE(again.size() == pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) REQUIRE(again[i].chosen.result == pairs[i].chosen.result);

  std::ostringstream out;
  write_preferences_jsonl(out, std::span<const preference_pair>(pairs), [](std::span<const token_id> t) { return std::to_string(t.size()) + " words"; });
  std::istringstream in(out.str());
  std::size_t lines = 0;
  for (std::string line; std::getline(in, line); ++lines) {
    const auto j = nlohmann::json::parse(line);
    REQUIRE(j.at("chosen").at("change").get<float>() < j.at("rejected").at("change").get<float>());
    REQUIRE(j.at("state").size() == pairs[lines].state.size());
    REQUIRE(j.at("chosen").at("tokens").get<std::vector<token_id>>() == pairs[lines].chosen.result);
  }
  REQUIRE(lines == pairs.size());
}

TEST_CASE("preference options and rewards refuse nonsense", "[preference][errors]") {
  callback_backend<side_layout, decltype(flat_model)> backend(flat_model, test_vocab, test_none);
  toy_embedder emb;
  embedding_change<toy_embedder, l1> measure(emb, l1{});
  const std::vector<std::vector<token_id>> states{{10, 11}};
  REQUIRE_THROWS_WITH(make_preferences(backend, std::span(states), measure, {.samples = 1}), Catch::Contains("at least 2"));
  REQUIRE_THROWS_WITH(make_preferences(backend, std::span(states), no_semantics{}), Catch::Contains("semantic measure"));
  REQUIRE_THROWS_WITH(step_reward{}(std::nanf(""), 2), Catch::Contains("NaN"));
  CHECK(step_reward{.progress_bonus = 0.1f}(0.25f, 3) == Approx(0.05f));
}
