// The CUDA reference denoiser's kernels, run on CPU threads (emulation.hpp) against plain
// references: embedding + RMSNorm, RoPE + attention over ragged sequences (several query and key
// tiles), the slot-query gather, log-softmax + top-k, GELU. Padding past the true counts must be
// zeros or untouched. No GPU needed; what only hardware does is left to test_cuda_reference.
#include <catch2/catch.hpp>

#include "emulation.hpp"  // before the kernels: it stands in for the CUDA headers
#include "slotdiff/cuda/kernels.cuh"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "random.hpp"

using namespace slotdiff;
namespace k = slotdiff::cuda::kernels;
using bf16 = __nv_bfloat16;

namespace {

std::vector<float> normal(std::mt19937_64& g, std::size_t n, float sd = 1.0f) {
  std::normal_distribution<float> d(0.0f, sd);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}

}  // namespace

TEST_CASE("cuda kernels: embedding + RMSNorm, fp32 and bf16 out, padding rows zeroed", "[cuda][emulated]") {
  auto g = test::seeded_rng();
  const int V = 50, d = 64, rows = 5, bucket = 8;
  const std::vector<float> E = normal(g, V * d), gain = normal(g, d);
  std::vector<std::int32_t> ids(bucket, 0);
  for (int r = 0; r < rows; ++r) ids[r] = static_cast<std::int32_t>(g() % V);
  const k::batch_counts counts{rows, 0, 0, 0};
  std::vector<float> x(bucket * d, 7.0f), out(bucket * d, 7.0f);
  emu::launch({1}, {256}, k::rmsnorm_rows<true, float>, &counts, ids.data(), E.data(), x.data(), gain.data(), out.data(), bucket, d,
              1e-5f);
  std::vector<bf16> outb(bucket * d, bf16(7.0f));
  std::vector<float> x2(bucket * d, 7.0f);
  emu::launch({1}, {256}, k::rmsnorm_rows<true, bf16>, &counts, ids.data(), E.data(), x2.data(), gain.data(), outb.data(), bucket, d,
              1e-5f);
  for (int r = 0; r < bucket; ++r) {
    double ss = 0;
    for (int j = 0; j < d; ++j) ss += double(E[ids[r] * d + j]) * E[ids[r] * d + j];
    const double inv = 1.0 / std::sqrt(ss / d + 1e-5);
    for (int j = 0; j < d; ++j) {
      if (r >= rows) {
        REQUIRE(x[r * d + j] == 0.0f);
        REQUIRE(out[r * d + j] == 0.0f);
        REQUIRE(float(outb[r * d + j]) == 0.0f);
        continue;
      }
      REQUIRE(x[r * d + j] == E[ids[r] * d + j]);
      const double want = E[ids[r] * d + j] * inv * gain[j];
      REQUIRE(std::abs(out[r * d + j] - want) <= 1e-5 * (1 + std::abs(want)));
      REQUIRE(std::abs(float(outb[r * d + j]) - want) <= 8e-3 * (1 + std::abs(want)));  // bf16: 8 bits
    }
  }
}

