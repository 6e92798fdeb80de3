#include <slotdiff/backends/callback.hpp>
#include <slotdiff/backends/ngram.hpp>
#include <slotdiff/concepts/importance_scorer.hpp>
#include <slotdiff/noise/noise.hpp>
#include <slotdiff/scoring/surprisal.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "random.hpp"

using namespace slotdiff;

namespace {
constexpr std::size_t vocab = 40;
constexpr token_id none = 3;

// A context-free model: every slot draws token t with probability proportional to t (ids 4..39),
// so the surprisal of a token is -log(t / Z) wherever it stands.
double z() {
  double s = 0;
  for (std::size_t t = 4; t < vocab; ++t) s += static_cast<double>(t);
  return s + 10.0;  // none gets weight 10
}
auto context_free = [](const ragged_batch&, std::span<float> out) {
  const std::size_t rows = out.size() / vocab;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t v = 0; v < vocab; ++v)
      out[r * vocab + v] = v < 3 ? -std::numeric_limits<float>::infinity()
                                 : static_cast<float>(std::log((v == none ? 10.0 : static_cast<double>(v)) / z()));
};

// Top-k only wrapper around the same model (for the estimate path).
template <class B>
struct top_k_only {
  using layout_type = typename B::layout_type;
  B* inner;
  std::size_t vocabulary_size() const { return inner->vocabulary_size(); }
  token_id none_id() const { return inner->none_id(); }
  std::size_t top_k(const ragged_batch& b, std::size_t k, std::span<token_id> ids, std::span<float> lp) {
    return inner->top_k(b, k, ids, lp);
  }
};
}  // namespace

TEST_CASE("surprisal scorer: -log P of each token in its own slot, exact with full distributions", "[scoring][surprisal]") {
  STATIC_REQUIRE(dynamic_importance_scorer<surprisal_scorer<callback_backend<side_layout, decltype(context_free)>>>);
  callback_backend<side_layout, decltype(context_free)> backend(context_free, vocab, none);
  surprisal_scorer scorer(backend);
  const std::vector<token_id> x{5, 30, 12, 39, 4};
  std::vector<float> s(x.size());
  scorer.score(x, s);
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(s[i] == Approx(-std::log(static_cast<double>(x[i]) / z())).epsilon(1e-5));
  // The most predictable token (39, the likeliest) goes first under noise().
  const auto tr = noise<side_layout>(x, scorer, {.schedule = noise_schedule::per_step(1)});
  CHECK(tr.removed_at()[3] == 1);
}

TEST_CASE("surprisal scorer through an n-gram model: full and top-k paths agree on the candidates", "[scoring][surprisal]") {
  auto rng = test::seeded_rng(61);
  ngram_backend<gap_layout> model(vocab, none, {.never_insert = {0, 1, 2}});
  for (int i = 0; i < 400; ++i) {
    std::vector<token_id> state(1 + rng() % 6);
    for (auto& t : state) t = static_cast<token_id>(4 + rng() % 8);  // a small working vocabulary
    std::vector<token_id> targets(gap_layout::slot_count(state.size()), none);
    for (auto& t : targets) if (rng() % 2) t = static_cast<token_id>(4 + rng() % 8);
    model.observe_step(state, targets);
  }
  model.finalize();
  surprisal_scorer exact(model);
  top_k_only<ngram_backend<gap_layout>> topk{&model};
  surprisal_scorer approx(topk, 16);
  const std::vector<token_id> x{5, 9, 6, 11};
  std::vector<float> a(x.size()), b(x.size());
  exact.score(x, a);
  approx.score(x, b);
  for (std::size_t i = 0; i < x.size(); ++i) {
    // Check against the model's own probability of the token in its gap's slot.
    std::vector<token_id> rest = x;
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(i));
    CHECK(a[i] == Approx(-std::log(model.probability(rest, i, x[i]))).epsilon(1e-4));
    CHECK(b[i] == Approx(a[i]).epsilon(1e-4));  // ids 4..11 are all among the 16 candidates
  }
  const std::vector<token_id> bad{5, 99};
  REQUIRE_THROWS_WITH(exact.score(bad, a), Catch::Contains("token 99 at position 1"));
}
