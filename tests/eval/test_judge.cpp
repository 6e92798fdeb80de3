// The judge: interpolated modified Kneser-Ney. Every conditional distribution sums to one over the
// predicted ids (random corpora, orders 1..6, random contexts); hand-computed probabilities with fixed
// discounts; the judge's word handling and how it counts predictions.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "slotdiff/eval/keywords.hpp"
#include "slotdiff/eval/kneser_ney.hpp"
#include "slotdiff/eval/text_metrics.hpp"

using namespace slotdiff;

namespace {
std::vector<std::vector<token_id>> zipf_corpus(std::mt19937_64& rng, std::size_t sentences, std::size_t vocab) {
  // Zipf-like word draws so that counts of 1, 2, 3 and 4+ all occur and contexts repeat.
  std::vector<double> w(vocab);
  for (std::size_t i = 0; i < vocab; ++i) w[i] = 1.0 / static_cast<double>(i + 1);
  std::discrete_distribution<int> word(w.begin(), w.end());
  std::uniform_int_distribution<int> len(0, 12);
  std::vector<std::vector<token_id>> out(sentences);
  for (auto& s : out) {
    const int n = len(rng);
    for (int j = 0; j < n; ++j) s.push_back(word(rng));
  }
  return out;
}
}  // namespace

TEST_CASE("Kneser-Ney distributions sum to one over the vocabulary and </s>", "[eval][judge]") {
  const auto seed = Catch::rngSeed();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (std::size_t order = 1; order <= kneser_ney_model::max_order; ++order) {
    for (std::size_t vocab : {std::size_t{1}, std::size_t{7}, std::size_t{60}}) {
      const auto corpus = zipf_corpus(rng, 300, vocab);
      const auto lm = kneser_ney_model::train(corpus, vocab, {.order = order});
      INFO("order " << order << ", vocabulary " << vocab);
      for (std::size_t k = 1; k <= order; ++k) {
        const auto d = lm.discounts(k);
        for (std::size_t j = 0; j < 3; ++j) CHECK((d[j] >= 0 && d[j] <= static_cast<double>(j + 1)));
      }
      std::uniform_int_distribution<int> any(0, static_cast<int>(vocab) - 1);
      std::uniform_int_distribution<std::size_t> clen(0, order + 1);
      for (int trial = 0; trial < 25; ++trial) {
        std::vector<token_id> ctx;
        if (trial % 2 == 0) {
          ctx = corpus[static_cast<std::size_t>(trial) % corpus.size()];  // a seen context, from the start
          ctx.insert(ctx.begin(), lm.begin_id());
          ctx.resize(std::min(ctx.size(), clen(rng) + 1));
        } else {
          for (std::size_t j = clen(rng); j > 0; --j) ctx.push_back(any(rng));
        }
        double sum = 0;
        for (token_id w = 0; w <= lm.end_id(); ++w) {
          const double p = lm.probability(ctx, w);
          CHECK(p > 0);
          sum += p;
        }
        CHECK(sum == Approx(1.0).epsilon(1e-9));
      }
    }
  }
}

TEST_CASE("Kneser-Ney by hand: a bigram model with fixed discounts", "[eval][judge]") {
  // a = 0, b = 1, c = 2, </s> = 3, <s> = 4. Sentences "a b", "a c", "b c".
  // Bigrams (raw): <s>a 2, ab 1, b</s> 1, ac 1, c</s> 2, <s>b 1, bc 1.
  // Unigrams (continuation): a 1, b 2, c 2, </s> 2; total 7; 4 types, so gamma_1 = 0.5 * 4 / 7.
  const std::vector<std::vector<token_id>> s = {{0, 1}, {0, 2}, {1, 2}};
  const auto lm = kneser_ney_model::train(s, 3, {.order = 2, .discounts = {{0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}}});
  const std::vector<token_id> none, a = {0}, b = {1}, bos = {4};
  CHECK(lm.probability(none, 2) == Approx((1.5 + 2.0 / 4) / 7).epsilon(1e-12));  // P1(c) = 2/7
  CHECK(lm.probability(none, 0) == Approx((0.5 + 2.0 / 4) / 7).epsilon(1e-12));  // P1(a) = 1/7
  CHECK(lm.probability(a, 2) == Approx(11.0 / 28).epsilon(1e-12));                // (0.5 + 1 * 2/7) / 2
  CHECK(lm.probability(b, 0) == Approx(1.0 / 14).epsilon(1e-12));                  // (0 + 1 * 1/7) / 2
  CHECK(lm.probability(bos, 0) == Approx((1.5 + 1.0 / 7) / 3).epsilon(1e-12));    // <s>: a 2, b 1; gamma 0.5*2
  // ln P("a c") = ln P(a | <s>) + ln P(c | a) + ln P(</s> | c)
  const double want = std::log((1.5 + 1.0 / 7) / 3) + std::log(11.0 / 28) + std::log((1.5 + 0.5 * 2.0 / 7) / 2);
  CHECK(lm.sentence_log_prob(std::vector<token_id>{0, 2}) == Approx(want).epsilon(1e-12));
}

