// One checked path for backend answers (fetch_candidates), used by denoise, surprisal_scorer and
// predictive_change alike, and NaN as an error everywhere a number is compared (issue 15, item 8);
// backend errors name the caller's sequence, not its row among the still-active ones (item 10).
#include <slotdiff/backends/callback.hpp>
#include <slotdiff/denoise/decoding.hpp>
#include <slotdiff/denoise/denoise.hpp>
#include <slotdiff/denoise/predictive_change.hpp>
#include <slotdiff/denoise/preference.hpp>
#include <slotdiff/metrics/probability.hpp>
#include <slotdiff/scoring/mix.hpp>
#include <slotdiff/scoring/surprisal.hpp>
#include <slotdiff/stop/policies.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

using namespace slotdiff;

namespace {

constexpr std::size_t vocab = 12;
constexpr token_id none = 3;
constexpr float nan32 = std::numeric_limits<float>::quiet_NaN();

/// A top-k backend whose answer for one row can be spoiled: `spoil(batch, row_sequence, ids, logp)`.
struct faulty_top_k {
  using layout_type = side_layout;
  std::function<void(const ragged_batch&, std::size_t, std::span<token_id>, std::span<float>)> spoil;
  std::size_t vocabulary_size() const { return vocab; }
  token_id none_id() const { return none; }
  std::size_t top_k(const ragged_batch& b, std::size_t k, std::span<token_id> ids, std::span<float> logp) {
    std::size_t row = 0;
    for (std::size_t i = 0; i < b.size(); ++i)
      for (std::size_t s = 0; s < side_layout::slot_count(b.length(i)); ++s, ++row)
        for (std::size_t j = 0; j < k; ++j) {
          static constexpr token_id rest[] = {0, 1, 2, 4, 6, 7, 8, 9, 10, 11};
          ids[row * k + j] = j == 0 ? 5 : (j == 1 ? none : rest[j - 2]);
          logp[row * k + j] = std::log(j == 0 ? 0.5f : 0.5f / static_cast<float>(vocab));
          if (spoil) spoil(b, i, std::span<token_id>(ids.data() + row * k, k), std::span<float>(logp.data() + row * k, k));
        }
    return row;
  }
};

/// A full-distribution model, uniform over the vocabulary, with one entry made NaN when asked.
auto uniform_or_nan(bool* poison) {
  return [poison](const ragged_batch&, std::span<float> out) {
    for (auto& x : out) x = -std::log(static_cast<float>(vocab));
    if (*poison) out[out.size() / 2] = nan32;
  };
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const error& e) {
    return e.what();
  }
  return "(no error)";
}

struct nan_measure {
  std::size_t dimension() const { return 2; }
  void embed(std::span<const token_id> t, std::span<float> out) const { out[0] = static_cast<float>(t.size()), out[1] = 0; }
  float distance(std::span<const float>, std::span<const float>) const { return nan32; }
  std::span<const float> target() const { return {}; }
};

struct const_scorer {
  float value;
  void score(std::span<const token_id> tokens, std::span<float> out) const {
    for (std::size_t i = 0; i < tokens.size(); ++i) out[i] = i == 1 ? value : static_cast<float>(i);
  }
};

}  // namespace

TEST_CASE("an id outside the vocabulary is an error on every path that calls a backend", "[denoise][validation]") {
  faulty_top_k bad{[](const ragged_batch&, std::size_t, std::span<token_id> ids, std::span<float>) { ids[1] = 12; }};
  const std::vector<std::vector<token_id>> start{{7, 8}};
  const std::string d = message_of([&] { denoise(bad, std::span(start), stop::max_steps{2}); });
  CHECK(d.find("denoise: backend returned token id 12 outside [0, 12) at sequence 0, slot 0") != std::string::npos);
  // surprisal_scorer and predictive_change used to index with it (predictive_change.hpp wrote out of bounds)
  const surprisal_scorer<faulty_top_k> sur(bad, 4);
  std::vector<float> scores(2);
  const std::vector<token_id> x{7, 8};
  CHECK(message_of([&] { sur.score(x, scores); }).find("surprisal_scorer: backend returned token id 12 outside") == 0);
  const predictive_change<faulty_top_k, jensen_shannon_distance> pc(bad, jensen_shannon_distance{}, 4);
  std::vector<float> emb(vocab);
  CHECK(message_of([&] { pc.embed(x, emb); }).find("predictive_change: backend returned token id 12 outside") == 0);
  // negative ids, NaN log-probabilities, unsorted candidates: the same checks everywhere
  faulty_top_k neg{[](const ragged_batch&, std::size_t, std::span<token_id> ids, std::span<float>) { ids[0] = -1; }};
  const surprisal_scorer<faulty_top_k> sur_neg(neg, 4);
  CHECK_THROWS_WITH(sur_neg.score(x, scores), Catch::Contains("token id -1 outside"));
  faulty_top_k nanlp{[](const ragged_batch&, std::size_t, std::span<token_id>, std::span<float> lp) { lp[0] = nan32; }};
  const predictive_change<faulty_top_k, jensen_shannon_distance> pc_nan(nanlp, jensen_shannon_distance{}, 4);
  CHECK_THROWS_WITH(pc_nan.embed(x, emb), Catch::Contains("log-probability nan"));
}

