// The stop rules (issue 15, item 9; docs/denoising.md "Stop rules"): the length limit is hard (a step
// is trimmed to fit, its most confident insertions kept), generating from nothing gives text, a step
// that draws nothing by chance does not end the run, generation::ended_by says which rule ended it;
// and the underscores diagram aligns multi-byte words (item 10).
#include <slotdiff/backends/callback.hpp>
#include <slotdiff/denoise/decoding.hpp>
#include <slotdiff/denoise/denoise.hpp>
#include <slotdiff/denoise/trace.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "random.hpp"

using namespace slotdiff;

namespace {

constexpr token_id none = 3;
constexpr std::size_t vocab = 300;

/// A fixed random distribution per (length, slot, left token); `none_weight` on none, real tokens
/// get u^sharp (a large sharp: a few likely words; a small one: flat).
auto random_model(std::uint64_t seed, double none_weight, double sharp) {
  return [=](const ragged_batch& b, std::span<float> out) {
    std::size_t row = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
      const auto seq = b.sequence(i);
      for (std::size_t s = 0; s < side_layout::slot_count(seq.size()); ++s, ++row) {
        const std::size_t g = side_layout::gap_of(s, seq.size());
        sampling_rng r(seed ^ (seq.size() * 1315423911u) ^ (s * 2654435761u) ^
                       (g > 0 ? static_cast<std::uint64_t>(seq[g - 1]) << 32 : 0));
        double z = 0;
        std::vector<double> w(vocab);
        for (std::size_t v = 0; v < vocab; ++v)
          z += (w[v] = v < 3 ? 0.0 : (v == none ? none_weight : std::pow(r.uniform(), sharp)));
        for (std::size_t v = 0; v < vocab; ++v)
          out[row * vocab + v] = w[v] == 0 ? -std::numeric_limits<float>::infinity() : static_cast<float>(std::log(w[v] / z));
      }
    }
  };
}
using model_t = decltype(random_model(0, 0, 0));

std::vector<token_id> random_start(std::mt19937_64& rng, std::size_t max_len) {
  std::vector<token_id> s(rng() % (max_len + 1));
  for (auto& t : s) t = static_cast<token_id>(4 + rng() % (vocab - 4));
  return s;
}

}  // namespace

TEST_CASE("max_length is hard: no text grows beyond it, and a trimmed step keeps its most confident insertions",
          "[denoise][stop][property]") {
  auto rng = test::seeded_rng(301);
  std::size_t trimmed = 0, capped = 0;
  for (int round = 0; round < 60; ++round) {
    callback_backend<side_layout, model_t> backend(random_model(rng(), 0.2, 8.0), vocab, none);
    std::vector<std::vector<token_id>> starts;
    for (int i = 0; i < 4; ++i) starts.push_back(random_start(rng, 5));
    const std::size_t L = rng() % 14;
    // independent gaps and a large min_insertions: one step can more than triple the length
    const denoise_options opt{.sampling = {.temperature = 1.0f},
                              .fill = {.gaps = gap_policy::independent, .min_insertions = 12},
                              .candidates = 8,
                              .seed = rng()};
    const bool through_options = round % 2 == 1;
    denoise_options o = opt;
    if (through_options) o.max_length = L;
    const auto gens = through_options
                          ? denoise(backend, std::span<const std::vector<token_id>>(starts), stop::max_steps{6}, o)
                          : denoise(backend, std::span<const std::vector<token_id>>(starts),
                                    stop::any_of(stop::max_steps{6}, stop::max_length{L}), o);
    for (std::size_t i = 0; i < starts.size(); ++i) {
      const auto& g = gens[i];
      INFO("round " << round << ", start length " << starts[i].size() << ", L " << L);
      REQUIRE(g.tokens.size() <= std::max(L, starts[i].size()));
      if (g.ended_by == stop_reason::length_cap) {
        ++capped;
        CHECK(g.tokens.size() == std::max(L, starts[i].size()));
      }
      if (g.steps == 0) continue;
      // The same run without the limit, up to the last step: that step's insertions include the
      // trimmed step's, which are its most confident ones.
      // (sequence i draws from sequence_seed(seed, i): the same batch, so the same draws)
      const auto unlimited = denoise(backend, std::span<const std::vector<token_id>>(starts), stop::max_steps{g.steps}, opt);
      const trace_step& last = g.trace.back();
      const trace_step& full = unlimited[i].trace[g.steps - 1];
      if (last.inserted.size() < full.inserted.size()) {
        ++trimmed;
        float weakest_kept = 1.0f;
        for (float p : last.probability) weakest_kept = std::min(weakest_kept, p);
        std::size_t stronger_dropped = 0;
        for (std::size_t j = 0; j < full.inserted.size(); ++j) {
          const bool kept = std::find_if(last.inserted.begin(), last.inserted.end(), [&](const insertion& x) {
                              return x.slot == full.inserted[j].slot && x.token == full.inserted[j].token;
                            }) != last.inserted.end();
          if (!kept && full.probability[j] > weakest_kept) ++stronger_dropped;
        }
        CHECK(stronger_dropped == 0);
      }
    }
  }
  CHECK(trimmed > 10);
  CHECK(capped > 20);
}

