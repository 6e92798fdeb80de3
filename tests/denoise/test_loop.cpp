// The generation loop: round trips through the oracle, the semantic budget's guarantees, bad
// backends, keyword constraints and reproducibility.
#include <slotdiff/backends/callback.hpp>
#include <slotdiff/backends/oracle.hpp>
#include <slotdiff/denoise/denoise.hpp>
#include <slotdiff/slotdiff.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "random.hpp"
#include "test_trajectory.hpp"

using namespace slotdiff;
using slotdiff::test::random_sentence;
using slotdiff::test::random_trajectory;
using slotdiff::test::test_trajectory;

namespace {

constexpr token_id none = 3;
constexpr std::size_t vocab = 60;

// A toy embedder: a fixed pseudo-random vector per token, mean pooled.
struct toy_embedder {
  std::size_t dim = 8;
  std::size_t dimension() const { return dim; }
  void embed(std::span<const token_id> tokens, std::span<float> out) const {
    std::fill(out.begin(), out.end(), 0.0f);
    for (token_id t : tokens)
      for (std::size_t d = 0; d < dim; ++d)
        out[d] += static_cast<float>(((static_cast<std::uint32_t>(t) * 2654435761u + 97u * d) % 1000) / 1000.0 - 0.5);
    if (!tokens.empty())
      for (auto& v : out) v /= static_cast<float>(tokens.size());
  }
};
struct euclid {
  float operator()(std::span<const float> a, std::span<const float> b) const {
    float s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
    return std::sqrt(s);
  }
};

// A backend with a random but fixed distribution per (sequence length, slot, left token): every
// slot offers real tokens and none.
auto random_model(std::uint64_t seed) {
  return [seed](const ragged_batch& b, std::span<float> out) {
    std::size_t row = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
      const auto seq = b.sequence(i);
      for (std::size_t s = 0; s < side_layout::slot_count(seq.size()); ++s, ++row) {
        const std::size_t g = side_layout::gap_of(s, seq.size());
        sampling_rng r(seed ^ (seq.size() * 1315423911u) ^ (s * 2654435761u) ^ (g > 0 ? static_cast<std::uint64_t>(seq[g - 1]) << 32 : 0));
        double z = 0;
        std::vector<double> w(vocab);
        for (std::size_t v = 0; v < vocab; ++v) z += (w[v] = v < 3 ? 0.0 : std::pow(r.uniform(), 4.0) + (v == none ? 0.5 : 0.0));
        for (std::size_t v = 0; v < vocab; ++v)
          out[row * vocab + v] = w[v] == 0 ? -std::numeric_limits<float>::infinity() : static_cast<float>(std::log(w[v] / z));
      }
    }
  };
}

}  // namespace

TEMPLATE_TEST_CASE("denoise(noise(x)) with the oracle rebuilds x exactly, in the same number of steps",
                   "[denoise][oracle][property]", side_layout, gap_layout) {
  auto rng = test::seeded_rng(11);
  for (int round = 0; round < 20; ++round) {
    oracle_backend<TestType> oracle(vocab, none);
    std::vector<test_trajectory<TestType>> trs;
    std::vector<std::vector<token_id>> starts;
    for (int i = 0; i < 16; ++i) {
      trs.push_back(random_trajectory<TestType>(random_sentence(rng), rng));
      oracle.add(trs.back());
      starts.push_back(trs.back().states.back());  // x_T (empty here: noised all the way)
    }
    // Half the batch starts from a middle state (keywords), not from x_T.
    for (std::size_t i = 0; i < starts.size(); i += 2) starts[i] = trs[i].states[trs[i].steps() / 2];
    const auto gens = denoise(oracle, std::span<const std::vector<token_id>>(starts), stop::probability_below{0.5f},
                              {.fill = {.min_confidence = 0.5f, .gaps = gap_policy::independent}});
    for (std::size_t i = 0; i < trs.size(); ++i) {
      INFO("round " << round << ", sequence " << i);
      REQUIRE(gens[i].tokens == trs[i].states[0]);
      const std::size_t want_steps = i % 2 == 0 ? trs[i].steps() / 2 : trs[i].steps();
      REQUIRE(gens[i].steps == want_steps);
      REQUIRE_FALSE(gens[i].hit_step_cap);
      REQUIRE(gens[i].trace.size() == want_steps);
    }
  }
}

