// Tests of stochastic noising: the temperature (Gumbel noise on standardised scores) against the
// closed-form Gumbel-max probabilities, random fraction schedules, K trajectories per sentence
// (distinct, feasible, reproducible, thread- and shard-independent), and the stochastic objective.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "../scoring/toy_embedder.hpp"
#include "random.hpp"
#include "slotdiff/noise/corpus.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/noise/objective.hpp"
#include "slotdiff/scoring/random.hpp"

using namespace slotdiff;

namespace {

/// Scores given per token id (a static scorer).
struct table_scorer {
  std::vector<float> by_id;
  void score(std::span<const token_id> tokens, std::span<float> out) const {
    for (std::size_t i = 0; i < tokens.size(); ++i) out[i] = by_id[static_cast<std::size_t>(tokens[i])];
  }
};

std::vector<std::vector<token_id>> random_corpus(std::mt19937_64& g, std::size_t n, std::size_t max_len, token_id vocab) {
  std::vector<std::vector<token_id>> c(n);
  for (auto& s : c) {
    s.resize(std::uniform_int_distribution<std::size_t>(0, max_len)(g));
    for (auto& t : s) t = std::uniform_int_distribution<token_id>(0, vocab - 1)(g);
  }
  return c;
}

template <class Layout>
void check_feasible(const trajectory<Layout>& tr) {
  for (step_index t = 0; t < tr.steps(); ++t) {
    std::vector<std::uint8_t> mask;
    std::size_t removed = 0;
    for (std::size_t i = 0; i < tr.size(); ++i)
      if (tr.removed_at()[i] > t) {
        mask.push_back(tr.removed_at()[i] == t + 1);
        removed += mask.back();
      }
    CHECK(removed > 0);
    CHECK(is_feasible_removal<Layout>(mask));
  }
}

}  // namespace

TEST_CASE("temperature: one removal follows the Gumbel-max law softmax(-z / T)") {
  // Five tokens, one removal a step, greedy: position i goes first with probability
  // exp(-z_i / T) / sum_j exp(-z_j / T), z the standardised scores.
  const std::vector<float> raw{1.0f, 2.0f, 2.5f, 4.0f, 7.0f};
  const table_scorer scorer{raw};
  const std::vector<token_id> x0{0, 1, 2, 3, 4};
  double mean = 0, sd = 0;
  for (float s : raw) mean += s / 5.0;
  for (float s : raw) sd += (s - mean) * (s - mean) / 5.0;
  sd = std::sqrt(sd);
  for (float T : {0.3f, 1.0f, 3.0f}) {
    std::vector<double> expect(5);
    double total = 0;
    for (std::size_t i = 0; i < 5; ++i) total += expect[i] = std::exp(-(raw[i] - mean) / sd / T);
    for (auto& e : expect) e /= total;
    std::vector<double> seen(5, 0.0);
    constexpr int draws = 20000;
    for (int s = 0; s < draws; ++s) {
      const auto tr = noise<gap_layout>(x0, scorer,
                                       {.schedule = noise_schedule::per_step(1), .selection = selection_method::greedy,
                                        .seed = static_cast<std::uint64_t>(s), .max_steps = 1, .temperature = T});
      for (std::size_t i = 0; i < 5; ++i)
        if (tr.removed_at()[i] == 1) seen[i] += 1.0 / draws;
    }
    for (std::size_t i = 0; i < 5; ++i) {
      INFO("T " << T << ", position " << i << ": seen " << seen[i] << ", expected " << expect[i]);
      // 20000 draws: the standard error is at most 0.0036; 5 of them is a loose, never-flaky bound.
      CHECK(std::abs(seen[i] - expect[i]) < 0.018);
    }
  }
}

