// Differential tests: every slot sequence against a naive reference built on std::vector::insert.
#include <slotdiff/slots.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "random.hpp"

using namespace slotdiff;

namespace {

struct entry {
  token_id token;
  step_index birth;
  friend bool operator==(const entry&, const entry&) = default;
};

// The reference: each insertion is one std::vector::insert, from the last slot to the first, so
// that earlier gaps keep their positions.
template <class Layout>
struct reference {
  std::vector<entry> cells;
  step_index step = 0;

  void apply(std::vector<insertion> batch) {
    std::sort(batch.begin(), batch.end(), [](auto& a, auto& b) { return a.slot > b.slot; });
    const std::size_t n = cells.size();
    ++step;
    for (const insertion& i : batch) {
      cells.insert(cells.begin() + static_cast<std::ptrdiff_t>(Layout::gap_of(i.slot, n)), entry{i.token, step});
    }
  }
};

template <class Seq, class Layout>
void require_same(const Seq& seq, const reference<Layout>& ref, std::mt19937_64& rng) {
  const std::size_t n = ref.cells.size();
  REQUIRE(seq.invariants_ok());
  REQUIRE(seq.size() == n);
  REQUIRE(seq.step() == ref.step);
  REQUIRE(seq.slot_count() == Layout::slot_count(n));
  std::vector<token_id> tokens(n);
  std::vector<step_index> births(n);
  seq.copy_tokens(tokens);
  seq.copy_births(births);
  std::vector<entry> got(n);
  for (std::size_t i = 0; i < n; ++i) got[i] = {tokens[i], births[i]};
  REQUIRE(got == ref.cells);
  REQUIRE(std::ranges::equal(seq, tokens));
  // Random access on a sample (it is O(capacity / 64) per call for gapped_slots).
  for (int probe = 0; probe < 8 && n != 0; ++probe) {
    const std::size_t i = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
    REQUIRE(seq.token(i) == ref.cells[i].token);
    REQUIRE(seq.birth(i) == ref.cells[i].birth);
  }
}

enum class pattern { uniform, clustered, one_end };

// A valid batch: k distinct slots drawn by the pattern, in random or sorted order.
std::vector<insertion> random_batch(std::size_t slots, pattern p, token_id vocab, std::mt19937_64& rng) {
  auto pick = [&](std::size_t lo, std::size_t hi) { return std::uniform_int_distribution<std::size_t>(lo, hi)(rng); };
  // Batch sizes spread over 1..slots, biased small: log-uniform.
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  const std::size_t k = std::clamp<std::size_t>(
      static_cast<std::size_t>(std::exp(u * std::log(static_cast<double>(slots) + 1.0))), 1, slots);
  std::size_t lo = 0, hi = slots;  // the pool of slots, [lo, hi)
  if (p == pattern::clustered) {
    const std::size_t width = std::min(slots, std::max<std::size_t>(k, k * 2));
    lo = pick(0, slots - width);
    hi = lo + width;
  } else if (p == pattern::one_end) {
    if (pick(0, 1) == 0) hi = std::min(slots, k + k / 2 + 1);
    else lo = slots - std::min(slots, k + k / 2 + 1);
  }
  std::vector<std::size_t> pool(hi - lo);
  std::iota(pool.begin(), pool.end(), lo);
  std::shuffle(pool.begin(), pool.end(), rng);
  pool.resize(std::min(k, pool.size()));
  if (pick(0, 1) == 0) std::sort(pool.begin(), pool.end());
  std::vector<insertion> batch;
  for (std::size_t s : pool) batch.push_back({s, static_cast<token_id>(pick(0, static_cast<std::size_t>(vocab) - 1))});
  return batch;
}

// A batch that must be refused, and a fragment its error message must contain.
std::pair<std::vector<insertion>, std::string> bad_batch(std::size_t n, std::size_t slots, token_id vocab,
                                                         std::mt19937_64& rng) {
  auto batch = random_batch(slots, pattern::uniform, vocab, rng);
  const std::size_t j = std::uniform_int_distribution<std::size_t>(0, batch.size() - 1)(rng);
  switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
    case 0:
      batch[j].slot = slots + std::uniform_int_distribution<std::size_t>(0, 5)(rng);
      return {batch, "slot " + std::to_string(batch[j].slot) + " is out of range: the sequence of length " +
                         std::to_string(n)};
    case 1:
      batch.push_back({batch[j].slot, 1});
      return {batch, "two insertions into slot " + std::to_string(batch[j].slot)};
    case 2:
      batch[j].token = -1 - static_cast<token_id>(j);
      return {batch, "invalid token id " + std::to_string(batch[j].token) + " for slot " + std::to_string(batch[j].slot)};
    default:
      batch[j].token = vocab;
      return {batch, "invalid token id " + std::to_string(vocab) + " for slot " + std::to_string(batch[j].slot) +
                         " (sequence length " + std::to_string(n) + ")"};
  }
}

}  // namespace

