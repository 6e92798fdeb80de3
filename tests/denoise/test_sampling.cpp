#include <slotdiff/denoise/sampling.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <map>
#include <vector>

using namespace slotdiff;

namespace {
constexpr token_id none = 3;
const std::array<token_id, 5> ids{10, 11, none, 12, 13};
const std::array<float, 5> probs{0.4f, 0.25f, 0.2f, 0.1f, 0.05f};
std::array<float, 5> logs() {
  std::array<float, 5> l{};
  for (std::size_t j = 0; j < 5; ++j) l[j] = std::log(probs[j]);
  return l;
}
auto nothing_present = [](token_id) { return false; };

std::map<token_id, double> frequencies(const sampling_options& opt, int draws, std::uint64_t seed = 1) {
  const auto l = logs();
  sampling_rng rng(seed);
  std::map<token_id, double> f;
  for (int i = 0; i < draws; ++i) f[sample_slot(ids, l, none, opt, nothing_present, rng).token] += 1.0 / draws;
  return f;
}
}  // namespace

TEST_CASE("greedy takes the best candidate and reports its probability", "[sampling]") {
  const auto l = logs();
  sampling_rng rng(0);
  const slot_choice c = sample_slot(ids, l, none, {}, nothing_present, rng);
  CHECK(c.token == 10);
  CHECK(c.probability == Approx(0.4f));
}

TEST_CASE("the repetition penalty divides the probability of tokens already present", "[sampling]") {
  const auto l = logs();
  sampling_rng rng(0);
  auto has_10 = [](token_id t) { return t == 10; };
  // 0.4 / 2 = 0.2 < 0.25: the second candidate wins; the reported probability is the model's.
  const slot_choice c = sample_slot(ids, l, none, {.repetition_penalty = 2.0f}, has_10, rng);
  CHECK(c.token == 11);
  CHECK(c.probability == Approx(0.25f));
  const slot_choice d = sample_slot(ids, l, none, {.repetition_penalty = 1.5f}, has_10, rng);  // 0.267 > 0.25
  CHECK(d.token == 10);
}

TEST_CASE("temperature 1 draws each candidate at its (renormalised) probability", "[sampling][property]") {
  const auto f = frequencies({.temperature = 1.0f}, 40000);
  for (std::size_t j = 0; j < 5; ++j) CHECK(f.at(ids[j]) == Approx(probs[j]).margin(0.015));
}

TEST_CASE("low temperature sharpens, high temperature flattens", "[sampling][property]") {
  const auto cold = frequencies({.temperature = 0.25f}, 20000);
  const auto hot = frequencies({.temperature = 4.0f}, 20000);
  CHECK(cold.at(10) > 0.75);
  CHECK(hot.at(10) < 0.3);
  CHECK(hot.at(13) > 0.12);
}

TEST_CASE("top_k and top_p cut the tail", "[sampling][property]") {
  const auto k2 = frequencies({.temperature = 1.0f, .top_k = 2}, 20000);
  CHECK(k2.size() == 2);
  CHECK(k2.at(10) == Approx(0.4 / 0.65).margin(0.02));
  // 0.4 + 0.25 = 0.65 < 0.7 <= 0.85: the first three candidates.
  const auto p = frequencies({.temperature = 1.0f, .top_p = 0.7f}, 20000);
  CHECK(p.size() == 3);
  CHECK(p.count(12) == 0);
}

TEST_CASE("the same seed draws the same tokens", "[sampling]") {
  CHECK(frequencies({.temperature = 1.0f}, 500, 9) == frequencies({.temperature = 1.0f}, 500, 9));
  CHECK(frequencies({.temperature = 1.0f}, 500, 9) != frequencies({.temperature = 1.0f}, 500, 10));
}

TEST_CASE("invalid sampling options are refused by name", "[sampling][errors]") {
  CHECK_THROWS_WITH((sampling_options{.temperature = -1.0f}.validate()), Catch::Contains("temperature"));
  CHECK_THROWS_WITH((sampling_options{.top_p = 0.0f}.validate()), Catch::Contains("top_p"));
  CHECK_THROWS_WITH((sampling_options{.top_p = 1.5f}.validate()), Catch::Contains("top_p"));
  CHECK_THROWS_WITH((sampling_options{.repetition_penalty = 0.5f}.validate()), Catch::Contains("repetition_penalty"));
}
