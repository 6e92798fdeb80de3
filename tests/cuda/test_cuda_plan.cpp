// The host half of the CUDA reference denoiser, tested without a GPU: packing a ragged batch for the
// device (rows, slot-query rows, attention tiles, buckets) against side_layout, the
// input checks, and the kernels' shared arithmetic (online softmax, candidate order, GELU).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "random.hpp"
#include "slotdiff/cuda/detail/math.hpp"
#include "slotdiff/cuda/plan.hpp"
#include "slotdiff/slots/layout.hpp"

using namespace slotdiff;
using cuda::make_reference_plan;

namespace {

constexpr token_id root = 2;

struct batch_data {
  std::vector<token_id> tokens;
  std::vector<std::size_t> offsets{0};
  ragged_batch view() const { return {tokens, offsets}; }
};

batch_data random_batch(std::mt19937_64& g, std::size_t sequences, std::size_t longest, token_id vocab) {
  batch_data b;
  std::uniform_int_distribution<std::size_t> len(0, longest);
  std::uniform_int_distribution<token_id> id(4, vocab - 1);
  for (std::size_t i = 0; i < sequences; ++i) {
    const std::size_t n = g() % 4 == 0 ? g() % 2 : len(g);  // plenty of lengths 0 and 1
    for (std::size_t j = 0; j < n; ++j) b.tokens.push_back(id(g));
    b.offsets.push_back(b.tokens.size());
  }
  return b;
}

}  // namespace

TEST_CASE("cuda plan: buckets are at most 25% above the count, at least 32, and few", "[cuda]") {
  std::size_t previous = 0, distinct = 0;
  for (std::size_t n = 0; n <= (std::size_t{1} << 16); ++n) {
    const std::size_t b = cuda::bucket(n);
    REQUIRE(b >= n);
    REQUIRE(b >= 32);
    if (n > 32) REQUIRE(static_cast<double>(b) <= 1.25 * static_cast<double>(n));
    REQUIRE(b >= previous);  // monotone
    REQUIRE(cuda::bucket(b) == b);  // a bucket is its own bucket
    distinct += b != previous;
    previous = b;
  }
  CHECK(distinct <= 4 * 12 + 1);  // four per power of two from 32 to 65536
}

TEST_CASE("cuda plan: rows, slot queries and attention tiles against side_layout", "[cuda]") {
  auto g = test::seeded_rng();
  for (int trial = 0; trial < 300; ++trial) {
    const batch_data b = random_batch(g, 1 + g() % 40, trial % 3 == 0 ? 80 : 20, 512);
    const ragged_batch x = b.view();
    const cuda::reference_plan p = make_reference_plan(x, 512, 128, root);
    // Rows: every sequence's tokens back to back, ROOT for an empty one.
    std::vector<token_id> fed;
    std::vector<std::size_t> first_row;
    for (std::size_t i = 0; i < x.size(); ++i) {
      first_row.push_back(fed.size());
      if (x.length(i) == 0) fed.push_back(root);
      for (token_id t : x.sequence(i)) fed.push_back(t);
    }
    REQUIRE(p.rows == fed.size());
    REQUIRE(p.ids == fed);
    REQUIRE(p.sequences == x.size());
    // Slots: sequence by sequence in side_layout order; slot j of sequence i reads the left head
    // (query row 2r) or right head (2r + 1) of the token it sits beside.
    std::vector<std::size_t> offsets;
    slot_offsets<side_layout>(x, offsets);
    REQUIRE(p.slot_offsets == offsets);
    REQUIRE(p.slots == offsets.back());
    REQUIRE(p.slot_rows.size() == p.slots);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::size_t n = x.length(i);
      for (std::size_t s = 0; s < side_layout::slot_count(n); ++s) {
        const slot_place at = side_layout::locate(s, n);
        const std::size_t token = at.side == slot_side::root ? 0 : at.side == slot_side::left ? at.gap : at.gap - 1;
        const std::size_t want = 2 * (first_row[i] + token) + (at.side == slot_side::left ? 0 : 1);
        REQUIRE(static_cast<std::size_t>(p.slot_rows[offsets[i] + s]) == want);
      }
    }
    // Tiles: every row of every sequence is a query of exactly one tile, which spans its sequence.
    std::vector<int> covered(p.rows, 0);
    for (const cuda::attention_tile_desc& t : p.tiles) {
      const auto seq = std::upper_bound(first_row.begin(), first_row.end(), static_cast<std::size_t>(t.start)) - first_row.begin() - 1;
      REQUIRE(static_cast<std::size_t>(t.start) == first_row[static_cast<std::size_t>(seq)]);
      REQUIRE(static_cast<std::size_t>(t.length) == std::max<std::size_t>(x.length(static_cast<std::size_t>(seq)), 1));
      REQUIRE(t.q0 % static_cast<int>(cuda::attention_tile) == 0);
      REQUIRE(t.q0 < t.length);
      for (int q = t.q0; q < std::min(t.length, t.q0 + static_cast<int>(cuda::attention_tile)); ++q) ++covered[static_cast<std::size_t>(t.start + q)];
    }
    REQUIRE(std::all_of(covered.begin(), covered.end(), [](int c) { return c == 1; }));
    REQUIRE(p.row_bucket == cuda::bucket(p.rows));
    REQUIRE(p.slot_bucket == cuda::bucket(p.slots));
    REQUIRE(p.tile_bucket == cuda::bucket(p.tiles.size()));
    std::size_t longest = 1;
    for (std::size_t i = 0; i < x.size(); ++i) longest = std::max(longest, x.length(i));
    REQUIRE(p.longest == longest);
  }
}