TEST_CASE("every slot sequence drives the same generation", "[denoise]") {
  auto model = random_model(5);
  callback_backend<side_layout, decltype(model)> backend(model, vocab, none);
  const std::vector<token_id> keywords{10, 20, 30};
  const denoise_options opt{.sampling = {.temperature = 0.8f}, .max_steps = 6, .seed = 3};
  std::vector<vector_slots<side_layout>> a{vector_slots<side_layout>(keywords)};
  std::vector<gapped_slots<side_layout>> b{gapped_slots<side_layout>(keywords)};
  std::vector<gap_buffer_slots<side_layout>> c{gap_buffer_slots<side_layout>(keywords)};
  const auto ga = denoise(backend, std::span(a), stop::never{}, opt);
  const auto gb = denoise(backend, std::span(b), stop::never{}, opt);
  const auto gc = denoise(backend, std::span(c), stop::never{}, opt);
  REQUIRE(ga[0].tokens.size() > keywords.size());
  CHECK(ga[0].tokens == gb[0].tokens);
  CHECK(ga[0].births == gb[0].births);
  CHECK(ga[0].tokens == gc[0].tokens);
}

TEST_CASE("keywords stay, in order, born at step 0; the result is reproducible and batch-independent",
          "[denoise][property]") {
  auto rng = test::seeded_rng(12);
  auto model = random_model(77);
  callback_backend<side_layout, decltype(model)> backend(model, vocab, none);
  std::vector<std::vector<token_id>> starts;
  for (int i = 0; i < 12; ++i) starts.push_back(random_sentence(rng, 4));
  starts.push_back({});  // from nothing: the root slot
  const denoise_options opt{.sampling = {.temperature = 1.0f, .top_p = 0.9f}, .seed = 42};
  const auto stop = stop::any_of(stop::max_steps{5}, stop::max_length{40}, stop::no_change{});
  const auto all = denoise(backend, std::span<const std::vector<token_id>>(starts), stop, opt);
  for (std::size_t i = 0; i < starts.size(); ++i) {
    INFO("sequence " << i);
    std::vector<token_id> born0;
    for (std::size_t j = 0; j < all[i].tokens.size(); ++j) if (all[i].births[j] == 0) born0.push_back(all[i].tokens[j]);
    REQUIRE(born0 == starts[i]);
    REQUIRE(std::ranges::none_of(all[i].tokens, [](token_id t) { return t == none; }));
    REQUIRE(all[i].steps <= 5);
    // The same sequence alone, with its index kept (seeds derive from the index), gives the same text.
    std::vector<std::vector<token_id>> alone(i + 1);
    alone[i] = starts[i];
    const auto one = denoise(backend, std::span<const std::vector<token_id>>(alone), stop, opt);
    REQUIRE(one[i].tokens == all[i].tokens);
  }
  const auto again = denoise(backend, std::span<const std::vector<token_id>>(starts), stop, opt);
  for (std::size_t i = 0; i < starts.size(); ++i) REQUIRE(again[i].tokens == all[i].tokens);
  const auto other = denoise(backend, std::span<const std::vector<token_id>>(starts), stop,
                             denoise_options{.sampling = opt.sampling, .seed = 43});
  std::size_t differ = 0;
  for (std::size_t i = 0; i < starts.size(); ++i) differ += other[i].tokens != all[i].tokens;
  CHECK(differ > 0);
}

