// The metrics against an independent implementation: nltk 3.8's corpus_bleu (Debian's
// /usr/bin/python3), a plain-Python interpolated modified Kneser-Ney, and nltk.lm's
// KneserNeyInterpolated where its model coincides with ours (bigrams, one fixed discount, no floor
// at the unigram level). See tools/peers/eval_nltk.py. Run as its own CTest test, which reports
// "SKIPPED: <reason>" (and CTest skips it) when that interpreter or nltk is missing.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "slotdiff/eval/bleu.hpp"
#include "slotdiff/eval/kneser_ney.hpp"

using namespace slotdiff;
using words = std::vector<std::string>;

namespace {

bool peer_missing() {
  if (std::string(SLOTDIFF_PEER_PYTHON).empty()) {
    WARN("SKIPPED: " SLOTDIFF_PEER_REASON);
    return true;
  }
  return false;
}

void write_lines(const std::filesystem::path& p, const std::vector<words>& lines) {
  std::ofstream out(p);
  for (const auto& l : lines) {
    for (std::size_t i = 0; i < l.size(); ++i) out << (i ? " " : "") << l[i];
    out << '\n';
  }
}

/// Runs the peer script, returns its "name value" lines.
std::map<std::string, double> peer(const std::string& args) {
  const std::string cmd = std::string(SLOTDIFF_PEER_PYTHON) + " " SLOTDIFF_PEER_SCRIPT " " + args;
  INFO(cmd);
  FILE* f = popen(cmd.c_str(), "r");
  REQUIRE(f != nullptr);
  std::string text;
  char buf[4096];
  while (const std::size_t n = std::fread(buf, 1, sizeof buf, f)) text.append(buf, n);
  REQUIRE(pclose(f) == 0);
  std::map<std::string, double> out;
  std::istringstream in(text);
  for (std::string name, value; in >> name >> value;) out[name] = std::stod(value);
  return out;
}

std::vector<words> random_sentences(std::mt19937_64& rng, std::size_t count, std::size_t vocab, std::size_t max_len) {
  std::vector<double> w(vocab);
  for (std::size_t i = 0; i < vocab; ++i) w[i] = 1.0 / static_cast<double>(i + 1);
  std::discrete_distribution<std::size_t> word(w.begin(), w.end());
  std::uniform_int_distribution<std::size_t> len(0, max_len);
  std::vector<words> out(count);
  for (auto& s : out)
    for (std::size_t j = len(rng); j > 0; --j) s.push_back("w" + std::to_string(word(rng)));
  return out;
}

}  // namespace

TEST_CASE("corpus BLEU agrees with nltk's corpus_bleu", "[peer]") {
  if (peer_missing()) return;
  const std::filesystem::path dir = SLOTDIFF_PEER_WORK;
  std::filesystem::create_directories(dir);
  std::mt19937_64 rng(Catch::rngSeed());
  INFO("seed " << Catch::rngSeed());
  // Small vocabularies give many matches; large ones give orders with no match, where smoothing
  // matters. Every hypothesis has at least 4 tokens: below that nltk counts one n-gram that is not
  // there (see corpus_bleu's comment). References may be empty.
  const std::size_t vocabs[] = {4, 12, 200, 6};
  const std::size_t lens[] = {15, 25, 6, 3};
  for (int c = 0; c < 4; ++c) {
    auto hyps = random_sentences(rng, 40, vocabs[c], lens[c]);
    const auto refs = random_sentences(rng, 40, vocabs[c], lens[c] + 4);
    for (auto& h : hyps)
      while (h.size() < 4) h.push_back("w" + std::to_string(h.size()));
    write_lines(dir / "hyps.txt", hyps);
    write_lines(dir / "refs.txt", refs);
    const auto want = peer("bleu " + (dir / "hyps.txt").string() + " " + (dir / "refs.txt").string());
    REQUIRE(want.size() == 4);
    INFO("corpus " << c);
    auto near = [](double got, double w) { return std::abs(got - w) <= 1e-12 + 1e-12 * std::abs(w); };
    using enum bleu_smoothing;
    CHECK(near(corpus_bleu(hyps, refs, {.max_order = 2, .smoothing = none}).score, want.at("bleu2")));
    CHECK(near(corpus_bleu(hyps, refs, {.max_order = 4, .smoothing = none}).score, want.at("bleu4")));
    CHECK(near(corpus_bleu(hyps, refs, {.max_order = 2, .smoothing = epsilon}).score, want.at("bleu2_method1")));
    CHECK(near(corpus_bleu(hyps, refs, {.max_order = 4, .smoothing = epsilon}).score, want.at("bleu4_method1")));
  }
}

TEST_CASE("Kneser-Ney agrees with a plain-Python model and with nltk.lm for bigrams", "[peer]") {
  if (peer_missing()) return;
  const std::filesystem::path dir = SLOTDIFF_PEER_WORK;
  std::filesystem::create_directories(dir);
  std::mt19937_64 rng(Catch::rngSeed() + 1);
  INFO("seed " << Catch::rngSeed());
  const auto train = random_sentences(rng, 400, 30, 14);
  // Test words must occur in training for nltk (it scores unseen words 0).
  std::map<std::string, token_id> ids;
  for (const auto& s : train)
    for (const auto& w : s) ids.emplace(w, 0);
  token_id next = 0;
  for (auto& [w, id] : ids) id = next++;
  std::vector<words> test;
  for (auto& s : random_sentences(rng, 60, 30, 14)) {
    bool seen = true;
    for (const auto& w : s) seen = seen && ids.count(w);
    if (seen) test.push_back(s);
  }
  auto encode = [&](const std::vector<words>& ss) {
    std::vector<std::vector<token_id>> out;
    for (const auto& s : ss) {
      out.emplace_back();
      for (const auto& w : s) out.back().push_back(ids.at(w));
    }
    return out;
  };
  const auto train_ids = encode(train), test_ids = encode(test);
  write_lines(dir / "train.txt", train);
  write_lines(dir / "test.txt", test);
  const double d = 0.6;
  for (std::size_t order : {1, 2, 3, 5}) {
    INFO("order " << order);
    const auto want = peer("kn " + (dir / "train.txt").string() + " " + (dir / "test.txt").string() + " " +
                           std::to_string(order) + " " + std::to_string(ids.size()) + " 0.6");
    const auto lm = kneser_ney_model::train(train_ids, ids.size(), {.order = order});
    double lp = 0;
    std::size_t predictions = 0;
    for (const auto& s : test_ids) lp += lm.sentence_log_prob(s), predictions += s.size() + 1;
    CHECK(static_cast<double>(predictions) == want.at("kn_predictions"));
    CHECK(lp == Approx(want.at("kn_logprob")).epsilon(1e-10));
    if (order == 2) {
      const auto fixed = kneser_ney_model::train(train_ids, ids.size(), {.order = 2, .discounts = {{0, 0, 0}, {d, d, d}}});
      double flp = 0;
      for (const auto& s : test_ids) flp += fixed.sentence_log_prob(s);
      CHECK(std::exp(-flp / static_cast<double>(predictions)) == Approx(want.at("nltk_bigram_perplexity")).epsilon(1e-9));
    }
  }
}