TEST_CASE("Kneser-Ney: estimated discounts follow Chen and Goodman's formula", "[eval][judge]") {
  // Order 1 on "a", "a b": adjusted (raw, highest order) counts a 2, b 1, </s> 2: n1 = 1, n2 = 2,
  // Y = 1/5, D1 = 1 - 2 Y n2/n1 = 0.2, D2 = 2 - 3 Y n3/n2 = 2 (n3 = 0), D3+ falls back to D2.
  const auto lm = kneser_ney_model::train({{0}, {0, 1}}, 2, {.order = 1});
  const auto d = lm.discounts(1);
  CHECK(d[0] == Approx(0.2));
  CHECK(d[1] == Approx(2.0));
  CHECK(d[2] == Approx(2.0));
  // gamma = 0.2 * 1 + 2 * 2 = 4.2 spread over 3 ids: P(b) = (0.8 + 1.4) / 5, P(a) = P(</s>) = 1.4 / 5.
  CHECK(lm.probability({}, 1) == Approx(2.2 / 5));
  CHECK(lm.probability({}, 0) == Approx(1.4 / 5));
}

TEST_CASE("Kneser-Ney refuses bad input", "[eval][judge]") {
  CHECK_THROWS_AS(kneser_ney_model::train({{0}}, 1, {.order = 0}), eval_error);
  CHECK_THROWS_AS(kneser_ney_model::train({{0}}, 1, {.order = 7}), eval_error);
  CHECK_THROWS_AS(kneser_ney_model::train({{0, 5}}, 3, {}), eval_error);
  CHECK_THROWS_AS(kneser_ney_model::train({{-1}}, 3, {}), eval_error);
  CHECK_THROWS_AS(kneser_ney_model::train({{0}}, 0, {}), eval_error);
  CHECK_THROWS_AS(kneser_ney_model::train({{0}}, 3, {.order = 2, .discounts = {{0.5, 0.5, 0.5}}}), eval_error);
  CHECK_THROWS_AS(kneser_ney_model::train({{0}}, 3, {.order = 1, .discounts = {{1.5, 0.5, 0.5}}}), eval_error);
  const auto lm = kneser_ney_model::train({{0, 1}}, 2, {.order = 3});
  CHECK_THROWS_AS(lm.probability({}, 3), eval_error);  // <s> is never predicted
  CHECK_THROWS_AS(lm.probability(std::vector<token_id>{9}, 0), eval_error);
  CHECK_THROWS_AS(lm.sentence_log_prob(std::vector<token_id>{0, 3}), eval_error);
}

TEST_CASE("the judge: words, <unk>, and what a perplexity counts", "[eval][judge]") {
  const std::vector<std::string> train = {"The cat sat.", "The cat ran.", "A dog sat."};
  const auto judge = kneser_ney_judge::train(train, {.order = 3, .min_count = 2});
  // Seen twice or more: . (3), cat, sat, the (2 each, byte order); a, dog, ran become <unk>.
  CHECK(judge.words() == std::vector<std::string>{"<unk>", ".", "cat", "sat", "the"});
  CHECK(text_words("The CAT, don't!") == std::vector<std::string>{"the", "cat", ",", "don't", "!"});
  CHECK_THROWS_AS(text_words("bad \xff byte"), eval_error);
  const std::vector<std::vector<std::string>> two = {{"the", "cat", "sat", "."}, {"zebra"}};
  const auto r = judge.perplexity(two);
  CHECK(r.predictions == 4 + 1 + 1 + 1);  // every word and each </s>
  CHECK(r.unknown == 1);
  double lp = 0;
  for (const auto& s : two) lp += judge.model().sentence_log_prob(judge.encode(s));
  CHECK(r.log_prob == Approx(lp));
  CHECK(r.perplexity == Approx(std::exp(-lp / 7)));
  // Lowercasing and splitting happen before the judge: the same sentence typed differently scores the same.
  CHECK(judge.perplexity({text_words("THE cat sat.")}).log_prob == Approx(judge.perplexity({{"the", "cat", "sat", "."}}).log_prob));
  CHECK(judge.perplexity({}).predictions == 0);
  CHECK_THROWS_AS(kneser_ney_judge::train(train, {.min_count = 0}), eval_error);
}

TEST_CASE("keyword protocol: 2-4 keywords in sentence order, deterministic", "[eval][keywords]") {
  const keyword_protocol p;
  CHECK(p.keep(1) == 1);
  CHECK(p.keep(3) == 2);
  CHECK(p.keep(12) == 2);
  CHECK(p.keep(13) == 3);
  CHECK(p.keep(18) == 4);
  CHECK(p.keep(60) == 4);
  const std::vector<std::string> train = {"the cat sat on the mat .", "the dog sat on a log .", "a bird flew over the sea ."};
  const keyword_extractor kw(train);
  const std::string s = "The old cat sat on the red mat near the quiet sea.";
  const auto k = kw.keywords(s);  // 12 words and "." = 13 tokens: keep round(13 / 5) = 3
  REQUIRE(k.size() == 3);
  CHECK(k == kw.keywords(s));
  const auto words = text_words(s);
  CHECK(keywords_in_order(std::span<const std::string>(k), std::span<const std::string>(words)));
  for (const auto& w : k) CHECK((w != "the" && w != "." && w != "on" && w != "sat"));  // the most common go first
  CHECK(kw.keywords("").empty());
  CHECK(kw.keywords("Hello there.").size() == 2);
  CHECK_THROWS_AS(kw.keywords("bad \xff"), eval_error);
}