TEST_CASE("cuda plan: an empty batch packs to nothing", "[cuda]") {
  const std::vector<token_id> none;
  const std::vector<std::size_t> offsets{0};
  const cuda::reference_plan p = make_reference_plan({none, offsets}, 64, 16, root);
  CHECK(p.rows == 0);
  CHECK(p.slots == 0);
  CHECK(p.tiles.empty());
}

TEST_CASE("cuda plan: bad input is refused before anything is packed, naming what is wrong", "[cuda]") {
  const std::vector<token_id> tokens{5, 6, 7, 8, 9};
  const std::vector<std::size_t> offsets{0, 2, 5};
  CHECK_THROWS_WITH(make_reference_plan({tokens, offsets}, 64, 2, root),
                    Catch::Contains("sequence 1 has 3 tokens") && Catch::Contains("maximum of 2"));
  CHECK_NOTHROW(make_reference_plan({tokens, offsets}, 64, 3, root));
  const std::vector<token_id> high{5, 6, 7, 64, 9};
  CHECK_THROWS_WITH(make_reference_plan({high, offsets}, 64, 8, root),
                    Catch::Contains("sequence 1 position 1 holds id 64") && Catch::Contains("vocabulary of 64"));
  const std::vector<token_id> negative{-1, 6, 7, 8, 9};
  CHECK_THROWS_WITH(make_reference_plan({negative, offsets}, 64, 8, root), Catch::Contains("sequence 0 position 0 holds id -1"));
  const std::vector<std::size_t> bad{0, 2, 4};  // does not end at the token count
  CHECK_THROWS_WITH(make_reference_plan({tokens, bad}, 64, 8, root), Catch::Contains("token count 5"));
}