namespace {

/// Runs an attention kernel (rope_attention or rope_attention_mma) over a ragged batch on CPU threads
/// and compares every output with a two-pass softmax in double; returns the largest difference.
template <class Kernel>
double check_attention(Kernel kernel, const std::vector<int>& lengths, double tolerance, std::uint64_t seed) {
  auto g = test::seeded_rng(seed);
  constexpr int hd = 64, H = 2, d = hd * H, half = hd / 2;
  std::vector<token_id> tokens;
  std::vector<std::size_t> offsets{0};
  int P = 1;
  for (int n : lengths) {
    for (int j = 0; j < n; ++j) tokens.push_back(5);
    offsets.push_back(tokens.size());
    P = std::max(P, n);
  }
  const cuda::reference_plan plan = cuda::make_reference_plan({tokens, offsets}, 64, 1024, 2);
  const int R = static_cast<int>(plan.rows);
  const std::vector<float> qkv = normal(g, static_cast<std::size_t>(R) * 3 * d);
  std::vector<float> cs(static_cast<std::size_t>(P) * half), sn(cs.size());
  for (int p = 0; p < P; ++p)
    for (int j = 0; j < half; ++j) {
      const double a = p * std::pow(10000.0, -2.0 * j / hd);
      cs[p * half + j] = static_cast<float>(std::cos(a));
      sn[p * half + j] = static_cast<float>(std::sin(a));
    }
  std::vector<cuda::attention_tile_desc> tiles = plan.tiles;
  const int real_tiles = static_cast<int>(tiles.size());
  tiles.resize(real_tiles + 3, {0, 1, 0});  // bucket padding: these blocks must do nothing
  const k::batch_counts counts{R, 0, real_tiles, 0};
  std::vector<bf16> att(static_cast<std::size_t>(R) * d + d, bf16(7.0f));  // + one row that nothing may touch
  const float scale = 1.0f / std::sqrt(float(hd));
  emu::launch({static_cast<unsigned>(tiles.size()), H}, {128}, kernel, &counts, tiles.data(), qkv.data(), cs.data(), sn.data(),
              att.data(), d, scale);
  for (int j = 0; j < d; ++j) REQUIRE(float(att[static_cast<std::size_t>(R) * d + j]) == 7.0f);

  double worst = 0;
  for (std::size_t s = 0; s + 1 < offsets.size(); ++s) {
    const int start = static_cast<int>(offsets[s]), n = static_cast<int>(offsets[s + 1] - offsets[s]);
    for (int h = 0; h < H; ++h) {
      auto roped = [&](int row, int part, std::vector<double>& out) {  // part 0: q, 1: k
        const float* x = qkv.data() + static_cast<std::size_t>(start + row) * 3 * d + part * d + h * hd;
        out.resize(hd);
        for (int j = 0; j < half; ++j) {
          const double c = cs[row * half + j], si = sn[row * half + j];
          out[j] = x[j] * c - x[j + half] * si;
          out[j + half] = x[j + half] * c + x[j] * si;
        }
      };
      std::vector<std::vector<double>> keys(n);
      for (int j = 0; j < n; ++j) roped(j, 1, keys[j]);
      std::vector<double> q;
      for (int i = 0; i < n; ++i) {
        roped(i, 0, q);
        std::vector<double> w(n);
        double m = -1e300;
        for (int j = 0; j < n; ++j) {
          double dot = 0;
          for (int t = 0; t < hd; ++t) dot += q[t] * keys[j][t];
          w[j] = dot * scale;
          m = std::max(m, w[j]);
        }
        double z = 0;
        for (double& x : w) z += (x = std::exp(x - m));
        for (int t = 0; t < hd; ++t) {
          double o = 0;
          for (int j = 0; j < n; ++j) o += w[j] * qkv[static_cast<std::size_t>(start + j) * 3 * d + 2 * d + h * hd + t];
          o /= z;
          const float got = att[static_cast<std::size_t>(start + i) * d + h * hd + t];
          worst = std::max(worst, std::abs(got - o));
          INFO("sequence " << s << " (length " << n << ") head " << h << " query " << i << " dim " << t);
          REQUIRE(std::abs(got - o) <= tolerance * (1 + std::abs(o)));
        }
      }
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("cuda kernels: RoPE + attention over ragged sequences equals the two-pass softmax in double", "[cuda][emulated][attention]") {
  // Lengths 1 (one key tile, one query), 17 (one query tile, part of a warp's rows), 66 and 75 (two
  // key tiles, two query tiles), 130 (three of each), 64 (exactly one).
  const std::vector<int> lengths{17, 1, 75, 66, 130, 64};
  SECTION("plain fp32 kernel") {
    const double worst = check_attention(k::rope_attention<64>, lengths, 8e-3, 1);  // bf16 output
    WARN("plain: max |attention - double reference| = " << worst);
  }
  SECTION("tensor-core kernel (mma fragments emulated): tf32 scores, bf16 p and v") {
    const double worst = check_attention(k::rope_attention_mma<64>, lengths, 1.6e-2, 1);
    WARN("mma: max |attention - double reference| = " << worst);
  }
}

TEST_CASE("cuda kernels: the small-batch product (RMSNorm in its prologue; store, GELU, split accumulate) equals a double reference on the same roundings",
          "[cuda][emulated][small]") {
  auto g = test::seeded_rng(7);
  // K = 200 (not a multiple of the 64-input chunk), N = 72 (not a multiple of the 32-column block),
  // a bucket of 40 rows of which 33 are real.
  const int rows = 40, real = 33, K = 200, N = 72;
  const float eps = 1e-5f;
  const k::batch_counts counts{real, 0, 0, 0};
  const std::vector<float> x = normal(g, static_cast<std::size_t>(rows) * K, 2.0f), gain = normal(g, K), w = normal(g, std::size_t{N} * K, 0.1f);
  std::vector<bf16> wb(w.size()), xb(x.size());
  for (std::size_t i = 0; i < w.size(); ++i) wb[i] = bf16(w[i]);
  for (std::size_t i = 0; i < x.size(); ++i) xb[i] = bf16(x[i]);
  // The reference rounds the operands as the kernel must (tf32 with an fp32 weight, bf16 input with
  // a bf16 weight), then sums in double.
  auto normed = [&](int r, int k) {
    double ss = 0;
    for (int j = 0; j < K; ++j) ss += double(x[r * K + j]) * x[r * K + j];
    return static_cast<float>(x[r * K + k] / std::sqrt(ss / K + eps) * gain[k]);
  };
  auto tf = [](float v) { return double(k::tf32_round(v)); };
  auto b16 = [](float v) { return double(float(bf16(v))); };
  // tf32_round itself: 10 mantissa bits, to nearest, ties away from zero.
  REQUIRE(k::tf32_round(1.0f + 0x1p-11f) == 1.0f + 0x1p-10f);    // the tie rounds away
  REQUIRE(k::tf32_round(1.0f + 0x1p-12f) == 1.0f);
  REQUIRE(k::tf32_round(-1.0f - 0x1p-11f) == -1.0f - 0x1p-10f);
  REQUIRE(k::tf32_round(3.0f) == 3.0f);
  const unsigned col_blocks = (N + 31) / 32;
  SECTION("norm, fp32 weights, stored fp32 (the q/k/v product)") {
    std::vector<float> out(static_cast<std::size_t>(rows) * N, 7.0f);
    emu::launch({col_blocks, 1}, {256}, k::small_product<true, k::small_epilogue::store, float, float, float>, &counts, x.data(), gain.data(),
                eps, w.data(), out.data(), rows, N, K, K);
    for (int r = 0; r < rows; ++r)
      for (int n = 0; n < N; ++n) {
        double want = 0;
        if (r < real)
          for (int k2 = 0; k2 < K; ++k2) want += tf(normed(r, k2)) * tf(w[n * K + k2]);
        REQUIRE(std::abs(out[r * N + n] - want) <= 1e-4 * (1 + std::abs(want)));
      }
  }
  SECTION("norm, bf16 weights, GELU, bf16 out (the MLP's first product)") {
    std::vector<bf16> out(static_cast<std::size_t>(rows) * N, bf16(7.0f));
    emu::launch({col_blocks, 1}, {256}, k::small_product<true, k::small_epilogue::gelu, float, bf16, bf16>, &counts, x.data(), gain.data(), eps,
                wb.data(), out.data(), rows, N, K, K);
    for (int r = 0; r < rows; ++r)
      for (int n = 0; n < N; ++n) {
        double want = 0;
        if (r < real)
          for (int k2 = 0; k2 < K; ++k2) want += b16(normed(r, k2)) * float(wb[n * K + k2]);
        want = cuda::detail::gelu_tanh(static_cast<float>(want));
        REQUIRE(std::abs(float(out[r * N + n]) - want) <= 8e-3 * (1 + std::abs(want)));
      }
  }
  SECTION("bf16 in and weights, added into fp32 rows over 4 splits of K (the residual products)") {
    std::vector<float> out = normal(g, static_cast<std::size_t>(rows) * N);
    const std::vector<float> before = out;
    emu::launch({col_blocks, 4}, {256}, k::small_product<false, k::small_epilogue::accumulate, bf16, bf16, float>, &counts, xb.data(),
                static_cast<const float*>(nullptr), eps, wb.data(), out.data(), rows, N, K, 64);
    for (int r = 0; r < rows; ++r)
      for (int n = 0; n < N; ++n) {
        double want = before[r * N + n];
        if (r < real)
          for (int k2 = 0; k2 < K; ++k2) want += double(float(xb[r * K + k2])) * float(wb[n * K + k2]);
        REQUIRE(std::abs(out[r * N + n] - want) <= 1e-4 * (1 + std::abs(want)));
      }
  }
}

TEST_CASE("cuda kernels: slot queries are gathered by the plan's rows, zeros past the count", "[cuda][emulated]") {
  auto g = test::seeded_rng(2);
  const int d = 64;
  const std::vector<token_id> tokens{5, 6, 7, 8, 9, 10};
  const std::vector<std::size_t> offsets{0, 2, 2, 6};  // lengths 2, 0 (ROOT), 4
  const cuda::reference_plan plan = cuda::make_reference_plan({tokens, offsets}, 64, 16, 2);
  const int S = static_cast<int>(plan.slots), bucket = S + 5;
  std::vector<bf16> queries(2 * plan.rows * d);
  for (auto& q : queries) q = bf16(std::normal_distribution<float>()(g));
  std::vector<bf16> u(static_cast<std::size_t>(bucket) * d, bf16(7.0f));
  const k::batch_counts counts{static_cast<int>(plan.rows), S, 0, 0};
  emu::launch({static_cast<unsigned>((bucket + 7) / 8)}, {256}, k::gather_slot_queries<>, &counts, plan.slot_rows.data(), queries.data(),
              u.data(), bucket, d);
  for (int s = 0; s < bucket; ++s)
    for (int j = 0; j < d; ++j) {
      const float want = s < S ? float(queries[static_cast<std::size_t>(plan.slot_rows[s]) * d + j]) : 0.0f;
      REQUIRE(float(u[static_cast<std::size_t>(s) * d + j]) == want);
    }
}

TEST_CASE("cuda kernels: log-softmax + top-k (radix select) per slot, ties to the smaller id, never-inserted ids masked",
          "[cuda][emulated]") {
  auto g = test::seeded_rng(3);
  const int V = 100, slots = 5, bucket = 8;  // fewer ids than threads: some threads hold none
  std::vector<unsigned char> never(V, 0);
  never[0] = never[1] = never[2] = 1;
  std::vector<float> logits(static_cast<std::size_t>(bucket) * V);
  for (float& x : logits) x = static_cast<float>(static_cast<int>(g() % 40) - 20) / 4.0f;  // many ties
  emu::dynamic_shared.assign(V, 0.0f);
  const k::batch_counts counts{0, slots, 0, 0};
  for (int kk : {1, 7, V}) {
    std::vector<float> work = logits;
    std::vector<std::int32_t> ids(static_cast<std::size_t>(bucket) * kk, -5);
    std::vector<float> logp(static_cast<std::size_t>(bucket) * kk, 7.0f);
    // The device's block of 256 for small k; k = V takes V rounds of block-wide barriers, which CPU
    // threads pay dearly for, so that case runs the same code with blocks of 64.
    if (kk == V)
      emu::launch({static_cast<unsigned>(bucket)}, {64}, k::slot_softmax_top_k<64>, &counts, 0, work.data(), V, never.data(), kk,
                  ids.data(), logp.data());
    else
      emu::launch({static_cast<unsigned>(bucket)}, {256}, k::slot_softmax_top_k<256>, &counts, 0, work.data(), V, never.data(), kk,
                  ids.data(), logp.data());
    for (int s = 0; s < bucket; ++s) {
      if (s >= slots) {  // past the count: nothing written
        for (int j = 0; j < kk; ++j) REQUIRE(ids[s * kk + j] == -5);
        continue;
      }
      const float* row = logits.data() + static_cast<std::size_t>(s) * V;
      double m = -1e300, z = 0;
      for (int v = 3; v < V; ++v) m = std::max(m, double(row[v]));
      for (int v = 3; v < V; ++v) z += std::exp(row[v] - m);
      const double lse = m + std::log(z);
      std::vector<int> order(V);
      for (int v = 0; v < V; ++v) order[v] = v;
      auto value = [&](int v) { return never[v] ? -INFINITY : row[v]; };
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return value(a) > value(b); });
      for (int j = 0; j < kk; ++j) {
        REQUIRE(ids[s * kk + j] == order[j]);
        const double want = value(order[j]) - lse;
        if (std::isinf(want)) REQUIRE(std::isinf(logp[s * kk + j]));
        else REQUIRE(std::abs(logp[s * kk + j] - want) <= 1e-5 * (1 + std::abs(want)));
      }
    }
  }
  // k = 0: the log-probabilities over the logits, in place.
  std::vector<float> work = logits;
  emu::launch({bucket}, {256}, k::slot_softmax_top_k<256>, &counts, 0, work.data(), V, never.data(), 0, nullptr, nullptr);
  for (int s = 0; s < slots; ++s) {
    double z = 0;
    for (int v = 0; v < V; ++v) {
      const float x = work[static_cast<std::size_t>(s) * V + v];
      if (v < 3) REQUIRE((std::isinf(x) && x < 0));
      else z += std::exp(double(x));
    }
    REQUIRE(std::abs(z - 1.0) < 1e-5);
  }
  for (int s = slots; s < bucket; ++s)
    for (int v = 0; v < V; ++v) REQUIRE(work[static_cast<std::size_t>(s) * V + v] == logits[static_cast<std::size_t>(s) * V + v]);
}

namespace {

/// The plain reference of a slot's top-k: ids by value (never-inserted ids at -inf), ties to the
/// smaller id (a stable sort), and the log-sum-exp in double over the ids that are not masked.
struct top_k_reference {
  std::vector<int> order;
  double lse;
  top_k_reference(const float* row, const std::vector<unsigned char>& never) {
    const int V = static_cast<int>(never.size());
    double m = -INFINITY, z = 0;
    for (int v = 0; v < V; ++v)
      if (!never[v]) m = std::max(m, double(row[v]));
    for (int v = 0; v < V; ++v)
      if (!never[v]) z += std::exp(double(row[v]) - m);
    lse = m + std::log(z);
    order.resize(V);
    for (int v = 0; v < V; ++v) order[v] = v;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return (never[a] ? -INFINITY : row[a]) > (never[b] ? -INFINITY : row[b]);
    });
  }
};

/// Runs slot_top_k_sweep<Threads> over `slots` rows of a bucket and checks every written pair
/// against top_k_reference; rows past the count stay untouched.
template <int Threads>
void check_sweep(const std::vector<float>& logits, int V, int slots, int bucket, const std::vector<unsigned char>& never, int kk) {
  INFO("V = " << V << ", k = " << kk << ", block " << Threads);
  const k::batch_counts counts{0, slots, 0, 0};
  std::vector<std::int32_t> ids(static_cast<std::size_t>(bucket) * kk, -5);
  std::vector<float> logp(ids.size(), 7.0f);
  emu::launch({static_cast<unsigned>(bucket)}, {Threads}, k::slot_top_k_sweep<Threads>, &counts, 0, logits.data(), V, never.data(), kk,
              ids.data(), logp.data());
  for (int s = 0; s < bucket; ++s) {
    if (s >= slots) {
      for (int j = 0; j < kk; ++j) REQUIRE(ids[s * kk + j] == -5);
      continue;
    }
    const float* row = logits.data() + static_cast<std::size_t>(s) * V;
    const top_k_reference ref(row, never);
    for (int j = 0; j < kk; ++j) {
      REQUIRE(ids[s * kk + j] == ref.order[j]);
      const int v = ref.order[j];
      const double want = (never[v] ? -INFINITY : double(row[v])) - ref.lse;
      if (std::isinf(want)) REQUIRE((std::isinf(logp[s * kk + j]) && logp[s * kk + j] < 0));
      else REQUIRE(std::abs(logp[s * kk + j] - want) <= 2e-5 * (1 + std::abs(want)));
    }
  }
}

}  // namespace

