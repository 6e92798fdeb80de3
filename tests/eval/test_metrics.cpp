// The benchmark's text metrics against hand-computed values and the published examples of
// Papineni et al. 2002 (section 2.1).
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "slotdiff/eval/bleu.hpp"
#include "slotdiff/eval/text_metrics.hpp"

using namespace slotdiff;
using words = std::vector<std::string>;

namespace {
words split(const std::string& s) {
  std::istringstream in(s);
  words out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}
}  // namespace

TEST_CASE("modified n-gram precision reproduces Papineni et al. 2002, section 2.1", "[eval][bleu]") {
  // Example 1 (lowercased, final period dropped): the paper gives 17/18 and 8/14 for unigrams,
  // 10/17 and 1/13 for bigrams.
  const words c1 = split("it is a guide to action which ensures that the military always obeys the commands of the party");
  const words c2 = split("it is to insure the troops forever hearing the activity guidebook that party direct");
  const std::vector<words> refs = {
      split("it is a guide to action that ensures that the military will forever heed party commands"),
      split("it is the guiding principle which guarantees the military forces always being under the command of the party"),
      split("it is the practical guide for the army always to heed the directions of the party")};
  using P = std::pair<std::size_t, std::size_t>;
  CHECK(modified_precision_counts(std::span<const std::string>(c1), std::span<const words>(refs), 1) == P{17, 18});
  CHECK(modified_precision_counts(std::span<const std::string>(c2), std::span<const words>(refs), 1) == P{8, 14});
  CHECK(modified_precision_counts(std::span<const std::string>(c1), std::span<const words>(refs), 2) == P{10, 17});
  CHECK(modified_precision_counts(std::span<const std::string>(c2), std::span<const words>(refs), 2) == P{1, 13});
  // Example 2: "the" seven times, clipped to the two of reference 1: 2/7.
  const words the7 = split("the the the the the the the");
  const std::vector<words> cat = {split("the cat is on the mat"), split("there is a cat on the mat")};
  CHECK(modified_precision_counts(std::span<const std::string>(the7), std::span<const words>(cat), 1) == P{2, 7});

  // Both candidates as one corpus: p_n pools the counts, (17+8)/(18+14) and (10+1)/(17+13); r takes
  // the closest reference length, 18 for candidate 1 and 16 for candidate 2, so BP = exp(1 - 34/32).
  const auto b = corpus_bleu(std::vector<words>{c1, c2}, std::vector<std::vector<words>>{refs, refs}, {.smoothing = bleu_smoothing::none});
  CHECK(b.matches[0] == 25);
  CHECK(b.totals[0] == 32);
  CHECK(b.matches[1] == 11);
  CHECK(b.totals[1] == 30);
  CHECK(b.reference_length == 34);
  CHECK(b.brevity_penalty == Approx(std::exp(1.0 - 34.0 / 32.0)).epsilon(1e-12));
  // nltk.translate.bleu_score.corpus_bleu on the same lists gives 0.3043537261305561.
  CHECK(b.score == Approx(0.3043537261305561).epsilon(1e-12));
}