TEST_CASE("cuda math: the online softmax over tiles equals the two-pass softmax", "[cuda]") {
  auto g = test::seeded_rng(1);
  std::normal_distribution<float> score(0.0f, 4.0f), value(0.0f, 1.0f);
  for (int trial = 0; trial < 500; ++trial) {
    const std::size_t n = 1 + g() % 300;
    std::vector<float> s(n), v(n);
    for (std::size_t i = 0; i < n; ++i) s[i] = score(g) + (trial % 5 == 0 ? 60.0f : 0.0f), v[i] = value(g);
    double m = *std::max_element(s.begin(), s.end()), z = 0, want = 0;
    for (std::size_t i = 0; i < n; ++i) z += std::exp(s[i] - m), want += std::exp(s[i] - m) * v[i];
    want /= z;
    cuda::detail::online_softmax st;
    float acc = 0.0f;
    const std::size_t tile = 1 + g() % 64;
    for (std::size_t t0 = 0; t0 < n; t0 += tile) {
      const std::size_t t1 = std::min(n, t0 + tile);
      const float tmax = *std::max_element(s.begin() + static_cast<std::ptrdiff_t>(t0), s.begin() + static_cast<std::ptrdiff_t>(t1));
      acc *= st.rescale(tmax);
      float sum = 0.0f;
      for (std::size_t i = t0; i < t1; ++i) {
        const float p = st.weight(s[i]);
        sum += p;
        acc += p * v[i];
      }
      st.add(sum);
    }
    REQUIRE(st.m == static_cast<float>(m));
    REQUIRE(std::abs(acc / st.l - want) <= 1e-5 * (1 + std::abs(want)));
  }
}

TEST_CASE("cuda math: candidate order is larger value, then smaller id; taken (NaN) never wins", "[cuda]") {
  auto g = test::seeded_rng(2);
  const float inf = INFINITY;
  for (int trial = 0; trial < 200; ++trial) {
    const int V = 1 + static_cast<int>(g() % 50);
    std::vector<float> row(static_cast<std::size_t>(V));
    for (float& x : row) x = g() % 4 == 0 ? -inf : static_cast<float>(g() % 6);  // many ties
    const int k = 1 + static_cast<int>(g() % static_cast<std::uint64_t>(V));
    // What the kernel does: k rounds of "best not yet taken".
    std::vector<float> work = row;
    std::vector<int> got;
    for (int r = 0; r < k; ++r) {
      float bv = NAN;
      int bi = 0x7fffffff;
      for (int i = 0; i < V; ++i)
        if (cuda::detail::better_candidate(work[static_cast<std::size_t>(i)], i, bv, bi)) bv = work[static_cast<std::size_t>(i)], bi = i;
      got.push_back(bi);
      work[static_cast<std::size_t>(bi)] = NAN;
    }
    // Reference: a stable sort by value, descending.
    std::vector<int> order(static_cast<std::size_t>(V));
    for (int i = 0; i < V; ++i) order[static_cast<std::size_t>(i)] = i;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return row[static_cast<std::size_t>(a)] > row[static_cast<std::size_t>(b)]; });
    order.resize(static_cast<std::size_t>(k));
    REQUIRE(got == order);
  }
}

TEST_CASE("cuda math: order_key orders like the floats it encodes", "[cuda]") {
  auto g = test::seeded_rng(3);
  std::vector<float> v{-INFINITY, INFINITY, 0.0f, -1e-30f, 1e-30f, -3.5f, 3.5f, std::numeric_limits<float>::denorm_min()};
  std::normal_distribution<float> d(0.0f, 100.0f);
  for (int i = 0; i < 2000; ++i) v.push_back(d(g));
  for (float a : v)
    for (float b : {v[0], v[1], v[2], v[3], v[5], v[static_cast<std::size_t>(g() % v.size())]}) {
      REQUIRE((a < b) == (cuda::detail::order_key(a) < cuda::detail::order_key(b)));
      REQUIRE((a == b) == (cuda::detail::order_key(a) == cuda::detail::order_key(b)));
    }
}

TEST_CASE("cuda math: GELU (tanh form) matches the formula in double", "[cuda]") {
  for (float x = -12.0f; x <= 12.0f; x += 0.01f) {
    const double xd = x;
    const double want = 0.5 * xd * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (xd + 0.044715 * xd * xd * xd)));
    REQUIRE(std::abs(cuda::detail::gelu_tanh(x) - want) <= 1e-6 * (1.0 + std::abs(want)));
  }
}