TEST_CASE("a NaN in a full distribution is an error for denoise, surprisal and predictive change", "[denoise][validation]") {
  bool poison = true;
  auto model = callback_backend<side_layout, decltype(uniform_or_nan(&poison))>(uniform_or_nan(&poison), vocab, none);
  const std::vector<token_id> x{7, 8, 9};
  const std::vector<std::vector<token_id>> start{x};
  CHECK_THROWS_WITH(denoise(model, std::span(start), stop::max_steps{1}), Catch::Contains("denoise: backend returned NaN"));
  std::vector<float> scores(3), emb(vocab);
  const surprisal_scorer<decltype(model)> sur(model);
  CHECK_THROWS_WITH(sur.score(x, scores), Catch::Contains("surprisal_scorer: backend returned NaN"));
  const predictive_change<decltype(model), jensen_shannon_distance> pc(model, jensen_shannon_distance{});
  CHECK_THROWS_WITH(pc.embed(x, emb), Catch::Contains("predictive_change: backend returned NaN"));
  poison = false;  // and the same calls work on a good answer
  sur.score(x, scores);
  for (float s : scores) CHECK(s == Approx(std::log(static_cast<float>(vocab))));
  pc.embed(x, emb);
  for (float p : emb) CHECK(p == Approx(1.0f / vocab));
}

TEST_CASE("a semantic measure that returns NaN stops denoise with an error instead of passing the budget", "[denoise][validation]") {
  bool poison = false;
  auto model = callback_backend<side_layout, decltype(uniform_or_nan(&poison))>(uniform_or_nan(&poison), vocab, none);
  const std::vector<std::vector<token_id>> start{{7, 8}};
  // with a budget: every trial step is measured; without one, the step's change still is
  CHECK_THROWS_WITH(denoise(model, std::span(start), stop::max_steps{3}, {.fill = {.budget = 0.5f}}, nan_measure{}),
                    Catch::Contains("denoise: the semantic measure returned NaN for a trial step of sequence 0 at step 0"));
  CHECK_THROWS_WITH(denoise(model, std::span(start), stop::max_steps{3}, {}, nan_measure{}),
                    Catch::Contains("the semantic measure returned NaN for the step's change of sequence 0"));
}

TEST_CASE("NaN thresholds, weights and scores are errors, not silent comparisons", "[denoise][scoring][validation]") {
  const step_report r{.sequence = 0, .steps = 1, .length = 4, .inserted_last = 1, .best_insertion = 0.5f, .change_last = 0.1f};
  CHECK_THROWS_WITH(stop::probability_below{nan32}(r), Catch::Contains("stop::probability_below has a NaN tau"));
  CHECK_THROWS_WITH(stop::change_below{nan32}(r), Catch::Contains("stop::change_below has a NaN epsilon"));
  CHECK_THROWS_AS(stop::similarity_above{nan32}(r), error);
  CHECK_FALSE(stop::probability_below{0.2f}(r));
  // weighted_mix: rank normalisation sorted NaN with < (undefined behaviour) and made it a rank
  const std::vector<token_id> toks{4, 5, 6, 7};
  std::vector<float> out(4);
  for (const auto norm : {mix_normalize::rank, mix_normalize::none}) {
    const weighted_mix mix(norm, weighted{1.0f, const_scorer{nan32}}, weighted{1.0f, const_scorer{2.0f}});
    CHECK_THROWS_WITH(mix.score(toks, out), Catch::Contains("weighted_mix: part 0 scored position 1 of 4 NaN"));
    const weighted_mix ok(norm, weighted{1.0f, const_scorer{2.5f}}, weighted{0.5f, const_scorer{2.0f}});
    ok.score(toks, out);
    for (float v : out) CHECK(std::isfinite(v));
  }
  CHECK_THROWS_WITH((weighted_mix(mix_normalize::rank, weighted{nan32, const_scorer{1.0f}})),
                    Catch::Contains("weighted_mix: the weight of part 0 is nan"));
}

