// Every metric against tools/golden_metrics.py (numpy / POT in float64 on the same float32 inputs).
// Tolerances: serial paths |err| <= 1e-9 (1 + |x|) (double accumulation); fast vector kernels
// 2e-5 relative + 1e-5 absolute (float32 accumulation over up to 1536 terms); fast KL/JS: 1e-4 relative +
// 1e-5 absolute (float32 sum of polynomial logs, <= 2 ulp each); Sinkhorn: 1e-5 relative to POT.
#include <catch2/catch.hpp>

#include <cmath>

#include "golden.hpp"
#include "slotdiff/metrics/batch.hpp"
#include "slotdiff/metrics/mahalanobis.hpp"
#include "slotdiff/metrics/probability.hpp"
#include "slotdiff/metrics/transport.hpp"
#include "slotdiff/metrics/vector.hpp"

using namespace slotdiff;
using test::golden;

namespace {
bool near(double got, double want, double rel, double abs) { return std::abs(got - want) <= abs + rel * std::abs(want); }
const kernel_path paths[] = {kernel_path::serial, kernel_path::fast};
}  // namespace

TEST_CASE("vector metrics match numpy", "[metrics][golden]") {
  int cases = 0;
  for (const auto& c : golden()) {
    if (c.kind != "vector") continue;
    ++cases;
    const auto& a = c.arrays.at("a");
    const auto& b = c.arrays.at("b");
    for (auto path : paths) {
      const double rel = path == kernel_path::serial ? 2e-7 : 2e-5;  // serial: exact but rounded to float
      const double abs = path == kernel_path::serial ? 1e-7 : 1e-5;
      INFO("n = " << a.size() << " path " << (path == kernel_path::serial ? "serial" : "fast"));
      CHECK(near(dot(a, b, path), c.expect.at("dot"), rel, abs * std::sqrt(double(a.size()))));
      CHECK(near(squared_euclidean_distance{.path = path}(a, b), c.expect.at("l2sq"), rel, abs));
      CHECK(near(euclidean_distance{.path = path}(a, b), c.expect.at("l2"), rel, abs));
      CHECK(near(cosine_distance{.path = path}(a, b), c.expect.at("cos"), 0, path == kernel_path::serial ? 1e-7 : 1e-5));
      CHECK(near(inner_product_distance{.path = path}(a, b), c.expect.at("ip"), rel, abs * std::sqrt(double(a.size()))));
    }
    // bf16 / f16 inputs: the kernels widen exactly, so the reference is the serial float path on the
    // rounded values.
    std::vector<bf16> ab(a.size()), bb(b.size());
    std::vector<f16> ah(a.size()), bh(b.size());
    std::vector<float> ar(a.size()), br(b.size()), ar16(a.size()), br16(b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      ab[i] = bf16::from_float(a[i]), bb[i] = bf16::from_float(b[i]);
      ah[i] = f16::from_float(a[i]), bh[i] = f16::from_float(b[i]);
      ar[i] = ab[i].to_float(), br[i] = bb[i].to_float(), ar16[i] = ah[i].to_float(), br16[i] = bh[i].to_float();
    }
    const cosine_distance cs{.path = kernel_path::serial};
    const squared_euclidean_distance l2s{.path = kernel_path::serial};
    CHECK(near(cosine_distance{}(std::span<const bf16>(ab), std::span<const bf16>(bb)), cs(ar, br), 0, 1e-5));
    CHECK(near(cosine_distance{}(std::span<const f16>(ah), std::span<const f16>(bh)), cs(ar16, br16), 0, 1e-5));
    CHECK(near(squared_euclidean_distance{}(std::span<const bf16>(ab), std::span<const bf16>(bb)), l2s(ar, br), 2e-5, 1e-5));
    CHECK(near(squared_euclidean_distance{}(std::span<const f16>(ah), std::span<const f16>(bh)), l2s(ar16, br16), 2e-5, 1e-5));
    CHECK(near(dot_bf16_auto(ab.data(), bb.data(), ab.size()), dot_f32_serial(ar.data(), br.data(), ar.size()), 2e-5,
               1e-5 * std::sqrt(double(a.size()))));
    CHECK(near(dot_f16_auto(ah.data(), bh.data(), ah.size()), dot_f32_serial(ar16.data(), br16.data(), ar.size()), 2e-5,
               1e-5 * std::sqrt(double(a.size()))));
    // ... and bf16 stays close to the float32 answer (8 mantissa bits: ~0.4% per element).
    CHECK(near(squared_euclidean_distance{}(std::span<const bf16>(ab), std::span<const bf16>(bb)), c.expect.at("l2sq"), 2e-2, 1e-3));
  }
  CHECK(cases >= 10);
}

