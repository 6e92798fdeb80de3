// Tests of slotdiff/embed/sif_train.hpp: a SIF model trained on a two-topic synthetic corpus keeps
// the words it should, gives probabilities that are relative frequencies, a unit common component,
// and puts each topic's words nearer each other than the other topic's.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "random.hpp"
#include "slotdiff/embed/sif_train.hpp"

using namespace slotdiff;

TEST_CASE("train_sif_model: two topics, min_count, probabilities, component") {
  auto g = test::seeded_rng(31);
  // ids 0-3 special; 4-13 topic A, 14-23 topic B, 24-25 function words, 26 a word seen once.
  std::vector<std::string> words{"<pad>", "<unk>", "<root>", "<none>"};
  for (int i = 0; i < 10; ++i) words.push_back("a" + std::to_string(i));
  for (int i = 0; i < 10; ++i) words.push_back("b" + std::to_string(i));
  words.push_back("the");
  words.push_back("of");
  words.push_back("once");
  std::vector<std::vector<token_id>> corpus;
  std::uniform_int_distribution<token_id> topic_word(0, 9);
  for (int s = 0; s < 1500; ++s) {
    const token_id base = s % 2 ? 4 : 14;
    std::vector<token_id> sent;
    for (int k = 0; k < 8; ++k) {
      sent.push_back(k % 3 == 0 ? 24 + (k % 2) : base + topic_word(g));
    }
    corpus.push_back(sent);
  }
  corpus[7].push_back(26);
  sif_train_options o;
  o.vectors.dimension = 6;
  o.vectors.window = 3;
  o.min_count = 2;
  const sif_model m = train_sif_model(corpus, words, o);
  CHECK(m.size() == 22);  // every word but "once" and the specials
  CHECK(m.find("once") < 0);
  CHECK(m.find("<unk>") < 0);
  CHECK(m.words()[0] == "the");  // most frequent first
  std::size_t total = 0;
  for (const auto& s : corpus) total += s.size();
  std::size_t the = 0;
  for (const auto& s : corpus) the += static_cast<std::size_t>(std::count(s.begin(), s.end(), 24));
  CHECK(m.probabilities()[static_cast<std::size_t>(m.find("the"))] == Approx(double(the) / double(total)));
  double un = 0;
  for (float x : m.component()) un += double(x) * x;
  CHECK(un == Approx(1.0).epsilon(1e-4));
  auto cos = [&](const char* x, const char* y) {
    std::vector<float> a(m.dimension()), b(m.dimension());
    m.vector(static_cast<std::size_t>(m.find(x)), a);
    m.vector(static_cast<std::size_t>(m.find(y)), b);
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t k = 0; k < a.size(); ++k) ab += a[k] * b[k], aa += a[k] * a[k], bb += b[k] * b[k];
    return ab / std::sqrt(aa * bb);
  };
  for (int i = 1; i < 10; ++i) {
    const std::string ai = "a" + std::to_string(i), bi = "b" + std::to_string(i);
    INFO(ai << " vs a0 and b0");
    CHECK(cos("a0", ai.c_str()) > cos("a0", bi.c_str()));
    CHECK(cos("b0", bi.c_str()) > cos("b0", ai.c_str()));
  }
  o.max_words = 5;
  o.remove_component = false;
  const sif_model top = train_sif_model(corpus, words, o);
  CHECK(top.size() == 5);
  CHECK(top.component().empty());
}
