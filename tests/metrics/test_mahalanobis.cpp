// The online Mahalanobis metric: a pseudo-metric at every step, and learning from a triplet stream
// raises triplet accuracy on held-out data where the plain Euclidean metric is fooled by noise.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "random.hpp"
#include "slotdiff/metrics/mahalanobis.hpp"
#include "slotdiff/metrics/vector.hpp"

using namespace slotdiff;

namespace {
// Points of 4 classes: the class lives in dims 0-1 (centres 3 apart), dims 2..7 are loud noise.
struct stream {
  std::mt19937_64 g;
  std::normal_distribution<float> n{0, 1};
  std::vector<float> point(int cls) {
    std::vector<float> v(8);
    v[0] = 3.0f * (cls & 1) + 0.3f * n(g);
    v[1] = 3.0f * (cls >> 1) + 0.3f * n(g);
    for (int j = 2; j < 8; ++j) v[j] = 2.5f * n(g);
    return v;
  }
  struct triplet { std::vector<float> x, p, q; };
  triplet next() {
    std::uniform_int_distribution<int> c(0, 3);
    const int a = c(g);
    int b = c(g);
    while (b == a) b = c(g);
    return {point(a), point(a), point(b)};
  }
};
template <class M>
double accuracy(const M& m, stream& s, int n) {
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    const auto t = s.next();
    ok += m(t.x, t.p) < m(t.x, t.q);
  }
  return double(ok) / n;
}
}  // namespace

TEST_CASE("learning from triplets beats the Euclidean start", "[metrics][mahalanobis]") {
  stream train{test::seeded_rng(30)}, held{test::seeded_rng(31)};
  mahalanobis m(8, {.learning_rate = 0.02, .decay = 1e-3});
  const double before = accuracy(m, held, 2000);
  CHECK(before == Approx(accuracy(euclidean_distance{}, held, 2000)).margin(0.05));  // identity start
  double loss_early = 0, loss_late = 0;
  for (int i = 0; i < 4000; ++i) {
    const auto t = train.next();
    const double l = m.update(t.x, t.p, t.q);
    (i < 500 ? loss_early : loss_late) += i < 500 ? l / 500 : (i >= 3500 ? l / 500 : 0);
  }
  const double after = accuracy(m, held, 2000);
  INFO("triplet accuracy before " << before << " after " << after << "; mean hinge loss first 500 " << loss_early
                                  << " last 500 " << loss_late);
  CHECK(before < 0.85);
  CHECK(after > 0.97);
  CHECK(loss_late < 0.5 * loss_early);
  CHECK(m.steps() == 4000u);
}

TEST_CASE("the learned metric stays a pseudo-metric", "[metrics][mahalanobis]") {
  auto g = test::seeded_rng(32);
  stream s{test::seeded_rng(33)};
  mahalanobis m(8, {.rank = 3, .learning_rate = 0.05});
  std::normal_distribution<float> n;
  for (int step = 0; step < 300; ++step) {
    const auto t = s.next();
    m.update(t.x, t.p, t.q);
    std::vector<float> a(8), b(8), c(8);
    for (int j = 0; j < 8; ++j) a[j] = n(g), b[j] = n(g), c[j] = n(g);
    CHECK(m(a, a) == 0.0f);
    CHECK(m(a, b) == Approx(m(b, a)));
    CHECK(m(a, c) <= m(a, b) + m(b, c) + 1e-4f);
  }
  CHECK(m.rank() == 3);
  CHECK(m.matrix().size() == 24);
}

TEST_CASE("a satisfied triplet leaves L unchanged", "[metrics][mahalanobis]") {
  mahalanobis m(2);
  const std::vector<float> x{0, 0}, p{0.1f, 0}, q{5, 0};
  const std::vector<float> before(m.matrix().begin(), m.matrix().end());
  CHECK(m.update(x, p, q) == 0.0);
  CHECK(std::vector<float>(m.matrix().begin(), m.matrix().end()) == before);
}
