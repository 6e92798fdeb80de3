// Mean and SIF pooling: the O(n d) leave-one-out fast path equals embedding each shortened sentence
// (the serial twin), unknown tokens are skipped, the SIF component is removed.
#include <catch2/catch.hpp>

#include <memory>
#include <random>
#include <vector>

#include "random.hpp"
#include "slotdiff/embed/pooling.hpp"

using namespace slotdiff;

namespace {
std::shared_ptr<const token_vectors> random_table(std::mt19937_64& g, std::size_t V, std::size_t d) {
  std::normal_distribution<float> n;
  std::vector<float> data(V * d);
  for (auto& x : data) x = n(g);
  std::vector<std::uint8_t> known(V, 1);
  known[0] = known[1] = 0;  // pad, unk
  for (std::size_t k = 0; k < d; ++k) data[k] = data[d + k] = 0;
  return std::make_shared<const token_vectors>(d, std::move(data), std::move(known));
}
template <class E>
void check_loo(const E& e, std::mt19937_64& g, std::size_t V) {
  const std::size_t d = e.dimension();
  std::uniform_int_distribution<int> id(0, int(V) - 1);
  for (int rep = 0; rep < 200; ++rep) {
    const std::size_t n = 1 + rep % 17;
    std::vector<token_id> s(n);
    for (auto& t : s) t = id(g);
    std::vector<float> loo(n * d), want(d);
    e.embed_leave_one_out(s, loo);
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<token_id> shorter = s;
      shorter.erase(shorter.begin() + static_cast<std::ptrdiff_t>(i));
      e.embed(shorter, want);
      for (std::size_t k = 0; k < d; ++k) REQUIRE(loo[i * d + k] == Approx(want[k]).margin(1e-5));
    }
  }
}
}  // namespace

TEST_CASE("mean pooling and its leave-one-out fast path", "[embed][pooling]") {
  auto g = test::seeded_rng(50);
  const auto table = random_table(g, 40, 16);
  const mean_embedder e(table);
  std::vector<float> out(16);
  const std::vector<token_id> s{5, 1, 7};  // 1 is unknown: skipped
  e.embed(s, out);
  for (std::size_t k = 0; k < 16; ++k) CHECK(out[k] == Approx((table->row(5)[k] + table->row(7)[k]) / 2));
  e.embed(std::vector<token_id>{0, 1}, out);
  CHECK(out == std::vector<float>(16, 0.0f));
  check_loo(e, g, 40);
  CHECK_THROWS_AS(e.embed(std::vector<token_id>{40}, out), embed_error);
  std::vector<float> small(3);
  CHECK_THROWS_WITH(e.embed(s, small), Catch::Contains("out has 3 floats, expected 16"));
}

TEST_CASE("SIF pooling: weights, component removal, leave-one-out", "[embed][pooling]") {
  auto g = test::seeded_rng(51);
  const std::size_t V = 60, d = 12;
  const auto table = random_table(g, V, d);
  std::vector<std::vector<token_id>> corpus;
  std::uniform_int_distribution<int> id(2, int(V) - 1);
  std::geometric_distribution<int> zipf(0.15);
  for (int s = 0; s < 300; ++s) {
    std::vector<token_id> sent;
    for (int k = 0; k < 10; ++k) sent.push_back(2 + std::min(zipf(g), int(V) - 3));
    corpus.push_back(sent);
  }
  const sif_embedder e = fit_sif(table, corpus, {.a = 1e-2});
  // Frequent words weigh less.
  CHECK(e.weight(2) < e.weight(40));
  // u is a unit vector and every embedding is orthogonal to it.
  double nu = 0;
  for (float x : e.component()) nu += x * x;
  CHECK(nu == Approx(1.0).epsilon(1e-5));
  std::vector<float> out(d);
  e.embed(corpus[0], out);
  double proj = 0;
  for (std::size_t k = 0; k < d; ++k) proj += out[k] * e.component()[k];
  CHECK(proj == Approx(0).margin(1e-5));
  check_loo(e, g, V);
}