TEST_CASE("backend errors name the caller's sequence, not its row among the still-active ones", "[denoise][validation]") {
  // Sequence 0 stops at once; from then on the batch holds sequences 1 and 2 as rows 0 and 1. The
  // backend spoils sequence 2's answer once it is row 1: the message must say sequence 2.
  faulty_top_k late{[](const ragged_batch& b, std::size_t i, std::span<token_id> ids, std::span<float>) {
    if (b.size() == 2 && b.origin_of(i) == 2) ids[0] = 99;
  }};
  const std::vector<std::vector<token_id>> starts{{7}, {8}, {9}};
  auto stop0 = [](const step_report& r) { return r.sequence == 0 || r.steps >= 3; };
  const std::string m = message_of([&] { denoise(late, std::span(starts), stop0); });
  INFO(m);
  CHECK(m.find("token id 99 outside [0, 12) at sequence 2, slot 0") != std::string::npos);
}

TEST_CASE("denoise's errors are of their domain's kind, named WHERE: WHAT", "[denoise][validation][errors]") {
  // Options out of range: options_error, the message naming the struct and field.
  CHECK_THROWS_AS((fill_options{.min_confidence = 2.0f}.validate()), options_error);
  CHECK_THROWS_AS((fill_options{.budget = 0.0f}.validate()), options_error);
  CHECK_THROWS_WITH((fill_options{.max_insertions = 2, .min_insertions = 5}.validate()),
                    "fill_options: min_insertions 5 exceeds max_insertions 2");
  CHECK_THROWS_AS((decoding_preset{.max_length = 0}.validate()), options_error);
  CHECK_THROWS_AS(stop::probability_below{nan32}(step_report{}), options_error);
  faulty_top_k fine{};
  const std::vector<std::vector<token_id>> start{{7, 8}};
  CHECK_THROWS_AS(denoise(fine, std::span(start), stop::never{}, {.candidates = 0}), options_error);
  CHECK_THROWS_WITH(denoise(fine, std::span(start), stop::never{}, {.candidates = 257}),
                    "denoise_options: candidates must lie in 1..256, got 257");
  CHECK_THROWS_AS(denoise(fine, std::span(start), stop::never{}, {.fill = {.budget = 0.5f}}), options_error);
  // Bad arguments: input_error.
  const std::vector<std::vector<token_id>> with_none{{7, none}};
  CHECK_THROWS_AS(denoise(fine, std::span(with_none), stop::never{}), input_error);
  CHECK_THROWS_WITH(denoise(fine, std::span(with_none), stop::never{}),
                    Catch::StartsWith("denoise: sequence 0 holds token 3 at position 1"));
  bool poison = false;
  auto model = callback_backend<side_layout, decltype(uniform_or_nan(&poison))>(uniform_or_nan(&poison), vocab, none);
  CHECK_THROWS_AS(denoise(model, std::span(start), stop::max_steps{3}, {}, nan_measure{}), input_error);
  const std::vector<token_id> tokens{7, 8};
  const std::vector<std::size_t> bad_offsets{0, 3};
  CHECK_THROWS_WITH((ragged_batch{tokens, bad_offsets}.validate()),
                    "ragged_batch: offsets must start at 0 and end at the token count 2, got 0 .. 3");
  CHECK_THROWS_AS(step_reward{}(nan32, 1), input_error);
  // A backend's answer that cannot be used: backend_error.
  faulty_top_k bad{[](const ragged_batch&, std::size_t, std::span<token_id> ids, std::span<float>) { ids[1] = 12; }};
  CHECK_THROWS_AS(denoise(bad, std::span(start), stop::max_steps{2}), backend_error);
  poison = true;
  CHECK_THROWS_AS(denoise(model, std::span(start), stop::max_steps{1}), backend_error);
}
