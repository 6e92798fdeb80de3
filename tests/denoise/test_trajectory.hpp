// tests/denoise/test_trajectory.hpp: random noising trajectories built independently of the
// noising component, and random sentences.
#pragma once

#include <slotdiff/slotdiff.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

namespace slotdiff::test {

inline constexpr token_id test_none = 3;
inline constexpr std::size_t test_vocab = 60;

// A trajectory built here, independently of the noising component: each step removes a random
// feasible set (at least one token); targets put a lone interior token in the right slot of its left
// neighbour (side_layout) - any convention works, the oracle only replays it.
template <class Layout>
struct test_trajectory {
  std::vector<std::vector<token_id>> states;
  std::vector<std::vector<token_id>> target_rows;
  std::size_t steps() const { return target_rows.size(); }
  const std::vector<token_id>& state(std::size_t t) const { return states[t]; }
  const std::vector<token_id>& targets(std::size_t t) const { return target_rows[t]; }
};

template <class Layout>
test_trajectory<Layout> random_trajectory(std::vector<token_id> x, std::mt19937_64& rng) {
  test_trajectory<Layout> tr;
  tr.states.push_back(x);
  while (!x.empty()) {
    std::vector<bool> removed;
    // Random masks until one is feasible and removes something (the single-token tail always is).
    for (int attempt = 0;; ++attempt) {
      removed.assign(x.size(), false);
      for (std::size_t i = 0; i < x.size(); ++i) removed[i] = std::uniform_int_distribution<int>(0, 2)(rng) == 0;
      if (attempt > 50) std::fill(removed.begin(), removed.end(), false), removed[x.size() - 1] = x.size() == 1, removed[0] = true;
      if (std::find(removed.begin(), removed.end(), true) != removed.end() && is_feasible_removal<Layout>(removed)) break;
    }
    std::vector<token_id> kept;
    for (std::size_t i = 0; i < x.size(); ++i) if (!removed[i]) kept.push_back(x[i]);
    std::vector<token_id> targets(Layout::slot_count(kept.size()), test_none);
    std::size_t g = 0;  // kept tokens before position i
    for (std::size_t i = 0; i < x.size();) {
      if (!removed[i]) { ++g, ++i; continue; }
      std::size_t j = i;
      while (j < x.size() && removed[j]) ++j;
      const std::size_t run = j - i, m = kept.size();
      std::vector<std::size_t> slots;
      for (std::size_t s = 0; s < Layout::slot_count(m); ++s) if (Layout::gap_of(s, m) == g) slots.push_back(s);
      REQUIRE(run <= slots.size());
      // Interior run of one under side_layout: the right slot of the left neighbour; otherwise in order.
      for (std::size_t r = 0; r < run; ++r) targets[slots[r]] = x[i + r];
      i = j;
    }
    x = kept;
    tr.states.push_back(x);
    tr.target_rows.push_back(targets);
  }
  return tr;
}

inline std::vector<token_id> random_sentence(std::mt19937_64& rng, std::size_t max_len = 24) {
  std::vector<token_id> x(std::uniform_int_distribution<std::size_t>(1, max_len)(rng));
  for (auto& t : x) t = std::uniform_int_distribution<token_id>(4, test_vocab - 1)(rng);
  return x;
}

}  // namespace slotdiff::test
