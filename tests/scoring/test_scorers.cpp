// Tests of slotdiff/scoring/: the unigram model and its scorers, random, mixes, keyword protection,
// leave-one-out embedding shift, and the importance_scorer concept.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <vector>

#include "random.hpp"
#include "slotdiff/concepts/importance_scorer.hpp"
#include "slotdiff/scoring/embedding_shift.hpp"
#include "slotdiff/scoring/mix.hpp"
#include "slotdiff/scoring/protect.hpp"
#include "slotdiff/scoring/random.hpp"
#include "slotdiff/scoring/unigram.hpp"
#include "toy_embedder.hpp"

using namespace slotdiff;

namespace {

struct archetype_scorer {
  void score(std::span<const token_id>, std::span<float>) const {}
};
struct archetype_dynamic {
  static constexpr bool dynamic = true;
  void score(std::span<const token_id>, std::span<float>) const {}
};
struct not_a_scorer {
  void score(std::span<const token_id>) const {}
};
struct mutating_scorer {  // score must be const
  void score(std::span<const token_id>, std::span<float>) {}
};

std::vector<std::vector<token_id>> random_corpus(std::mt19937_64& rng, std::size_t docs, token_id vocab) {
  std::uniform_int_distribution<std::size_t> len(0, 20);
  std::geometric_distribution<token_id> zipfish(0.15);  // small ids frequent, like a real vocabulary
  std::vector<std::vector<token_id>> out(docs);
  for (auto& d : out) {
    d.resize(len(rng));
    for (auto& t : d) t = std::min<token_id>(zipfish(rng), vocab - 1);
  }
  return out;
}

}  // namespace

TEST_CASE("importance_scorer: archetypes and negatives") {
  STATIC_REQUIRE(importance_scorer<archetype_scorer>);
  STATIC_REQUIRE_FALSE(dynamic_importance_scorer<archetype_scorer>);
  STATIC_REQUIRE(dynamic_importance_scorer<archetype_dynamic>);
  STATIC_REQUIRE_FALSE(importance_scorer<not_a_scorer>);
  STATIC_REQUIRE_FALSE(importance_scorer<mutating_scorer>);
  STATIC_REQUIRE(importance_scorer<random_scorer>);
  STATIC_REQUIRE(importance_scorer<idf_scorer>);
  STATIC_REQUIRE(dynamic_importance_scorer<tfidf_scorer>);
  STATIC_REQUIRE(dynamic_importance_scorer<embedding_shift_scorer<test::mean_embedder, test::cosine_distance>>);
  STATIC_REQUIRE_FALSE(dynamic_importance_scorer<keyword_protect<idf_scorer>>);
  STATIC_REQUIRE(dynamic_importance_scorer<keyword_protect<tfidf_scorer>>);
  STATIC_REQUIRE(dynamic_importance_scorer<weighted_mix<random_scorer, tfidf_scorer>>);
  STATIC_REQUIRE_FALSE(dynamic_importance_scorer<weighted_mix<random_scorer, idf_scorer>>);
}