TEST_CASE("the semantic budget: no step above it but by the progress rule; more budget, never fewer insertions",
          "[denoise][budget][property]") {
  auto rng = test::seeded_rng(13);
  auto model = random_model(99);
  callback_backend<side_layout, decltype(model)> backend(model, vocab, none);
  toy_embedder emb;
  embedding_change<toy_embedder, euclid> measure(emb, euclid{});
  std::size_t progress_rule_used = 0, steps_checked = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const std::vector<std::vector<token_id>> start{random_sentence(rng, 6)};
    const float budget = std::uniform_real_distribution<float>(0.005f, 0.2f)(rng);
    const auto g = denoise(backend, std::span(start), stop::max_steps{4}, {.fill = {.budget = budget}, .seed = 5}, measure);
    for (const trace_step& s : g[0].trace) {
      ++steps_checked;
      if (s.change > budget) {
        REQUIRE(s.inserted.size() == 1);  // only the progress rule may exceed the budget
        ++progress_rule_used;
      }
    }
    // One step from the same state and the same draws under growing budgets.
    std::size_t last = 0;
    for (float b : {0.002f, 0.01f, 0.03f, 0.08f, 0.2f, 1.0f, 100.0f}) {
      const auto one = denoise(backend, std::span(start), stop::max_steps{1}, {.fill = {.budget = b}, .seed = 5}, measure);
      const std::size_t inserted = one[0].trace.empty() ? 0 : one[0].trace[0].inserted.size();
      INFO("trial " << trial << ", budget " << b);
      REQUIRE(inserted >= last);
      last = inserted;
    }
    // An unlimited budget inserts what no budget would refuse.
    const auto free = denoise(backend, std::span(start), stop::max_steps{1}, {.seed = 5}, measure);
    REQUIRE(free[0].trace[0].inserted.size() == last);
  }
  CHECK(steps_checked > 40);
  CHECK(progress_rule_used > 0);
}

TEST_CASE("fill rules: confidence floor and top m", "[denoise]") {
  auto model = random_model(3);
  callback_backend<side_layout, decltype(model)> backend(model, vocab, none);
  const std::vector<std::vector<token_id>> start{{10, 11, 12, 13, 14, 15}};
  const auto top2 = denoise(backend, std::span(start), stop::max_steps{3}, {.fill = {.max_insertions = 2}});
  for (const auto& s : top2[0].trace) CHECK(s.inserted.size() <= 2);
  const auto confident = denoise(backend, std::span(start), stop::max_steps{3}, {.fill = {.min_confidence = 0.1f}});
  for (const auto& s : confident[0].trace)
    for (float p : s.probability) CHECK(p >= 0.1f);
}

TEST_CASE("bad backends and bad options are refused with the sequence and slot named", "[denoise][errors]") {
  const std::vector<std::vector<token_id>> start{{10, 11}, {12}};
  auto make = [](auto poison) {
    return [poison](const ragged_batch& b, std::span<float> out) {
      std::fill(out.begin(), out.end(), -std::numeric_limits<float>::infinity());
      const std::size_t rows = out.size() / vocab;
      for (std::size_t r = 0; r < rows; ++r) out[r * vocab + none] = 0.0f;
      poison(b, out);
    };
  };
  auto nan_model = make([](const ragged_batch&, std::span<float> out) { out[4 * vocab + 7] = std::nanf(""); });
  callback_backend<side_layout, decltype(nan_model)> nan_backend(nan_model, vocab, none);
  REQUIRE_THROWS_WITH(denoise(nan_backend, std::span(start), stop::never{}), Catch::Contains("NaN") && Catch::Contains("sequence 1, slot 0"));

  auto dead_model = make([](const ragged_batch&, std::span<float> out) { out[2 * vocab + none] = -std::numeric_limits<float>::infinity(); });
  callback_backend<side_layout, decltype(dead_model)> dead_backend(dead_model, vocab, none);
  REQUIRE_THROWS_WITH(denoise(dead_backend, std::span(start), stop::never{}), Catch::Contains("sums to 0") && Catch::Contains("sequence 0, slot 2"));

  struct short_backend {  // answers one slot too few, and an id out of range
    using layout_type = gap_layout;
    bool bad_id = false;
    std::size_t vocabulary_size() const { return vocab; }
    token_id none_id() const { return none; }
    std::size_t top_k(const ragged_batch& b, std::size_t k, std::span<token_id> ids, std::span<float> logp) {
      std::size_t rows = 0;
      for (std::size_t i = 0; i < b.size(); ++i) rows += gap_layout::slot_count(b.length(i));
      std::fill(ids.begin(), ids.end(), none);
      std::fill(logp.begin(), logp.end(), -std::numeric_limits<float>::infinity());
      for (std::size_t r = 0; r < rows; ++r) logp[r * k] = 0.0f, ids[r * k + 1] = 5;
      if (bad_id) ids[k] = 999;
      return bad_id ? rows : rows - 1;
    }
  } sb;
  REQUIRE_THROWS_WITH(denoise(sb, std::span(start), stop::never{}), Catch::Contains("answered 4 slots") && Catch::Contains("5 slots"));
  sb.bad_id = true;
  REQUIRE_THROWS_WITH(denoise(sb, std::span(start), stop::never{}), Catch::Contains("token id 999") && Catch::Contains("sequence 0, slot 1"));

  // Options and start tokens.
  auto ok = make([](const ragged_batch&, std::span<float>) {});
  callback_backend<side_layout, decltype(ok)> fine(ok, vocab, none);
  toy_embedder emb;
  embedding_change<toy_embedder, euclid> measure(emb, euclid{});
  REQUIRE_THROWS_WITH(denoise(fine, std::span(start), stop::never{}, {.fill = {.budget = 0.0f}}, measure), Catch::Contains("budget must be > 0"));
  REQUIRE_THROWS_WITH(denoise(fine, std::span(start), stop::never{}, {.fill = {.budget = -1.0f}}, measure), Catch::Contains("budget must be > 0"));
  REQUIRE_THROWS_WITH(denoise(fine, std::span(start), stop::never{}, {.fill = {.budget = 0.5f}}), Catch::Contains("needs a semantic measure"));
  const std::vector<std::vector<token_id>> with_none{{10, none}};
  REQUIRE_THROWS_WITH(denoise(fine, std::span(with_none), stop::never{}), Catch::Contains("sequence 0 holds token 3 at position 1"));
  const std::vector<std::vector<token_id>> unknown{{10, 500}};
  REQUIRE_THROWS_AS(denoise(fine, std::span(unknown), stop::never{}), slotdiff::error);
  // A backend that only ever says none ends with the stop policy, not the step cap.
  const auto g = denoise(fine, std::span(start), stop::probability_below{0.01f});
  CHECK(g[0].steps == 0);
  CHECK(g[0].tokens == start[0]);
}

