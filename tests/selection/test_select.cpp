// Tests of slotdiff/selection/select.hpp against brute force: the exact DP equals the best feasible
// k-set for n <= 12, greedy is feasible and never beats the DP, protected and thresholded tokens stay.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "random.hpp"
#include "slotdiff/selection/select.hpp"
#include "slotdiff/slots/layout.hpp"

using namespace slotdiff;

namespace {

constexpr float inf = std::numeric_limits<float>::infinity();

struct brute_result {
  double best = std::numeric_limits<double>::infinity();  // least total score of a feasible k-set
  std::size_t most = 0;                                   // the largest feasible removable set
};

template <class Layout>
brute_result brute_force(const std::vector<float>& scores, std::size_t k, float below) {
  const std::size_t n = scores.size();
  brute_result r;
  std::vector<std::uint8_t> mask(n);
  for (std::uint32_t set = 0; set < (1u << n); ++set) {
    double total = 0;
    bool ok = true;
    std::size_t count = 0;
    for (std::size_t i = 0; i < n; ++i) {
      mask[i] = (set >> i) & 1u;
      if (mask[i]) {
        ok = ok && scores[i] < below;
        total += scores[i];
        ++count;
      }
    }
    if (!ok || !is_feasible_removal<Layout>(mask)) continue;
    r.most = std::max(r.most, count);
    if (count == k) r.best = std::min(r.best, total);
  }
  return r;
}

std::vector<float> random_scores(std::mt19937_64& rng, std::size_t n) {
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<int> small(0, 3);  // many ties
  std::uniform_real_distribution<float> real(-2.0f, 5.0f);
  std::vector<float> s(n);
  for (auto& x : s) {
    const int k = kind(rng);
    x = k == 0 ? inf : k < 5 ? static_cast<float>(small(rng)) : real(rng);
  }
  return s;
}

double total_of(const std::vector<float>& scores, const std::vector<std::uint8_t>& mask) {
  double t = 0;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) t += scores[i];
  return t;
}

std::size_t count_of(const std::vector<std::uint8_t>& mask) {
  std::size_t c = 0;
  for (auto f : mask) c += f;
  return c;
}

}  // namespace

TEMPLATE_TEST_CASE("exact selection equals brute force for n <= 12; greedy never beats it", "", side_layout, gap_layout) {
  auto rng = test::seeded_rng();
  std::uniform_int_distribution<std::size_t> len(0, 12);
  std::uniform_int_distribution<int> thresholded(0, 3);
  std::vector<std::uint8_t> exact, greedy;
  for (int trial = 0; trial < 150; ++trial) {
    const std::size_t n = len(rng);
    const auto scores = random_scores(rng, n);
    const float below = thresholded(rng) == 0 ? 2.5f : inf;
    const std::uint64_t seed = rng();
    std::size_t most = 0;
    for (std::size_t k = 0; k <= n; ++k) {
      const brute_result b = brute_force<TestType>(scores, k, below);
      most = b.most;
      INFO("n " << n << " k " << k << " below " << below);
      const bool found = select_exact<TestType>(scores, k, exact, {.below = below, .seed = seed});
      REQUIRE(found == (b.best != std::numeric_limits<double>::infinity()));
      REQUIRE(exact.size() == n);
      if (found) {
        CHECK(count_of(exact) == k);
        CHECK(is_feasible_removal<TestType>(exact));
        CHECK(total_of(scores, exact) == Approx(b.best).margin(1e-9));
      } else {
        CHECK(count_of(exact) == 0);
      }
      const std::size_t got = select_greedy<TestType>(scores, k, greedy, {.below = below, .seed = seed});
      CHECK(got == count_of(greedy));
      CHECK(got <= k);
      CHECK(is_feasible_removal<TestType>(greedy));
      if (got == k && found) CHECK(total_of(scores, greedy) >= total_of(scores, exact) - 1e-9);
      for (std::size_t i = 0; i < n; ++i) {
        if (!(scores[i] < below)) {
          CHECK(exact[i] == 0);
          CHECK(greedy[i] == 0);
        }
      }
    }
    CHECK(max_feasible_removals<TestType>(scores, below) == most);
  }
}

TEMPLATE_TEST_CASE("selection is deterministic for a seed, and the seed breaks ties", "", side_layout, gap_layout) {
  const std::vector<float> flat(30, 1.0f);
  std::vector<std::uint8_t> a, b;
  std::size_t differing_seeds = 0;
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    select_exact<TestType>(flat, 6, a, {.seed = seed});
    select_exact<TestType>(flat, 6, b, {.seed = seed});
    CHECK(a == b);
    select_greedy<TestType>(flat, 6, a, {.seed = seed});
    select_greedy<TestType>(flat, 6, b, {.seed = seed});
    CHECK(a == b);
    select_exact<TestType>(flat, 6, b, {.seed = seed + 100});
    differing_seeds += a != b;
  }
  CHECK(differing_seeds > 0);
}

TEST_CASE("the layouts' maxima and the run rules on known cases") {
  const std::vector<float> nine(9, 0.0f);
  CHECK(max_feasible_removals<side_layout>(nine) == 6);  // _ k _ _ k _ _ k _
  CHECK(max_feasible_removals<gap_layout>(nine) == 5);   // every other token, both ends
  const std::vector<float> one{0.0f};
  CHECK(max_feasible_removals<side_layout>(one) == 1);  // a single token may go: x_T empty
  const std::vector<float> two{0.0f, 0.0f};
  CHECK(max_feasible_removals<side_layout>(two) == 1);
  std::vector<std::uint8_t> mask;
  const std::vector<float> s{5, 1, 1, 9, 0, 0, 0, 7};
  REQUIRE(select_exact<side_layout>(s, 3, mask));
  CHECK(is_feasible_removal<side_layout>(mask));
  CHECK(total_of(s, mask) == Approx(1.0));  // two of the three zeros + one 1
}

TEST_CASE("NaN scores are refused with their position") {
  const std::vector<float> s{1.0f, std::nanf(""), 2.0f};
  std::vector<std::uint8_t> mask;
  CHECK_THROWS_WITH(select_exact<side_layout>(s, 1, mask), Catch::Contains("position 1"));
  CHECK_THROWS_WITH(select_greedy<gap_layout>(s, 1, mask), Catch::Contains("NaN"));
}