TEST_CASE("cuda kernels: the one-sweep top-k (k <= 32) equals a stable sort and a double log-sum-exp", "[cuda][emulated][sweep]") {
  auto g = test::seeded_rng(6);
  SECTION("many ties, masked ids, k from 1 to 32, V not a multiple of 32") {
    const int V = 1000, slots = 3, bucket = 5;
    std::vector<unsigned char> never(V, 0);
    never[0] = never[1] = never[2] = never[517] = 1;
    std::vector<float> logits(static_cast<std::size_t>(bucket) * V);
    for (float& x : logits) x = static_cast<float>(static_cast<int>(g() % 40) - 20) / 4.0f;  // each value ~25 times
    for (int kk : {1, 2, 7, 16, 31, 32}) check_sweep<256>(logits, V, slots, bucket, never, kk);
  }
  SECTION("continuous values, rows in rising, falling and random order, the top ids at the row's ends") {
    const int V = 4099, slots = 3;
    std::vector<unsigned char> never(V, 0);
    never[4] = 1;
    std::vector<float> logits = normal(g, static_cast<std::size_t>(slots) * V, 3.0f);
    for (int v = 0; v < V; ++v) logits[v] = static_cast<float>(v) * 0.01f;            // rising: every batch inserts
    for (int v = 0; v < V; ++v) logits[V + v] = static_cast<float>(V - v) * 0.01f;     // falling: the first batch holds all
    logits[2 * V + V - 1] = 40.0f;                                                   // the best is the last id
    logits[2 * V + 0] = 39.0f;
    for (int kk : {1, 16, 32}) check_sweep<256>(logits, V, slots, slots, never, kk);
    check_sweep<128>(logits, V, slots, slots, never, 16);
  }
  SECTION("tiny vocabularies: fewer ids than lanes, k = V, one id") {
    for (int V : {1, 5, 20, 32, 33}) {
      std::vector<unsigned char> never(V, 0);
      if (V > 3) never[V / 2] = 1;  // a masked id is still a candidate (at -inf) when k = V
      std::vector<float> logits(static_cast<std::size_t>(2) * V);
      for (float& x : logits) x = static_cast<float>(static_cast<int>(g() % 5));
      for (int kk : {1, std::min(V, 32)}) check_sweep<256>(logits, V, 2, 2, never, kk);
    }
  }
  SECTION("every value equal: the smallest ids, in id order") {
    const int V = 777;
    std::vector<unsigned char> never(V, 0);
    std::vector<float> logits(V, 1.5f);
    check_sweep<256>(logits, V, 1, 1, never, 32);
  }
  SECTION("large magnitudes (no overflow in the log-sum-exp), negative rows") {
    const int V = 513;
    std::vector<unsigned char> never(V, 0);
    std::vector<float> logits = normal(g, static_cast<std::size_t>(2) * V, 1.0f);
    for (int v = 0; v < V; ++v) logits[v] = logits[v] * 1e4f + 3e4f;
    for (int v = 0; v < V; ++v) logits[V + v] = logits[V + v] - 500.0f;
    check_sweep<256>(logits, V, 2, 2, never, 8);
  }
}