TEST_CASE("temperature: 0 and a tiny temperature give the deterministic trajectory; bad values throw") {
  auto g = test::seeded_rng(11);
  // Distinct tokens with random scores: no ties between tokens or between the totals of two sets
  // (ties are broken by the seeded rank at T = 0 and by the noise at T > 0, so they may differ).
  std::vector<std::vector<token_id>> corpus(50);
  for (auto& s : corpus) {
    s.resize(std::uniform_int_distribution<std::size_t>(0, 30)(g));
    std::iota(s.begin(), s.end(), 0);
    std::shuffle(s.begin(), s.end(), g);
  }
  std::vector<float> by_id(31);
  for (auto& x : by_id) x = std::uniform_real_distribution<float>(0.0f, 10.0f)(g);
  const table_scorer scorer{by_id};
  for (const auto& x0 : corpus) {
    const auto plain = noise<side_layout>(x0, scorer, {.seed = 3});
    CHECK(noise<side_layout>(x0, scorer, {.seed = 3, .temperature = 0.0f}) == plain);
    CHECK(noise<side_layout>(x0, scorer, {.seed = 3, .temperature = 1e-6f}) == plain);
  }
  const std::vector<token_id> x0{1, 2, 3};
  CHECK_THROWS_WITH(noise<side_layout>(x0, scorer, {.temperature = -1.0f}), Catch::Contains("temperature") && Catch::Contains("-1"));
  CHECK_THROWS_WITH(noise<side_layout>(x0, scorer, {.temperature = std::numeric_limits<float>::quiet_NaN()}),
                    Catch::Contains("temperature"));
}

TEST_CASE("temperature: protected (+inf) and above-threshold tokens are never removed") {
  const std::vector<float> by_id{1.0f, std::numeric_limits<float>::infinity(), 0.5f, 9.0f, 2.0f};
  const table_scorer scorer{by_id};
  const std::vector<token_id> x0{0, 1, 2, 3, 4, 0, 2, 1, 4};
  for (std::uint64_t s = 0; s < 200; ++s) {
    const auto tr = noise<side_layout>(x0, scorer, {.schedule = noise_schedule::threshold(5.0f), .seed = s, .temperature = 2.0f});
    for (std::size_t i = 0; i < x0.size(); ++i)
      if (x0[i] == 1 || x0[i] == 3) CHECK(tr.removed_at()[i] == tr.steps() + 1);
  }
}

TEST_CASE("schedule fraction:LOW..HIGH: parsed, validated, varies the step sizes, reproducible") {
  const auto s = noise_schedule::parse("fraction:0.2..0.6");
  CHECK(s.is_random());
  CHECK(s.share == 0.2f);
  CHECK(s.share_high == 0.6f);
  CHECK(noise_schedule::parse(s.to_string()).share_high == 0.6f);
  CHECK(s.removals(10, 10, 0.0f) == 2);
  CHECK(s.removals(10, 10, 0.999f) == 6);
  CHECK_FALSE(noise_schedule::parse("fraction:0.3").is_random());
  for (const char* bad : {"fraction:0.6..0.2", "fraction:0.2..1.5", "fraction:..0.5", "fraction:0.2..", "fraction:0..0.5",
                          "fraction:0.2..0.5x"})
    CHECK_THROWS_WITH(noise_schedule::parse(bad), Catch::Contains("fraction"));
  // Deterministic scores, random step sizes: different seeds pass through different states.
  std::vector<float> by_id(40);
  for (std::size_t i = 0; i < by_id.size(); ++i) by_id[i] = static_cast<float>((i * 7) % 40);
  const table_scorer scorer{by_id};
  std::vector<token_id> x0(30);
  for (std::size_t i = 0; i < x0.size(); ++i) x0[i] = static_cast<token_id>(i);
  std::set<std::vector<step_index>> seen;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const auto tr = noise<side_layout>(x0, scorer, {.schedule = s, .seed = seed});
    check_feasible(tr);
    CHECK(noise<side_layout>(x0, scorer, {.schedule = s, .seed = seed}) == tr);
    seen.insert(std::vector<step_index>(tr.removed_at().begin(), tr.removed_at().end()));
  }
  CHECK(seen.size() > 5);
}

