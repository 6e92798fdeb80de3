#include <slotdiff/concepts/stop_policy.hpp>
#include <slotdiff/stop/policies.hpp>

#include <catch2/catch.hpp>

#include <limits>

using namespace slotdiff;

namespace {
step_report at(std::size_t steps, std::size_t length, std::size_t inserted, float best, float change = 0.5f,
               float sim = std::numeric_limits<float>::quiet_NaN()) {
  return {.sequence = 0, .steps = steps, .length = length, .inserted_last = inserted, .best_insertion = best,
          .change_last = change, .target_similarity = sim};
}
struct not_a_policy {};
}  // namespace

TEST_CASE("stop policies are stop_policy, and things that are not are refused", "[stop][concepts]") {
  STATIC_REQUIRE(stop_policy<stop::max_steps>);
  STATIC_REQUIRE(stop_policy<stop::no_change>);
  STATIC_REQUIRE(stop_policy<decltype(stop::any_of(stop::max_steps{3}, stop::probability_below{0.5f}))>);
  STATIC_REQUIRE(stop_policy<decltype([](const step_report&) { return true; })>);
  STATIC_REQUIRE_FALSE(stop_policy<not_a_policy>);
  STATIC_REQUIRE_FALSE(stop_policy<int>);
}

TEST_CASE("each stop policy fires exactly at its threshold", "[stop]") {
  CHECK_FALSE(stop::max_steps{3}(at(2, 5, 1, 0.9f)));
  CHECK(stop::max_steps{3}(at(3, 5, 1, 0.9f)));
  CHECK_FALSE(stop::max_length{8}(at(1, 7, 1, 0.9f)));
  CHECK(stop::max_length{8}(at(1, 8, 1, 0.9f)));
  CHECK_FALSE(stop::probability_below{0.3f}(at(1, 5, 1, 0.31f)));
  CHECK(stop::probability_below{0.3f}(at(1, 5, 1, 0.3f)));
  CHECK(stop::probability_below{0.3f}(at(1, 5, 1, 0.0f)));
  CHECK(stop::change_below{0.1f}(at(2, 5, 1, 0.9f, 0.05f)));
  CHECK_FALSE(stop::change_below{0.1f}(at(2, 5, 1, 0.9f, 0.15f)));
  CHECK_FALSE(stop::change_below{0.1f}(at(0, 5, 0, 0.9f, 0.0f)));  // nothing has changed before step 1
  CHECK(stop::similarity_above{0.8f}(at(1, 5, 1, 0.9f, 0.5f, 0.85f)));
  CHECK_FALSE(stop::similarity_above{0.8f}(at(1, 5, 1, 0.9f, 0.5f, 0.75f)));
  CHECK(stop::no_change{}(at(4, 5, 0, 0.9f)));
  CHECK_FALSE(stop::no_change{}(at(4, 5, 2, 0.9f)));
  CHECK_FALSE(stop::no_change{}(at(0, 5, 0, 0.9f)));  // before the first step
  CHECK_FALSE(stop::never{}(at(1000, 1000, 0, 0.0f)));
}

TEST_CASE("semantic policies refuse to guess when nothing was measured", "[stop][errors]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  REQUIRE_THROWS_WITH(stop::change_below{0.1f}(at(2, 5, 1, 0.9f, nan)), Catch::Contains("change_below"));
  REQUIRE_THROWS_WITH(stop::similarity_above{0.1f}(at(2, 5, 1, 0.9f)), Catch::Contains("target embedding"));
}

TEST_CASE("any_of and all_of combine as or and and, over every input combination", "[stop]") {
  const auto any = stop::any_of(stop::max_steps{3}, stop::probability_below{0.5f}, stop::no_change{});
  const auto all = stop::all_of(stop::max_steps{3}, stop::probability_below{0.5f}, stop::no_change{});
  for (std::size_t steps : {1u, 3u}) {
    for (float best : {0.2f, 0.8f}) {
      for (std::size_t inserted : {0u, 2u}) {
        const auto r = at(steps, 5, inserted, best);
        const bool a = steps >= 3, b = best <= 0.5f, c = inserted == 0;
        CHECK(any(r) == (a || b || c));
        CHECK(all(r) == (a && b && c));
      }
    }
  }
  const auto nested = stop::all_of(stop::any_of(stop::max_steps{3}, stop::max_length{10}), stop::no_change{});
  CHECK(nested(at(1, 10, 0, 0.9f)));
  CHECK_FALSE(nested(at(1, 10, 1, 0.9f)));
}