TEST_CASE("unigram_model: counts, document frequencies and the statistics against direct counting") {
  auto rng = test::seeded_rng();
  const auto corpus = random_corpus(rng, 300, 50);
  unigram_model m;
  for (const auto& d : corpus) m.observe(d);
  CHECK(m.documents() == corpus.size());
  for (token_id t = 0; t < 55; ++t) {
    std::uint64_t count = 0, df = 0, total = 0;
    for (const auto& d : corpus) {
      const auto c = static_cast<std::uint64_t>(std::count(d.begin(), d.end(), t));
      count += c;
      df += c > 0;
      total += d.size();
    }
    INFO("token " << t);
    CHECK(m.count(t) == count);
    CHECK(m.document_frequency(t) == df);
    CHECK(m.total_tokens() == total);
    CHECK(m.idf(t) == Approx(std::log((1.0 + 300.0) / (1.0 + double(df))) + 1.0));
  }
  // more documents -> lower idf; unseen -> the largest idf
  const idf_scorer idf(m);
  const std::vector<token_id> toks{0, 5, 49, 1000};
  std::vector<float> s(4);
  idf.score(toks, s);
  CHECK(s[0] <= s[1]);
  CHECK(s[3] == Approx(std::log(301.0) + 1.0));
  CHECK(s[3] >= s[2]);

  const self_information_scorer info(m);
  info.score(toks, s);
  CHECK(s[0] < s[1]);
  CHECK(s[3] >= s[2]);

  SECTION("merge equals observing everything") {
    unigram_model a, b;
    for (std::size_t i = 0; i < corpus.size(); ++i) (i % 2 ? a : b).observe(corpus[i]);
    a.merge(b);
    CHECK(a.documents() == m.documents());
    for (token_id t = 0; t < 50; ++t) {
      CHECK(a.count(t) == m.count(t));
      CHECK(a.document_frequency(t) == m.document_frequency(t));
    }
  }
  SECTION("save/load round trip, corrupt files refused") {
    std::stringstream buf;
    m.write(buf);
    const auto back = unigram_model::read(buf, "buf");
    CHECK(back.documents() == m.documents());
    CHECK(back.total_tokens() == m.total_tokens());
    for (token_id t = 0; t < 50; ++t) CHECK(back.idf(t) == m.idf(t));
    auto refuse = [](const std::string& text, const std::string& what) {
      std::istringstream in(text);
      CHECK_THROWS_WITH(unigram_model::read(in, "m.txt"), Catch::Contains(what));
    };
    const std::string head = std::string(unigram_model::file_header) + "\ndocuments 2\ntokens 3\n";
    refuse("junk\n", "not a slotdiff unigram model");
    refuse(head + "0\t2\t2\n", "add up to 2");
    refuse(head + "0\t3\t5\n", "document frequency 5");
    refuse(head + "1\t2\t1\n0\t1\t1\n", "out of order");
    refuse(head + "0\tx\t1\n", "m.txt:4");
    CHECK_THROWS_AS(unigram_model::load("/nonexistent/model.txt"), model_error);
    // Numbers are checked, never wrapped or cut short.
    refuse(std::string(unigram_model::file_header) + "\ndocuments -1\ntokens 3\n", "m.txt:2");
    refuse(std::string(unigram_model::file_header) + "\ndocuments 5x\ntokens 3\n", "m.txt:2");
    refuse(std::string(unigram_model::file_header) + "\ndocuments 2\ntokens 18446744073709551616\n", "m.txt:3");
    refuse(head + "4294967296\t3\t1\n", "m.txt:4");     // an id beyond int32
    refuse(head + "0\t3\t1\textra\n", "m.txt:4");
    refuse(head + "0\t-3\t1\n", "m.txt:4");
    refuse(head + "0\t3.5\t1\n", "m.txt:4");
    refuse(std::string(unigram_model::file_header) + "\ndocuments 2\ntokens 0\n0\t18446744073709551615\t1\n1\t1\t1\n",
           "more than 2^64 - 1");
  }
  SECTION("memory is bounded by the input: the issue's 60-byte file is refused before any table grows") {
    std::istringstream bomb(std::string(unigram_model::file_header) + "\ndocuments 1\ntokens 1\n2147483647\t1\t1\n");
    CHECK_THROWS_WITH(unigram_model::read(bomb, "bomb.txt"), Catch::Contains("bomb.txt") && Catch::Contains("2147483647") &&
                                                                   Catch::Contains("too sparse"));
    // The bound is max(65535, 16 x entries): ids up to it read, and a dense model of any size does.
    std::istringstream edge(std::string(unigram_model::file_header) + "\ndocuments 1\ntokens 1\n65535\t1\t1\n");
    CHECK(unigram_model::read(edge, "edge.txt").id_bound() == 65536);
    unigram_model dense;
    std::vector<token_id> all(100000);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<token_id>(i);
    dense.observe(all);
    std::stringstream buf;
    dense.write(buf);
    CHECK(unigram_model::read(buf, "dense.txt").id_bound() == all.size());
  }
  const std::vector<token_id> bad{3, -2};
  CHECK_THROWS_WITH(m.observe(bad), Catch::Contains("-2"));
}