TEMPLATE_TEST_CASE("noise_corpus_samples: K distinct feasible trajectories, reproducible at any thread count", "", side_layout,
                   gap_layout) {
  auto g = test::seeded_rng(12);
  const auto corpus = random_corpus(g, 120, 25, 300);
  std::vector<float> by_id(300);
  for (auto& s : by_id) s = std::uniform_real_distribution<float>(0.0f, 10.0f)(g);
  const table_scorer scorer{by_id};
  auto one = [&](std::span<const token_id> t, const noise_options& o) { return noise<TestType>(t, scorer, o); };
  // Three removals a step leave many feasible choices in both layouts (a fraction of 0.5 is nearly the
  // most gap_layout allows, which leaves almost no choice).
  const noise_options opts{.schedule = noise_schedule::per_step(3), .seed = 42, .temperature = 0.7f};
  constexpr std::size_t K = 6;
  const auto a = noise_corpus_samples<trajectory<TestType>>(corpus, one, opts, {.trajectories = K}, {.threads = 1});
  const auto b = noise_corpus_samples<trajectory<TestType>>(corpus, one, opts, {.trajectories = K}, {.threads = 3, .chunk = 7});
  CHECK(a == b);
  const auto first = noise_corpus<trajectory<TestType>>(corpus, one, opts, {.threads = 2});
  std::size_t full = 0;
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    INFO("sentence " << i << " of length " << corpus[i].size());
    REQUIRE(!a[i].empty());
    CHECK(a[i].size() <= K);
    CHECK(a[i][0] == first[i]);  // the first draw is the one-trajectory output
    for (std::size_t k = 0; k < a[i].size(); ++k) {
      check_feasible(a[i][k]);
      for (std::size_t j = 0; j < k; ++j) CHECK_FALSE(a[i][k] == a[i][j]);
    }
    full += a[i].size() == K;
    if (corpus[i].size() >= 12) CHECK(a[i].size() == K);  // long sentences have many trajectories
  }
  CHECK(full > corpus.size() / 2);
  // Another seed, other trajectories; without `distinct`, exactly K each.
  const auto c = noise_corpus_samples<trajectory<TestType>>(
      corpus, one, {.schedule = noise_schedule::per_step(3), .seed = 43, .temperature = 0.7f}, {.trajectories = K});
  CHECK(c != a);
  const auto d = noise_corpus_samples<trajectory<TestType>>(corpus, one, opts, {.trajectories = K, .distinct = false});
  for (const auto& t : d) CHECK(t.size() == K);
  // Sharding: a sentence keeps its trajectories when the corpus is split (seeds come from indices).
  std::vector<std::vector<token_id>> odd;
  std::vector<std::uint64_t> idx;
  for (std::size_t i = 1; i < corpus.size(); i += 2) odd.push_back(corpus[i]), idx.push_back(i);
  const auto e = noise_corpus_samples<trajectory<TestType>>(odd, one, opts, {.trajectories = K}, {.indices = idx});
  for (std::size_t j = 0; j < odd.size(); ++j) CHECK(e[j] == a[idx[j]]);
  CHECK_THROWS_WITH(noise_corpus_samples<trajectory<TestType>>(corpus, one, opts, {.trajectories = 0}), Catch::Contains("0 trajectories"));
}

TEMPLATE_TEST_CASE("embedding objective with a temperature: feasible, reproducible, varied", "", side_layout, gap_layout) {
  const test::mean_embedder emb{.d = 8, .seed = 5};
  auto g = test::seeded_rng(13);
  const auto corpus = random_corpus(g, 20, 20, 200);
  for (std::size_t exact_up_to : {std::size_t{0}, std::size_t{12}}) {
    const embedding_objective<test::mean_embedder, test::cosine_distance> obj{.embedder = &emb, .exact_up_to = exact_up_to};
    for (const auto& x0 : corpus) {
      if (x0.size() < 6) continue;
      std::set<std::vector<step_index>> seen;
      for (std::uint64_t seed = 0; seed < 8; ++seed) {
        const noise_options o{.schedule = noise_schedule::per_step(2), .seed = seed, .temperature = 1.0f};
        const auto tr = noise<TestType>(x0, obj, o);
        check_feasible(tr);
        CHECK(noise<TestType>(x0, obj, o) == tr);
        seen.insert(std::vector<step_index>(tr.removed_at().begin(), tr.removed_at().end()));
      }
      INFO("exact up to " << exact_up_to << ", length " << x0.size());
      CHECK(seen.size() > 1);
    }
  }
}
