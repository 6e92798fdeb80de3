#include <slotdiff/concepts/slot_layout.hpp>
#include <slotdiff/slots/layout.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <type_traits>
#include <vector>

using namespace slotdiff;

namespace {

// Reference for feasibility that never looks at run_limits: the removed tokens of each gap of the
// kept sequence must fit the slots that the layout maps to that gap.
template <class Layout>
bool feasible_by_slots(const std::vector<bool>& removed) {
  std::vector<std::size_t> kept_before;  // for each position: kept tokens before it
  std::size_t m = 0;
  for (bool r : removed) {
    kept_before.push_back(m);
    if (!r) ++m;
  }
  std::vector<std::size_t> capacity(m + 1, 0), need(m + 1, 0);
  for (std::size_t s = 0; s < Layout::slot_count(m); ++s) ++capacity[Layout::gap_of(s, m)];
  for (std::size_t i = 0; i < removed.size(); ++i) {
    if (removed[i]) ++need[kept_before[i]];
  }
  for (std::size_t g = 0; g <= m; ++g) {
    if (need[g] > capacity[g]) return false;
  }
  return true;
}

struct no_locate {  // a layout missing locate(): not a slot_layout
  static constexpr std::string_view name = "x";
  static constexpr run_limits limits{};
  static constexpr std::size_t slot_count(std::size_t n) { return n; }
  static constexpr std::size_t gap_of(std::size_t s, std::size_t) { return s; }
};

}  // namespace

TEST_CASE("layouts satisfy slot_layout", "[layout][concepts]") {
  STATIC_REQUIRE(slot_layout<side_layout>);
  STATIC_REQUIRE(slot_layout<gap_layout>);
  STATIC_REQUIRE_FALSE(slot_layout<no_locate>);
  STATIC_REQUIRE_FALSE(slot_layout<int>);
}

// The old names are [[deprecated]]; this test is the one place that still spells them, to check that
// they compile and name the same types, so it silences that warning here alone (-Werror builds).
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
TEST_CASE("the layouts' old names are the same types, and files keep their layout names", "[layout]") {
  STATIC_REQUIRE(std::is_same_v<side_slots, side_layout>);
  STATIC_REQUIRE(std::is_same_v<gap_slots, gap_layout>);
  STATIC_REQUIRE(side_layout::name == "side_slots");  // what JSONL, .npy and model files record
  STATIC_REQUIRE(gap_layout::name == "gap_slots");
}
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif

TEST_CASE("side_layout numbers two slots per token and one root slot", "[layout]") {
  STATIC_REQUIRE(side_layout::slot_count(0) == 1);
  STATIC_REQUIRE(side_layout::slot_count(4) == 8);
  STATIC_REQUIRE(side_layout::locate(0, 0) == slot_place{0, slot_side::root});
  // _ a _ _ quick _ _ brown _
  for (std::size_t n = 1; n <= 20; ++n) {
    for (std::size_t i = 0; i < n; ++i) {
      CHECK(side_layout::locate(2 * i, n) == slot_place{i, slot_side::left});
      CHECK(side_layout::locate(2 * i + 1, n) == slot_place{i + 1, slot_side::right});
      CHECK(side_layout::slot_of_token(i, slot_side::left) == 2 * i);
      CHECK(side_layout::slot_of_token(i, slot_side::right) == 2 * i + 1);
    }
  }
}

TEST_CASE("gap_layout numbers one slot per gap", "[layout]") {
  STATIC_REQUIRE(gap_layout::slot_count(0) == 1);
  STATIC_REQUIRE(gap_layout::slot_count(4) == 5);
  for (std::size_t n = 0; n <= 20; ++n) {
    for (std::size_t s = 0; s <= n; ++s) {
      CHECK(gap_layout::locate(s, n) == slot_place{s, n == 0 ? slot_side::root : slot_side::between});
    }
  }
}

TEMPLATE_TEST_CASE("slots run left to right and fill each gap up to its limit", "[layout]", side_layout, gap_layout) {
  for (std::size_t n = 0; n <= 30; ++n) {
    std::vector<std::size_t> per_gap(n + 1, 0);
    for (std::size_t s = 0; s < TestType::slot_count(n); ++s) {
      const std::size_t g = TestType::gap_of(s, n);
      REQUIRE(g <= n);
      REQUIRE(TestType::locate(s, n).gap == g);
      if (s > 0) REQUIRE(TestType::gap_of(s - 1, n) <= g);
      ++per_gap[g];
    }
    constexpr run_limits lim = TestType::limits;
    for (std::size_t g = 0; g <= n; ++g) {
      const std::size_t want = n == 0 ? lim.whole : g == 0 ? lim.leading : g == n ? lim.trailing : lim.interior;
      CHECK(per_gap[g] == want);
    }
  }
}

TEMPLATE_TEST_CASE("feasibility equals the slot-capacity reference for every removal set up to length 12",
                   "[layout][feasibility]", side_layout, gap_layout) {
  std::size_t feasible_sets = 0;
  for (std::size_t n = 0; n <= 12; ++n) {
    for (std::size_t mask = 0; mask < (std::size_t{1} << n); ++mask) {
      std::vector<bool> removed(n);
      for (std::size_t i = 0; i < n; ++i) removed[i] = (mask >> i) & 1u;
      const bool want = feasible_by_slots<TestType>(removed);
      INFO("n = " << n << ", mask = " << mask);
      REQUIRE(is_feasible_removal<TestType>(removed) == want);
      feasible_sets += want;
    }
  }
  CHECK(feasible_sets > 0);
}

TEST_CASE("the DESIGN rules for side_layout feasibility, spelled out", "[layout][feasibility]") {
  using v = std::vector<int>;
  CHECK(is_feasible_removal<side_layout>(v{}));
  CHECK(is_feasible_removal<side_layout>(v{1}));          // a single token may go
  CHECK_FALSE(is_feasible_removal<side_layout>(v{1, 1}));  // but not two, leaving nothing
  CHECK(is_feasible_removal<side_layout>(v{0, 1, 1, 0}));  // two between kept tokens
  CHECK_FALSE(is_feasible_removal<side_layout>(v{0, 1, 1, 1, 0}));
  CHECK_FALSE(is_feasible_removal<side_layout>(v{1, 1, 0}));  // one at most before the first kept
  CHECK_FALSE(is_feasible_removal<side_layout>(v{0, 1, 1}));  // and after the last
  CHECK(is_feasible_removal<side_layout>(v{1, 0, 1, 1, 0, 1}));
  CHECK_FALSE(is_feasible_removal<gap_layout>(v{0, 1, 1, 0}));
  STATIC_REQUIRE(is_feasible_removal<side_layout>(std::array{true, false, true, true, false}));
}