TEST_CASE("cuda kernels: top-k above the radix limit takes the argmax rounds, same order", "[cuda][emulated]") {
  auto g = test::seeded_rng(5);
  const int V = 300, kk = k::radix_top_k_max + 4, slots = 2;
  std::vector<unsigned char> never(V, 0);
  never[0] = 1;
  std::vector<float> logits(static_cast<std::size_t>(slots) * V);
  for (float& x : logits) x = static_cast<float>(static_cast<int>(g() % 40) - 20) / 4.0f;
  emu::dynamic_shared.assign(V, 0.0f);
  const k::batch_counts counts{0, slots, 0, 0};
  std::vector<std::int32_t> ids(static_cast<std::size_t>(slots) * kk);
  std::vector<float> logp(ids.size());
  emu::launch({static_cast<unsigned>(slots)}, {64}, k::slot_softmax_top_k<64>, &counts, 0, logits.data(), V, never.data(), kk, ids.data(),
              logp.data());
  for (int s = 0; s < slots; ++s) {
    const float* row = logits.data() + static_cast<std::size_t>(s) * V;
    std::vector<int> order(V);
    for (int v = 0; v < V; ++v) order[v] = v;
    auto value = [&](int v) { return never[v] ? -INFINITY : row[v]; };
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return value(a) > value(b); });
    for (int j = 0; j < kk; ++j) REQUIRE(ids[s * kk + j] == order[j]);
    for (int j = 1; j < kk; ++j) REQUIRE(logp[s * kk + j] <= logp[s * kk + j - 1]);
  }
}

TEST_CASE("cuda kernels: GELU converts to bf16 element by element", "[cuda][emulated]") {
  auto g = test::seeded_rng(4);
  const std::vector<float> in = normal(g, 1000, 3.0f);
  std::vector<bf16> out(in.size());
  emu::launch({2}, {256}, k::gelu_to_bf16<>, in.data(), out.data(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) REQUIRE(float(out[i]) == float(bf16(cuda::detail::gelu_tanh(in[i]))));
}