TEST_CASE("probability metrics match numpy", "[metrics][golden]") {
  int cases = 0;
  for (const auto& c : golden()) {
    if (c.kind != "probability") continue;
    ++cases;
    const auto& p = c.arrays.at("p");
    const auto& q = c.arrays.at("q");
    for (auto path : paths) {
      const bool s = path == kernel_path::serial;
      const double rel = s ? 2e-7 : 1e-4, abs = s ? 1e-7 : 1e-5;
      INFO("n = " << p.size() << " zeros " << c.tags.at(1) << " path " << (s ? "serial" : "fast"));
      CHECK(near(kl_divergence{.path = path}(p, q), c.expect.at("kl"), rel, abs));
      CHECK(near(jensen_shannon_divergence{.path = path}(p, q), c.expect.at("js"), rel, abs));
      CHECK(near(jensen_shannon_distance{.path = path}(p, q), c.expect.at("jsd"), rel, s ? 1e-6 : 1e-4));
      CHECK(near(hellinger_distance{.path = path}(p, q), c.expect.at("hellinger"), rel, abs));
      CHECK(near(total_variation_distance{.path = path}(p, q), c.expect.at("tv"), rel, abs));
    }
  }
  CHECK(cases >= 20);
}

TEST_CASE("Sinkhorn, WMD and relaxed WMD match POT", "[metrics][golden][transport]") {
  int cases = 0;
  for (const auto& c : golden()) {
    if (c.kind != "transport") continue;
    ++cases;
    const std::size_t n = std::size_t(c.tags[0]), m = std::size_t(c.tags[1]), d = std::size_t(c.tags[2]);
    const double eps = c.tags[3];
    const auto& x = c.arrays.at("x");
    const auto& y = c.arrays.at("y");
    const auto& a = c.arrays.at("a");
    const auto& b = c.arrays.at("b");
    const matrix_view<const float> X(x.data(), n, d), Y(y.data(), m, d);
    for (auto path : paths) {
      INFO(n << "x" << m << " d=" << d << " eps=" << eps << (path == kernel_path::serial ? " serial" : " fast"));
      const word_movers_distance<> wmd{.metric = {.path = kernel_path::serial},
                                       .sinkhorn = {.epsilon = eps, .tolerance = 1e-9, .max_iterations = 100000, .path = path}};
      CHECK(near(wmd(X, a, Y, b), c.expect.at("sinkhorn"), 1e-5, 1e-7));
    }
    CHECK(near(relaxed_wmd(X, a, Y, b), c.expect.at("rwmd"), 1e-5, 1e-6));
    if (c.expect.count("emd")) {
      CHECK(relaxed_wmd(X, a, Y, b) <= c.expect.at("emd") + 1e-6);
      CHECK(c.expect.at("emd") <= c.expect.at("sinkhorn") + 1e-9);
    }
  }
  CHECK(cases >= 4);
}

TEST_CASE("Mahalanobis distance and one SGD step match numpy", "[metrics][golden][mahalanobis]") {
  int cases = 0;
  for (const auto& c : golden()) {
    if (c.kind != "mahalanobis") continue;
    ++cases;
    const std::size_t d = std::size_t(c.tags[1]);
    const auto& x = c.arrays.at("x");
    const auto& p = c.arrays.at("p");
    const auto& q = c.arrays.at("q");
    auto m = mahalanobis::from_matrix(d, c.arrays.at("L"),
                  {.margin = c.tags[2], .learning_rate = c.tags[3], .decay = c.tags[4], .max_gradient_norm = c.tags[5]});
    CHECK(near(m(x, p), c.expect.at("dxp"), 1e-5, 1e-6));
    CHECK(near(m.update(x, p, q), c.expect.at("loss"), 1e-5, 1e-6));
    const auto& l1 = c.arrays64.at("L1");
    REQUIRE(l1.size() == m.matrix().size());
    for (std::size_t i = 0; i < l1.size(); ++i) CHECK(near(m.matrix()[i], l1[i], 1e-5, 1e-6));
  }
  CHECK(cases == 3);
}