TEST_CASE("tfidf: a repeated token weighs more than once") {
  unigram_model m;
  const std::vector<std::vector<token_id>> docs{{1, 2}, {1, 3}, {2, 3}};
  for (const auto& d : docs) m.observe(d);
  const tfidf_scorer tfidf(m);
  const std::vector<token_id> s{1, 2, 1};
  std::vector<float> out(3);
  tfidf.score(s, out);
  CHECK(out[0] == out[2]);
  CHECK(out[0] == Approx(2.0f / 3.0f * float(m.idf(1))));
  CHECK(out[1] == Approx(1.0f / 3.0f * float(m.idf(2))));
}

TEST_CASE("random_scorer: in [0, 1), reproducible, seed-dependent") {
  const std::vector<token_id> s{5, 6, 7, 8, 9, 10, 11, 12};
  std::vector<float> a(8), b(8), c(8);
  random_scorer{3}.score(s, a);
  random_scorer{3}.score(s, b);
  random_scorer{4}.score(s, c);
  CHECK(a == b);
  CHECK(a != c);
  for (float x : a) CHECK((x >= 0.0f && x < 1.0f));
}

TEST_CASE("keyword_protect and weighted_mix") {
  constexpr float inf = std::numeric_limits<float>::infinity();
  const std::vector<token_id> s{4, 9, 4, 2};
  std::vector<float> out(4), r(4);
  const keyword_protect prot(random_scorer{1}, {4, 77});
  prot.score(s, out);
  random_scorer{1}.score(s, r);
  CHECK(out[0] == inf);
  CHECK(out[2] == inf);
  CHECK(out[1] == r[1]);
  CHECK(out[3] == r[3]);

  const weighted_mix plain(mix_normalize::none, weighted{0.25f, random_scorer{1}}, weighted{2.0f, random_scorer{2}});
  std::vector<float> r2(4);
  random_scorer{2}.score(s, r2);
  plain.score(s, out);
  for (std::size_t i = 0; i < 4; ++i) CHECK(out[i] == Approx(0.25f * r[i] + 2.0f * r2[i]));

  const weighted_mix ranked(mix_normalize::rank, weighted{1.0f, random_scorer{1}}, weighted{1.0f, prot});
  ranked.score(s, out);
  CHECK(out[0] == inf);
  CHECK(out[2] == inf);
  for (std::size_t i : {1u, 3u}) CHECK((out[i] >= 0.0f && out[i] <= 2.0f));
  // rank normalisation preserves the order of a single part
  const weighted_mix one(mix_normalize::rank, weighted{1.0f, random_scorer{1}});
  one.score(s, out);
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j) CHECK((r[i] < r[j]) == (out[i] < out[j]));
}

TEST_CASE("embedding_shift_scorer equals re-embedding without each token") {
  auto rng = test::seeded_rng();
  const test::mean_embedder emb{.d = 24};
  const embedding_shift_scorer shift(emb, test::cosine_distance{});
  std::uniform_int_distribution<token_id> tok(4, 200);
  for (std::size_t n : {1u, 2u, 3u, 7u, 20u}) {
    std::vector<token_id> s(n);
    for (auto& t : s) t = tok(rng);
    std::vector<float> out(n), full(emb.d), without(emb.d);
    shift.score(s, out);
    emb.embed(s, full);
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<token_id> rest = s;
      rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(i));
      emb.embed(rest, without);
      CHECK(out[i] == Approx(test::cosine_distance{}(full, without)).margin(1e-5));
    }
  }
  const auto nan_metric = [](std::span<const float>, std::span<const float>) { return std::nanf(""); };
  const embedding_shift_scorer bad(emb, nan_metric);
  const std::vector<token_id> s{5, 6};
  std::vector<float> out(2);
  CHECK_THROWS_WITH(bad.score(s, out), Catch::Contains("NaN for position 0"));
}
