// Tests of slotdiff/scoring/by_name.hpp: a scorer named at run time scores exactly as the library's
// compile-time scorer of that name (mixes against weighted_mix with rank normalisation), protected
// ids score +infinity, the random part follows the seed it is given, and bad names are refused with
// the option's name in the message.
#include <catch2/catch.hpp>

#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "random.hpp"
#include "slotdiff/scoring/by_name.hpp"
#include "slotdiff/scoring/mix.hpp"
#include "slotdiff/scoring/random.hpp"
#include "slotdiff/scoring/unigram.hpp"

using namespace slotdiff;

namespace {

std::vector<float> scores_of(const named_scorer& s, const std::vector<token_id>& x, std::uint64_t seed) {
  std::vector<float> out(x.size());
  s.score(x, out, seed);
  return out;
}

template <class S>
std::vector<float> scores_of(const S& s, const std::vector<token_id>& x) {
  std::vector<float> out(x.size());
  s.score(x, out);
  return out;
}

}  // namespace

TEST_CASE("named_scorer: each name scores as the library's scorer of that name") {
  auto rng = test::seeded_rng();
  std::uniform_int_distribution<token_id> tok(4, 40);
  std::uniform_int_distribution<std::size_t> len(0, 12);
  unigram_model model;
  for (int i = 0; i < 50; ++i) {
    std::vector<token_id> x(len(rng));
    for (auto& t : x) t = tok(rng);
    model.observe(x);
  }
  const named_scorer_options o{.statistics = &model};
  const named_scorer idf(scorer_spec::parse("idf"), o), info(scorer_spec::parse("info"), o), tfidf(scorer_spec::parse("tfidf"), o),
      rnd(scorer_spec::parse("random"), o);
  const named_scorer mix(scorer_spec::parse("mix:idf=0.7,random=0.3"), o);
  CHECK_FALSE(idf.dynamic());
  CHECK_FALSE(rnd.dynamic());
  CHECK(mix.dynamic());  // ranks among x_t's tokens change as tokens go
  for (int trial = 0; trial < 100; ++trial) {
    std::vector<token_id> x(len(rng));
    for (auto& t : x) t = tok(rng);
    const std::uint64_t seed = rng();
    CHECK(scores_of(idf, x, seed) == scores_of(idf_scorer(model), x));
    CHECK(scores_of(info, x, seed) == scores_of(self_information_scorer(model), x));
    CHECK(scores_of(tfidf, x, seed) == scores_of(tfidf_scorer(model), x));
    CHECK(scores_of(rnd, x, seed) == scores_of(random_scorer{seed}, x));
    if (x.size() > 1) {  // a single token ranks 0 here; weighted_mix adds its raw score
      const weighted_mix ref(mix_normalize::rank, weighted{0.7f, idf_scorer(model)}, weighted{0.3f, random_scorer{seed}});
      CHECK(scores_of(mix, x, seed) == scores_of(ref, x));
    }
  }
}

TEST_CASE("named_scorer: protected ids score +infinity, the rest as without protection") {
  constexpr float inf = std::numeric_limits<float>::infinity();
  const std::vector<token_id> x{4, 9, 4, 2, 7};
  const named_scorer plain(scorer_spec::parse("random"), {});
  const named_scorer prot(scorer_spec::parse("random"), {.protect = {9, 4, 77, 4}});
  const auto a = scores_of(plain, x, 5), b = scores_of(prot, x, 5);
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(b[i] == (x[i] == 4 || x[i] == 9 ? inf : a[i]));
  // Through a mix too, and the other tokens keep the mix's scores.
  const named_scorer mix(scorer_spec::parse("mix:random=1"), {}), mix_prot(scorer_spec::parse("mix:random=1"), {.protect = {4}});
  const auto c = scores_of(mix, x, 5), d = scores_of(mix_prot, x, 5);
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(d[i] == (x[i] == 4 ? inf : c[i]));
}

TEST_CASE("scorer_spec: names, mixes and the errors that name the option") {
  const scorer_spec m = scorer_spec::parse("mix:idf=0.5,shift,random=2e-1");
  CHECK(m.mix);
  CHECK(m.terms == std::vector<scorer_term>{{"idf", 0.5f}, {"shift", 1.0f}, {"random", 0.2f}});
  CHECK(m.needs_statistics());
  CHECK(m.needs_embedder());
  CHECK(scorer_spec::parse("dynamic").is_objective());
  CHECK(scorer_spec::parse("dynamic").needs_embedder());
  CHECK_FALSE(scorer_spec::parse("random").needs_statistics());
  using Catch::Contains;
  CHECK_THROWS_AS(scorer_spec::parse("cosy", "--scorer"), options_error);
  CHECK_THROWS_WITH(scorer_spec::parse("cosy", "--scorer"),
                    "--scorer: expected idf, info, tfidf, random, shift, dynamic or mix:NAME=W,..., got \"cosy\"");
  CHECK_THROWS_WITH(scorer_spec::parse("mix:idf=x", "--scorer"),
                    "--scorer: \"mix:idf=x\": \"idf=x\" has a weight that is not a finite number >= 0 (expected "
                    "mix:NAME=WEIGHT,... with NAME one of idf, info, tfidf, random, shift)");
  for (const char* bad : {"mix:idf=-1", "mix:idf=nan", "mix:idf=inf", "mix:idf=1e60", "mix:idf=", "mix:idf= 1", "mix:idf=+1"})
    CHECK_THROWS_WITH(scorer_spec::parse(bad), Contains("has a weight that is not a finite number >= 0"));
  CHECK_THROWS_WITH(scorer_spec::parse("mix:bogus=1"), Contains("\"bogus=1\" names no scorer that can be mixed"));
  CHECK_THROWS_WITH(scorer_spec::parse("mix:dynamic=1"), Contains("names no scorer that can be mixed"));
  CHECK_THROWS_WITH(scorer_spec::parse("mix:idf,idf=2"), Contains("\"idf=2\" repeats a scorer"));
  CHECK_THROWS_WITH(scorer_spec::parse("mix:"), Contains("mixes nothing"));
  CHECK_THROWS_WITH(scorer_spec::parse("mix:idf=0,random=0"), Contains("has only zero weights"));
  // What the parts need must be given.
  CHECK_THROWS_AS(named_scorer(scorer_spec::parse("idf"), {}), options_error);
  CHECK_THROWS_WITH(named_scorer(scorer_spec::parse("mix:random,shift"), {}), Contains("the shift part"));
  CHECK_THROWS_WITH(named_scorer(scorer_spec::parse("dynamic"), {}), Contains("got \"dynamic\""));
}

TEST_CASE("named_distance: the names of --metric") {
  const std::vector<float> a{1.0f, 2.0f, 2.0f}, b{2.0f, 0.0f, 1.0f};
  CHECK(named_distance()(a, b) == cosine_distance{}(a, b));
  CHECK(named_distance("euclidean")(a, b) == euclidean_distance{}(a, b));
  CHECK(named_distance("sqeuclidean")(a, b) == squared_euclidean_distance{}(a, b));
  CHECK(named_distance("ip")(a, b) == inner_product_distance{}(a, b));
  CHECK(named_distance("ip").name() == "ip");
  CHECK_THROWS_WITH(named_distance("manhattan", "--metric"),
                    "--metric: expected cosine, euclidean, sqeuclidean or ip, got \"manhattan\"");
}