TEST_CASE("the trace prints as the notes' diagram and as JSON", "[denoise][trace]") {
  auto rng = test::seeded_rng(14);
  const auto tr = random_trajectory<side_layout>({40, 41, 42, 43, 44, 45}, rng);
  oracle_backend<side_layout> oracle(vocab, none);
  oracle.add(tr);
  const std::vector<std::vector<token_id>> start{tr.states.back()};
  const auto g = denoise(oracle, std::span(start), stop::probability_below{0.5f}, {.fill = {.gaps = gap_policy::independent}});
  auto word = [](token_id t) { return std::string(1, static_cast<char>('a' + (t - 40))); };
  const std::string diagram = underscores_diagram(g[0], word);
  CHECK(std::count(diagram.begin(), diagram.end(), '\n') == static_cast<std::ptrdiff_t>(tr.steps() + 1));
  CHECK(diagram.substr(diagram.rfind('\n', diagram.size() - 2) + 1) == "a b c d e f\n");
  const std::string json = to_json(g[0], word);
  CHECK(json.find("\"steps\":" + std::to_string(tr.steps())) != std::string::npos);
  CHECK(json.find("\"text\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]") != std::string::npos);
}

TEST_CASE("underscores_diagram of a noising trajectory, and with_tokens keeps its steps") {
  const std::vector<std::string> words = {"a", "café", "日本", "dog"};
  const trajectory<side_layout> tr({1, 2, 3, 4}, {1, 3, 2, 3}, 2);
  const std::string diagram = underscores_diagram(std::span<const std::string>(words), static_cast<std::size_t>(tr.steps()),
                                                  [&](std::size_t i, std::size_t t) { return static_cast<std::size_t>(tr.removed_at()[i]) > t; });
  // Underscores as wide as the word is shown: "café" 4 columns, "日本" 4 (two wide characters).
  CHECK(diagram == "a café 日本 dog\n_ café 日本 dog\n_ café ____ dog\n");
  const auto moved = with_tokens(tr, {10, 20, 30, 40});
  CHECK(std::vector<token_id>(moved.tokens().begin(), moved.tokens().end()) == std::vector<token_id>{10, 20, 30, 40});
  CHECK(std::vector<step_index>(moved.removed_at().begin(), moved.removed_at().end()) == std::vector<step_index>{1, 3, 2, 3});
  CHECK(moved.steps() == tr.steps());
  CHECK_THROWS_AS(with_tokens(tr, {10, 20}), error);
}