TEST_CASE("stop::length_cap: max_length is hard alone, inside any_of (smallest), inside all_of only when every part is",
          "[stop]") {
  CHECK(stop::length_cap(stop::max_length{7}) == 7);
  CHECK(stop::length_cap(stop::max_steps{7}) == stop::no_length_cap);
  CHECK(stop::length_cap(stop::any_of(stop::max_steps{3}, stop::max_length{9}, stop::max_length{5})) == 5);
  CHECK(stop::length_cap(stop::all_of(stop::max_length{9}, stop::probability_below{0.1f})) == stop::no_length_cap);
  CHECK(stop::length_cap(stop::all_of(stop::max_length{9}, stop::max_length{4})) == 9);
  CHECK(stop::length_cap(stop::any_of(stop::never{}, stop::all_of(stop::max_length{9}, stop::max_length{12}))) == 12);
  CHECK(stop::length_cap([](const step_report&) { return false; }) == stop::no_length_cap);
}

TEST_CASE("generating from nothing gives text, even when the root slot's best word is under every floor",
          "[denoise][stop]") {
  // A flat model: 296 real words of similar weight, so every probability is about 0.003, under the
  // preset's min_probability (0.01) and stop_probability (0.2).
  callback_backend<side_layout, model_t> backend(random_model(5, 0.5, 0.05), vocab, none);
  const decoding_preset preset;
  const std::vector<std::vector<token_id>> empty{{}, {}, {}};
  const auto gens = denoise(backend, std::span<const std::vector<token_id>>(empty), preset.stop(), preset.options(3));
  for (const auto& g : gens) {
    REQUIRE_FALSE(g.tokens.empty());
    REQUIRE(g.trace.size() >= 1);
    CHECK(g.trace[0].inserted.size() == 1);  // the root slot's first word
    CHECK(g.trace[0].best_insertion < 0.01f);
    // after it, the floor applies again and nothing reaches it: done, and the trace says why
    CHECK(g.ended_by == stop_reason::nothing_admissible);
    CHECK(g.tokens.size() == 1);
  }
  // probability_below alone does not stop an empty sequence
  const auto alone = denoise(backend, std::span<const std::vector<token_id>>(empty), stop::probability_below{0.5f});
  for (const auto& g : alone) CHECK(g.tokens.size() == 1);
  step_report r{.length = 0, .best_insertion = 0.001f};
  CHECK_FALSE(stop::probability_below{0.2f}(r));
  r.length = 1;
  CHECK(stop::probability_below{0.2f}(r));
}

TEST_CASE("a sampled step that draws nothing does not end the run; the trace and ended_by report it", "[denoise][stop]") {
  // none is very likely in every slot: with min_insertions = 0 most sampled steps insert nothing
  callback_backend<side_layout, model_t> backend(random_model(9, 400.0, 1.0), vocab, none);
  const std::vector<std::vector<token_id>> starts{{10, 20}, {30}, {}};
  const denoise_options opt{.sampling = {.temperature = 1.0f}, .fill = {.min_insertions = 0}, .seed = 4};
  const auto stop = stop::any_of(stop::max_steps{25}, stop::max_length{8});
  const auto gens = denoise(backend, std::span<const std::vector<token_id>>(starts), stop, opt);
  std::size_t empty_then_more = 0;
  for (const auto& g : gens) {
    CHECK((g.ended_by == stop_reason::policy || g.ended_by == stop_reason::length_cap));
    for (std::size_t s = 0; s + 1 < g.trace.size(); ++s)
      if (g.trace[s].inserted.empty()) {
        CHECK(g.trace[s].admissible > 0);
        empty_then_more += 1;
      }
  }
  CHECK(empty_then_more > 5);
  // The JSON reports both
  const std::string j = to_json(gens[0], [](token_id t) { return std::to_string(t); });
  CHECK(j.find("\"ended_by\":\"") != std::string::npos);
  CHECK(j.find("\"admissible\":") != std::string::npos);
  // the step cap is reported as such
  const auto capped = denoise(backend, std::span<const std::vector<token_id>>(starts), stop::never{}, {.max_steps = 2});
  for (const auto& g : capped) {
    CHECK(g.ended_by == stop_reason::step_cap);
    CHECK(g.hit_step_cap);
  }
}

TEST_CASE("the underscores diagram aligns multi-byte UTF-8 words by display width", "[denoise][trace]") {
  CHECK(display_width("fox") == 3);
  CHECK(display_width("caf\xC3\xA9") == 4);              // café, 5 bytes
  CHECK(display_width("\xE6\x97\xA5\xE6\x9C\xAC") == 4);  // 日本: two wide characters
  CHECK(display_width("nai\xCC\x88ve") == 5);             // naïve with a combining diaeresis
  CHECK(display_width("\xFF\xC3") == 2);                  // malformed bytes count one each
  CHECK(display_width("") == 0);
  const generation g{.tokens = {5, 6, 7, 8}, .births = {1, 0, 2, 1}, .steps = 2, .hit_step_cap = false, .trace = {}};
  const std::vector<std::string> words{"caf\xC3\xA9", "fox", "\xE6\x97\xA5\xE6\x9C\xAC", "z\xC3\xBCrich"};
  const std::string d = underscores_diagram(g, std::span<const std::string>(words));
  CHECK(d == "____ fox ____ ______\n"
             "caf\xC3\xA9 fox ____ z\xC3\xBCrich\n"
             "caf\xC3\xA9 fox \xE6\x97\xA5\xE6\x9C\xAC z\xC3\xBCrich\n");
}
