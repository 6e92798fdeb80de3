#include <slotdiff/backends/ngram.hpp>
#include <slotdiff/denoise/denoise.hpp>
#include <slotdiff/denoise/predictive_change.hpp>
#include <slotdiff/metrics/probability.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>
#include <vector>

#include "random.hpp"
#include "test_trajectory.hpp"

using namespace slotdiff;
using slotdiff::test::test_none;
using slotdiff::test::test_vocab;

TEST_CASE("predictive change: the model's own distributions as the meaning, compared by JS", "[denoise][semantics]") {
  auto rng = test::seeded_rng(51);
  std::vector<test::test_trajectory<side_layout>> trs;
  for (int i = 0; i < 300; ++i) trs.push_back(test::random_trajectory<side_layout>(test::random_sentence(rng, 10), rng));
  auto model = ngram_backend<side_layout>::train(trs, test_vocab, test_none, {.never_insert = {0, 1, 2}});
  const predictive_change<ngram_backend<side_layout>, jensen_shannon_distance> full(model, jensen_shannon_distance{});
  std::vector<float> a(test_vocab), b(test_vocab);
  const auto x = test::random_sentence(rng, 8);
  full.embed(x, a);
  CHECK(std::accumulate(a.begin(), a.end(), 0.0) == Approx(1.0).margin(1e-5));
  // The average of the slots' distributions, computed here from probability().
  for (token_id v : {token_id{3}, token_id{10}, token_id{40}}) {
    double want = 0;
    for (std::size_t s = 0; s < side_layout::slot_count(x.size()); ++s) want += model.probability(x, s, v);
    CHECK(a[static_cast<std::size_t>(v)] == Approx(want / static_cast<double>(side_layout::slot_count(x.size()))).epsilon(1e-4));
  }
  CHECK(full.distance(a, a) == Approx(0.0f).margin(1e-6));
  auto y = x;
  y.insert(y.begin() + 2, 17);
  full.embed(y, b);
  const float d = full.distance(a, b);
  CHECK(d > 0.0f);
  CHECK(d == Approx(full.distance(b, a)));
  // It drives the semantic budget like any measure: no step above it but by the progress rule.
  const std::vector<std::vector<token_id>> start{x};
  const auto g = denoise(model, std::span(start), stop::max_steps{3}, {.sampling = {.temperature = 1.0f}, .fill = {.budget = 0.05f}}, full);
  for (const auto& s : g[0].trace)
    if (s.change > 0.05f) CHECK(s.inserted.size() == 1);
}