namespace {
// Knobs far from the defaults: slow growth and no minimum (gapped_slots does not take a growth of
// 9/8 with its default root density; it gets a faster growth and, below, a sparser array).
using odd_knobs = slot_options<growth_factor<9, 8>, growth_minimum<0>>;
using fast_growth = slot_options<growth_factor<4>>;
// One name each, without commas, for Catch's test-case macros.
using vector_odd = vector_slots<side_layout, void, odd_knobs>;
using devector_odd = devector_slots<gap_layout, void, odd_knobs>;
using gap_buffer_odd = gap_buffer_slots<side_layout, void, odd_knobs>;
using gapped_fast = gapped_slots<side_layout, void, fast_growth>;
using gapped_sparse = gapped_slots<gap_layout, void, slot_options<root_density<1, 2>>>;
}  // namespace

#define SLOTDIFF_ALL_SEQUENCES                                                                                   \
  vector_slots<side_layout>, vector_slots<gap_layout>, devector_slots<side_layout>, devector_slots<gap_layout>,   \
      gap_buffer_slots<side_layout>, gap_buffer_slots<gap_layout>, gapped_slots<side_layout>, gapped_slots<gap_layout>, \
      vector_odd, devector_odd, gap_buffer_odd, gapped_fast, gapped_sparse

TEMPLATE_TEST_CASE("random batches give exactly the reference's tokens and births", "[slots][property]",
                   SLOTDIFF_ALL_SEQUENCES) {
  using layout = typename TestType::layout_type;
  auto rng = test::seeded_rng(std::hash<std::string_view>{}(layout::name));
  constexpr token_id vocab = 1000;
  std::size_t steps = 0, refused = 0;
  for (int run = 0; run < 150; ++run) {
    const auto p = static_cast<pattern>(run % 3);
    std::vector<token_id> init(std::uniform_int_distribution<std::size_t>(0, run % 5 == 0 ? 0 : 40)(rng));
    for (auto& t : init) t = std::uniform_int_distribution<token_id>(0, vocab - 1)(rng);
    TestType seq(init, vocab);
    reference<layout> ref;
    for (token_id t : init) ref.cells.push_back({t, 0});
    INFO("run " << run << ", pattern " << int(p));
    require_same(seq, ref, rng);
    for (int s = 0; s < 30 && ref.cells.size() < 3000; ++s) {
      const std::size_t n = ref.cells.size(), slots = layout::slot_count(n);
      const int dice = std::uniform_int_distribution<int>(0, 19)(rng);
      if (dice == 0) {
        seq.reserve(n + std::uniform_int_distribution<std::size_t>(0, 3 * n + 4)(rng));  // changes no content
      } else if (dice <= 2) {
        auto [batch, fragment] = bad_batch(n, slots, vocab, rng);
        INFO("bad batch, expecting: " << fragment);
        REQUIRE_THROWS_WITH(seq.apply(batch), Catch::Contains(fragment));
        ++refused;
      } else {
        auto batch = random_batch(slots, p, vocab, rng);
        seq.apply(batch);
        ref.apply(batch);
        ++steps;
      }
      require_same(seq, ref, rng);
    }
  }
  CHECK(steps >= 2000);
  CHECK(refused >= 100);
}

