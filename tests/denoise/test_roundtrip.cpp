// The seed's round trip: denoise(noise(x)) with the oracle backend rebuilds x exactly, in the same
// number of steps, for random sentences, scorers, layouts and schedules.
#include <slotdiff/backends/oracle.hpp>
#include <slotdiff/denoise/denoise.hpp>
#include <slotdiff/noise/noise.hpp>
#include <slotdiff/scoring/random.hpp>
#include <slotdiff/scoring/unigram.hpp>

#include <catch2/catch.hpp>

#include <random>
#include <variant>
#include <vector>

#include "random.hpp"

using namespace slotdiff;

namespace {

constexpr token_id none = 3;
constexpr std::size_t vocab = 200;

noise_schedule random_schedule(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0: return noise_schedule::per_step(1 + rng() % 3);
    case 1: return noise_schedule::fraction(0.2f + 0.6f * static_cast<float>(rng() % 100) / 100.0f);
    case 2: return noise_schedule::maximum();
    default: return noise_schedule::threshold(1.0f + static_cast<float>(rng() % 30) / 10.0f);
  }
}

template <class Layout>
void round_trip(std::mt19937_64& rng, const unigram_model& model) {
  const idf_scorer idf(model);
  const tfidf_scorer tfidf(model);
  for (int batch = 0; batch < 6; ++batch) {
    oracle_backend<Layout> oracle(vocab, none);
    std::vector<trajectory<Layout>> trs;
    std::vector<std::vector<token_id>> starts;
    for (int i = 0; i < 24; ++i) {
      std::vector<token_id> x(1 + rng() % 30);
      for (auto& t : x) t = static_cast<token_id>(4 + rng() % (vocab - 4));
      const noise_options opt{.schedule = random_schedule(rng),
                              .selection = rng() % 2 ? selection_method::exact : selection_method::greedy,
                              .keep_keywords = rng() % 3 == 0 ? 0 : rng() % 4,
                              .seed = rng()};
      switch (rng() % 3) {
        case 0: trs.push_back(noise<Layout>(x, random_scorer{rng()}, opt)); break;
        case 1: trs.push_back(noise<Layout>(x, idf, opt)); break;
        default: trs.push_back(noise<Layout>(x, tfidf, opt)); break;
      }
      oracle.add(trs.back());
      starts.push_back(trs.back().state(trs.back().steps()));
    }
    const auto gens = denoise(oracle, std::span<const std::vector<token_id>>(starts), stop::probability_below{0.5f},
                              {.fill = {.min_confidence = 0.5f, .gaps = gap_policy::independent}});
    for (std::size_t i = 0; i < trs.size(); ++i) {
      INFO(Layout::name << ", batch " << batch << ", sequence " << i << ", steps " << trs[i].steps());
      REQUIRE(gens[i].tokens == trs[i].state(0));
      REQUIRE(gens[i].steps == static_cast<std::size_t>(trs[i].steps()));
      // The births are the removal steps read backwards: removed at step t of T, reborn at T - t + 1.
      const auto removed = trs[i].removed_at();
      const auto T = trs[i].steps();
      for (std::size_t j = 0; j < removed.size(); ++j) {
        const step_index want = removed[j] > T ? 0 : T - removed[j] + 1;
        REQUIRE(gens[i].births[j] == want);
      }
    }
  }
}

}  // namespace

TEST_CASE("denoise(noise(x)) with the oracle is x, step for step", "[denoise][oracle][noise][property]") {
  auto rng = test::seeded_rng(31);
  unigram_model model;
  for (int d = 0; d < 300; ++d) {
    std::vector<token_id> doc(1 + rng() % 12);
    for (auto& t : doc) t = static_cast<token_id>(4 + std::min<std::size_t>(rng() % (vocab - 4), rng() % (vocab - 4)));
    model.observe(doc);
  }
  round_trip<side_layout>(rng, model);
  round_trip<gap_layout>(rng, model);
}