TEST_CASE("corpus BLEU by hand: precisions, brevity penalty, smoothing", "[eval][bleu]") {
  const std::vector<words> hyp = {split("a b c d")};
  const std::vector<words> ref = {split("a b c e")};
  // p1 = 3/4, p2 = 2/3, p3 = 1/2, p4 = 0/1; c = r = 4 so BP = exp(0) = 1.
  const auto b2 = corpus_bleu(hyp, ref, {.max_order = 2});
  CHECK(b2.brevity_penalty == 1.0);
  CHECK(b2.score == Approx(std::sqrt(0.75 * 2.0 / 3.0)).epsilon(1e-12));
  const auto b4 = corpus_bleu(hyp, ref, {.max_order = 4});  // Chen & Cherry method 1: p4 = 0.1 / 1
  CHECK(b4.score == Approx(std::pow(0.75 * (2.0 / 3.0) * 0.5 * 0.1, 0.25)).epsilon(1e-12));
  CHECK(corpus_bleu(hyp, ref, {.max_order = 4, .smoothing = bleu_smoothing::none}).score == 0.0);
  CHECK(b4.precision(4) == 0.0);

  // Short hypothesis: BP = exp(1 - 4/2).
  const auto s = corpus_bleu(std::vector<words>{split("a b")}, std::vector<words>{split("a b c d")}, {.max_order = 2});
  CHECK(s.brevity_penalty == Approx(std::exp(-1.0)).epsilon(1e-12));
  CHECK(s.score == Approx(std::exp(-1.0)).epsilon(1e-12));

  // Closest reference length, the shorter on a tie: |h| = 3, references of 2 and 4 -> r = 2.
  const auto t = corpus_bleu(std::vector<words>{split("x y z")}, std::vector<std::vector<words>>{{split("x y"), split("x y z w")}});
  CHECK(t.reference_length == 2);

  // No unigram match: 0 whatever the smoothing; empty hypotheses: BP 0.
  CHECK(corpus_bleu(std::vector<words>{split("p q")}, std::vector<words>{split("a b")}).score == 0.0);
  const auto e = corpus_bleu(std::vector<words>{words{}}, std::vector<words>{split("a b")});
  CHECK(e.score == 0.0);
  CHECK(e.brevity_penalty == 0.0);
  // A perfect match scores 1 for every order.
  CHECK(corpus_bleu(ref, ref).score == Approx(1.0));
}

TEST_CASE("corpus BLEU refuses bad input", "[eval][bleu]") {
  const std::vector<words> two = {split("a"), split("b")}, one = {split("a")};
  CHECK_THROWS_AS(corpus_bleu(two, one), eval_error);
  CHECK_THROWS_AS(corpus_bleu(one, one, {.max_order = 0}), eval_error);
  CHECK_THROWS_AS(corpus_bleu(one, one, {.epsilon = 0}), eval_error);
  CHECK_THROWS_AS(corpus_bleu(one, std::vector<std::vector<words>>{{}}), eval_error);
}

TEST_CASE("distinct-n, adjacent repeats and keyword coverage by hand", "[eval][diversity]") {
  const std::vector<words> out = {split("a b a b"), split("a c")};
  // unigrams a b a b a c: 3 distinct of 6; bigrams ab ba ab ac: 3 of 4; trigrams aba bab: 2 of 2.
  CHECK(distinct_n(out, 1) == 0.5);
  CHECK(distinct_n(out, 2) == 0.75);
  CHECK(distinct_n(out, 3) == 1.0);
  CHECK(distinct_n(out, 5) == 0.0);  // no 5-gram at all
  CHECK_THROWS_AS(distinct_n(out, 0), eval_error);

  // "of of of x" has two repeats, "y y" one: 3 of 6 tokens; nothing repeats across outputs.
  CHECK(adjacent_repeat_rate(std::vector<words>{split("of of of x"), split("y y")}) == 0.5);
  CHECK(adjacent_repeat_rate(std::vector<words>{split("x"), split("x")}) == 0.0);
  CHECK(adjacent_repeat_rate(std::vector<words>{}) == 0.0);

  const std::vector<words> kw = {split("fox dog"), split("fox dog"), split("a a b"), {}};
  const std::vector<words> gen = {split("the fox saw a dog"), split("the dog saw a fox"), split("a b c"), split("z")};
  CHECK(keywords_in_order(std::span<const std::string>(kw[0]), std::span<const std::string>(gen[0])));
  CHECK_FALSE(keywords_in_order(std::span<const std::string>(kw[1]), std::span<const std::string>(gen[1])));
  CHECK(keyword_fraction(std::span<const std::string>(kw[1]), std::span<const std::string>(gen[1])) == 1.0);
  CHECK(keyword_fraction(std::span<const std::string>(kw[2]), std::span<const std::string>(gen[2])) == Approx(2.0 / 3.0));
  const auto c = coverage(kw, gen);
  CHECK(c.in_order == 0.5);  // sets 0 and 3 (empty); set 1 is out of order, set 2 lacks a second "a"
  CHECK(c.mean_fraction == Approx((1.0 + 1.0 + 2.0 / 3.0 + 1.0) / 4));
  CHECK_THROWS_AS(coverage(kw, std::vector<words>{}), eval_error);
}