TEMPLATE_TEST_CASE("the root slot, both ends, and the notes' example", "[slots]", SLOTDIFF_ALL_SEQUENCES) {
  using layout = typename TestType::layout_type;
  TestType seq;
  REQUIRE(seq.size() == 0);
  REQUIRE(seq.slot_count() == 1);
  std::vector<insertion> root{{0, 5}};
  seq.apply(root);
  REQUIRE(std::vector<token_id>(seq.begin(), seq.end()) == std::vector<token_id>{5});
  REQUIRE(seq.birth(0) == 1);
  // Both ends at once: first and last slot.
  std::vector<insertion> ends{{0, 4}, {layout::slot_count(1) - 1, 6}};
  seq.apply(ends);
  REQUIRE(std::vector<token_id>(seq.begin(), seq.end()) == std::vector<token_id>{4, 5, 6});
  REQUIRE(seq.step() == 2);
  std::vector<insertion> nothing;
  seq.apply(nothing);  // a step that inserts nothing is still a step
  REQUIRE(seq.step() == 3);
  REQUIRE(seq.size() == 3);
}

TEST_CASE("the notes' trajectory read backwards, and both slots of one gap", "[slots]") {
  enum : token_id { a, quick, brown, fox, jumps, over, the, lazy, dog };
  vector_slots<side_layout> seq{fox, jumps, dog};  // _ fox _ _ jumps _ _ dog _
  std::vector<insertion> step1{{0, brown}, {3, over}};
  seq.apply(step1);
  REQUIRE(std::vector<token_id>(seq.begin(), seq.end()) == std::vector<token_id>{brown, fox, jumps, over, dog});
  std::vector<insertion> step2{{8, lazy}, {0, quick}};  // any order
  seq.apply(step2);
  std::vector<insertion> step3{{0, a}, {9, the}};
  seq.apply(step3);
  REQUIRE(std::vector<token_id>(seq.begin(), seq.end()) ==
          std::vector<token_id>{a, quick, brown, fox, jumps, over, the, lazy, dog});
  REQUIRE(std::vector<step_index>(seq.births().begin(), seq.births().end()) ==
          std::vector<step_index>{3, 2, 1, 0, 0, 1, 3, 2, 0});
  // The two slots between two tokens: right of `over` comes before left of `dog`.
  vector_slots<side_layout> two{over, dog};
  std::vector<insertion> both{{2, lazy}, {1, the}};
  two.apply(both);
  REQUIRE(std::vector<token_id>(two.begin(), two.end()) == std::vector<token_id>{over, the, lazy, dog});
}

TEMPLATE_TEST_CASE("an invalid initial sequence is refused with the position named", "[slots][errors]",
                   SLOTDIFF_ALL_SEQUENCES) {
  const std::vector<token_id> init{3, 7, 12, 1};
  REQUIRE_THROWS_AS(TestType(init, 10), slot_error);
  REQUIRE_THROWS_WITH(TestType(init, 10), Catch::Contains("invalid token id 12 at position 2"));
}

TEMPLATE_TEST_CASE("long editor-like runs stay consistent", "[slots][property]", SLOTDIFF_ALL_SEQUENCES) {
  using layout = typename TestType::layout_type;
  auto rng = test::seeded_rng(7);
  std::vector<token_id> init(500);
  std::iota(init.begin(), init.end(), 0);
  TestType seq(init);
  reference<layout> ref;
  for (token_id t : init) ref.cells.push_back({t, 0});
  std::size_t cursor = 250;
  for (int s = 0; s < 3000; ++s) {
    const std::size_t slots = layout::slot_count(ref.cells.size());
    cursor = std::min(slots - 1, cursor + std::uniform_int_distribution<std::size_t>(0, 2)(rng));
    std::vector<insertion> batch{{cursor, static_cast<token_id>(s)}};
    seq.apply(batch);
    ref.apply(batch);
  }
  require_same(seq, ref, rng);
}

namespace {

// Forces one kernel of detail::insert_backward / detail::fused_expand for the scope.
struct force_path {
  explicit force_path(detail::expand_path p) : saved(detail::forced_expand_path()) { detail::forced_expand_path() = p; }
  ~force_path() { detail::forced_expand_path() = saved; }
  force_path(const force_path&) = delete;
  force_path& operator=(const force_path&) = delete;
  detail::expand_path saved;
};

// Slots for the expand test's shapes: 0 every slot, 1 about half, 2 the first m, 3 the last m,
// 4 the first m and the last m', 5 about one in 16, 6 one run of m in the middle.
std::vector<std::size_t> shaped_slots(std::size_t slots, int shape, std::mt19937_64& rng) {
  auto pick = [&](std::size_t lo, std::size_t hi) { return std::uniform_int_distribution<std::size_t>(lo, hi)(rng); };
  std::vector<std::size_t> chosen;
  const std::size_t m = pick(1, slots), m2 = pick(1, slots);
  const std::size_t start = pick(0, slots - m);
  for (std::size_t s = 0; s < slots; ++s) {
    bool take = false;
    switch (shape) {
      case 0: take = true; break;
      case 1: take = pick(0, 1) == 0; break;
      case 2: take = s < m; break;
      case 3: take = s >= slots - m; break;
      case 4: take = s < m / 2 || s >= slots - m2 / 2; break;
      case 5: take = pick(0, 15) == 0; break;
      default: take = s >= start && s < start + m; break;
    }
    if (take) chosen.push_back(s);
  }
  if (chosen.empty()) chosen.push_back(pick(0, slots - 1));
  return chosen;
}

}  // namespace

TEMPLATE_TEST_CASE("the vectorised expand and its serial twin agree with the reference", "[slots][expand]",
                   vector_slots<side_layout>, vector_slots<gap_layout>, devector_slots<side_layout>,
                   devector_slots<gap_layout>) {
  using layout = typename TestType::layout_type;
  auto rng = test::seeded_rng(std::hash<std::string_view>{}(layout::name) + 11);
  constexpr token_id vocab = 1 << 20;
  const std::size_t lengths[] = {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 257, 1000};
  for (auto path : {detail::expand_path::serial, detail::expand_path::avx2, detail::expand_path::automatic}) {
    force_path forced(path);
    for (std::size_t n0 : lengths) {
      for (int shape = 0; shape < 7; ++shape) {
        INFO("path " << int(path) << ", initial length " << n0 << ", shape " << shape);
        std::vector<token_id> init(n0);
        for (auto& t : init) t = std::uniform_int_distribution<token_id>(0, vocab - 1)(rng);
        TestType seq(init, vocab);
        reference<layout> ref;
        for (token_id t : init) ref.cells.push_back({t, 0});
        for (int s = 0; s < 4 && ref.cells.size() < 2500; ++s) {
          const std::size_t n = ref.cells.size(), slots = layout::slot_count(n);
          std::vector<insertion> batch;
          for (std::size_t slot : shaped_slots(slots, shape, rng))
            batch.push_back({slot, std::uniform_int_distribution<token_id>(0, vocab - 1)(rng)});
          if (s == 1) {
            // A bad record anywhere (the fused scan reads in fours, then the rest one by one) is
            // refused, leaves the sequence as it was, and leaves no trace in the next step.
            auto bad = batch;
            const std::size_t j = std::uniform_int_distribution<std::size_t>(0, bad.size() - 1)(rng);
            switch (std::uniform_int_distribution<int>(0, 2)(rng)) {
              case 0: bad[j].token = -1; break;
              case 1: bad[j].token = vocab; break;
              default: bad[j].slot = slots + j; break;
            }
            REQUIRE_THROWS_AS(seq.apply(bad), slot_error);
            require_same(seq, ref, rng);
          }
          if (s == 2) std::shuffle(batch.begin(), batch.end(), rng);  // the sorted-copy path
          seq.apply(batch);
          ref.apply(batch);
          require_same(seq, ref, rng);
        }
      }
    }
  }
}
