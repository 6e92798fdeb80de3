// The fill stage's rules against plain references: one insertion per gap (and the independent
// layout-limit behaviour kept as an option), the sampling floor min_probability, the progress rule,
// and the decoding preset's stop rule.
#include <slotdiff/backends/callback.hpp>
#include <slotdiff/denoise/decoding.hpp>
#include <slotdiff/denoise/denoise.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "random.hpp"

using namespace slotdiff;

namespace {

constexpr token_id none = 3;
constexpr std::size_t vocab = 40;

// A random but fixed distribution per (seed, length, slot, both neighbours). `none_weight` moves
// mass to none; `sharp` raises the weights to a power (higher: peakier).
auto random_model(std::uint64_t seed, double none_weight = 0.3, double sharp = 4.0) {
  return [=](const ragged_batch& b, std::span<float> out) {
    std::size_t row = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
      const auto seq = b.sequence(i);
      for (std::size_t s = 0; s < side_layout::slot_count(seq.size()); ++s, ++row) {
        const std::size_t g = side_layout::gap_of(s, seq.size());
        const std::uint64_t l = g > 0 ? static_cast<std::uint64_t>(seq[g - 1]) : 0;
        const std::uint64_t r = g < seq.size() ? static_cast<std::uint64_t>(seq[g]) : 0;
        sampling_rng rng(seed ^ (seq.size() * 1315423911u) ^ (s * 2654435761u) ^ (l << 32) ^ (r << 48));
        std::vector<double> w(vocab);
        double z = 0;
        for (std::size_t v = 0; v < vocab; ++v) z += (w[v] = v < 3 ? 0.0 : std::pow(rng.uniform(), sharp) + (v == none ? none_weight : 0.0));
        for (std::size_t v = 0; v < vocab; ++v)
          out[row * vocab + v] = w[v] == 0 ? -std::numeric_limits<float>::infinity() : static_cast<float>(std::log(w[v] / z));
      }
    }
  };
}

std::vector<token_id> random_start(std::mt19937_64& rng, std::size_t max_len) {
  std::vector<token_id> s(rng() % (max_len + 1));
  for (auto& t : s) t = static_cast<token_id>(4 + rng() % (vocab - 4));
  return s;
}

// The length of the sequence before each step, from the trace.
std::vector<std::size_t> lengths_before(const generation& g, std::size_t start) {
  std::vector<std::size_t> n{start};
  for (const trace_step& s : g.trace) n.push_back(n.back() + s.inserted.size());
  return n;
}

// The full distribution of every slot of one sequence.
template <class Backend>
std::vector<std::vector<float>> distributions(Backend& backend, const std::vector<token_id>& seq) {
  ragged_buffer buf;
  std::copy(seq.begin(), seq.end(), buf.append(seq.size()).begin());
  const std::size_t slots = side_layout::slot_count(seq.size());
  std::vector<float> flat(slots * vocab);
  backend.log_probs(buf.view(), flat);
  std::vector<std::vector<float>> out(slots);
  for (std::size_t s = 0; s < slots; ++s) out[s].assign(flat.begin() + static_cast<std::ptrdiff_t>(s * vocab), flat.begin() + static_cast<std::ptrdiff_t>((s + 1) * vocab));
  return out;
}

// The greedy choice of a slot among all tokens (ties: lowest id, as a sorted candidate list gives).
std::pair<token_id, float> argmax(const std::vector<float>& lp, bool real_only) {
  token_id best = -1;
  float best_l = -std::numeric_limits<float>::infinity();
  for (std::size_t v = 0; v < lp.size(); ++v) {
    if (real_only && static_cast<token_id>(v) == none) continue;
    if (lp[v] > best_l) best = static_cast<token_id>(v), best_l = lp[v];
  }
  return {best, std::exp(best_l)};
}

}  // namespace

TEST_CASE("one insertion per gap: no step ever fills both slots of a gap, over random backends",
          "[denoise][fill][property]") {
  auto rng = test::seeded_rng(41);
  std::size_t steps = 0, two_in_a_gap_independent = 0;
  for (int round = 0; round < 60; ++round) {
    auto model = random_model(rng(), std::uniform_real_distribution<double>(0.0, 1.0)(rng));
    callback_backend<side_layout, decltype(model)> backend(model, vocab, none);
    std::vector<std::vector<token_id>> starts;
    for (int i = 0; i < 4; ++i) starts.push_back(random_start(rng, 6));
    denoise_options opt{.sampling = {.temperature = std::uniform_real_distribution<float>(0.0f, 2.0f)(rng),
                                     .top_p = std::uniform_real_distribution<float>(0.3f, 1.0f)(rng)},
                        .fill = {.min_confidence = rng() % 2 ? 0.0f : 0.05f},
                        .candidates = 1 + rng() % 30,
                        .seed = rng()};
    if (rng() % 4 == 0) opt.sampling.temperature = 0.0f;
    const auto stop = stop::any_of(stop::max_steps{5}, stop::max_length{60});
    const auto one = denoise(backend, std::span<const std::vector<token_id>>(starts), stop, opt);
    for (std::size_t i = 0; i < starts.size(); ++i) {
      const auto n = lengths_before(one[i], starts[i].size());
      for (std::size_t t = 0; t < one[i].trace.size(); ++t) {
        ++steps;
        std::vector<std::size_t> gaps;
        for (const insertion& ins : one[i].trace[t].inserted) gaps.push_back(side_layout::gap_of(ins.slot, n[t]));
        INFO("round " << round << ", sequence " << i << ", step " << t + 1);
        REQUIRE(std::adjacent_find(gaps.begin(), gaps.end()) == gaps.end());  // slot order: same gaps adjacent
      }
    }
    // The old behaviour is one option away: both slots of a gap may be filled in one step.
    opt.fill.gaps = gap_policy::independent;
    const auto both = denoise(backend, std::span<const std::vector<token_id>>(starts), stop, opt);
    for (std::size_t i = 0; i < starts.size(); ++i) {
      const auto n = lengths_before(both[i], starts[i].size());
      for (std::size_t t = 0; t < both[i].trace.size(); ++t) {
        std::vector<std::size_t> gaps;
        for (const insertion& ins : both[i].trace[t].inserted) gaps.push_back(side_layout::gap_of(ins.slot, n[t]));
        two_in_a_gap_independent += std::adjacent_find(gaps.begin(), gaps.end()) != gaps.end();
      }
    }
  }
  CHECK(steps > 200);
  CHECK(two_in_a_gap_independent > 0);
}

TEST_CASE("one greedy step equals a plain reference of the gap rule (and of the independent rule)",
          "[denoise][fill][property]") {
  auto rng = test::seeded_rng(42);
  for (int round = 0; round < 80; ++round) {
    auto model = random_model(rng(), std::uniform_real_distribution<double>(0.0, 0.6)(rng));
    callback_backend<side_layout, decltype(model)> backend(model, vocab, none);
    const std::vector<std::vector<token_id>> start{random_start(rng, 7)};
    const auto dist = distributions(backend, start[0]);
    const std::size_t n = start[0].size();
    for (gap_policy rule : {gap_policy::one_per_gap, gap_policy::independent}) {
      // Reference: every slot's argmax over the full distribution; per gap the more probable real one.
      std::map<std::size_t, std::pair<std::size_t, std::pair<token_id, float>>> by_gap;  // gap -> (slot, choice)
      std::vector<insertion> want;
      for (std::size_t s = 0; s < dist.size(); ++s) {
        const auto c = argmax(dist[s], false);
        if (c.first == none) continue;
        if (rule == gap_policy::independent) {
          want.push_back({s, c.first});
          continue;
        }
        const std::size_t g = side_layout::gap_of(s, n);
        auto it = by_gap.find(g);
        if (it == by_gap.end() || c.second > it->second.second.second) by_gap[g] = {s, c};
      }
      for (const auto& [g, sc] : by_gap) want.push_back({sc.first, sc.second.first});
      const auto g = denoise(backend, std::span(start), stop::max_steps{1},
                             {.fill = {.gaps = rule, .min_insertions = 0}, .candidates = vocab});
      INFO("round " << round << ", rule " << static_cast<int>(rule));
      const std::vector<insertion> got = g[0].trace.empty() ? std::vector<insertion>{} : g[0].trace[0].inserted;
      REQUIRE(got.size() == want.size());
      for (std::size_t j = 0; j < got.size(); ++j) {
        REQUIRE(got[j].slot == want[j].slot);
        REQUIRE(got[j].token == want[j].token);
      }
    }
  }
}

TEST_CASE("min_probability: no draw and no insertion ever has a probability below it", "[denoise][sampling][property]") {
  auto rng = test::seeded_rng(43);
  std::size_t inserted = 0;
  for (int round = 0; round < 40; ++round) {
    // Flat models (low `sharp`) put many tokens near and below the floor.
    auto model = random_model(rng(), 0.2, std::uniform_real_distribution<double>(0.5, 4.0)(rng));
    callback_backend<side_layout, decltype(model)> backend(model, vocab, none);
    const float floor = std::uniform_real_distribution<float>(0.01f, 0.08f)(rng);
    std::vector<std::vector<token_id>> starts;
    for (int i = 0; i < 4; ++i) starts.push_back(random_start(rng, 5));
    const denoise_options opt{.sampling = {.temperature = std::uniform_real_distribution<float>(0.0f, 3.0f)(rng),
                                           .top_k = rng() % 3 == 0 ? 0 : 1 + rng() % 10,
                                           .top_p = std::uniform_real_distribution<float>(0.5f, 1.0f)(rng),
                                           .repetition_penalty = rng() % 2 ? 1.0f : 3.0f,
                                           .min_probability = floor},
                              .candidates = 32,
                              .seed = rng()};
    const auto gens = denoise(backend, std::span<const std::vector<token_id>>(starts),
                              stop::any_of(stop::max_steps{4}, stop::max_length{50}), opt);
    // (an empty start's first word is drawn without the floor: denoise.hpp, "generating from nothing")
    for (std::size_t i = 0; i < gens.size(); ++i)
      for (std::size_t s = starts[i].empty() ? 1 : 0; s < gens[i].trace.size(); ++s)
        for (float p : gens[i].trace[s].probability) {
          ++inserted;
          REQUIRE(p >= floor);
        }
  }
  CHECK(inserted > 100);
}

TEST_CASE("sample_slot with min_probability strikes out the tail, renormalises the rest, falls back to none",
          "[sampling][property]") {
  constexpr token_id n = 3;
  const std::vector<token_id> ids{10, 11, n, 12, 13};
  std::vector<float> lp;
  for (float p : {0.4f, 0.25f, 0.2f, 0.1f, 0.05f}) lp.push_back(std::log(p));
  auto nothing = [](token_id) { return false; };
  sampling_rng rng(5);
  std::map<token_id, double> f;
  const int draws = 40000;
  for (int i = 0; i < draws; ++i) f[sample_slot(ids, lp, n, {.temperature = 1.0f, .min_probability = 0.2f}, nothing, rng).token] += 1.0 / draws;
  CHECK(f.size() == 3);  // 12 (0.1) and 13 (0.05) are never drawn
  CHECK(f[10] == Approx(0.4 / 0.85).margin(0.015));
  CHECK(f[11] == Approx(0.25 / 0.85).margin(0.015));
  CHECK(f[n] == Approx(0.2 / 0.85).margin(0.015));
  // Greedy with a penalty that would prefer a struck-out token: the floor wins.
  auto has_10_11 = [](token_id t) { return t == 10 || t == 11; };
  const std::vector<token_id> real{10, 11, 12};
  const std::vector<float> real_lp{std::log(0.5f), std::log(0.45f), std::log(0.05f)};
  const slot_choice c = sample_slot(real, real_lp, n, {.repetition_penalty = 100.0f, .min_probability = 0.1f}, has_10_11, rng);
  CHECK(c.token == 10);
  // Nothing above the floor and none not among the candidates: the slot stays empty.
  const slot_choice e = sample_slot(real, real_lp, n, {.temperature = 1.0f, .min_probability = 0.6f}, nothing, rng);
  CHECK(e.token == n);
  CHECK_THROWS_WITH((sampling_options{.min_probability = 1.0f}.validate()), Catch::Contains("min_probability"));
  CHECK_THROWS_WITH((sampling_options{.min_probability = -0.1f}.validate()), Catch::Contains("min_probability"));
}

TEST_CASE("the progress rule inserts the best admissible word across slots when every slot draws none",
          "[denoise][fill][property]") {
  auto rng = test::seeded_rng(44);
  std::size_t forced_steps = 0;
  for (int round = 0; round < 40; ++round) {
    // none dominates every slot: greedy draws nothing anywhere.
    auto model = random_model(rng(), 20.0);
    callback_backend<side_layout, decltype(model)> backend(model, vocab, none);
    const std::vector<std::vector<token_id>> start{random_start(rng, 6)};
    const auto dist = distributions(backend, start[0]);
    const float floor = rng() % 2 ? 0.0f : 0.01f;
    // Reference: the most probable real token over all slots (ties: leftmost slot) if it reaches the floor.
    std::size_t want_slot = 0;
    std::pair<token_id, float> want{-1, 0.0f};
    for (std::size_t s = 0; s < dist.size(); ++s) {
      const auto c = argmax(dist[s], true);
      REQUIRE(argmax(dist[s], false).first == none);
      if (c.second > want.second) want = c, want_slot = s;
    }
    const auto g = denoise(backend, std::span(start), stop::max_steps{1},
                           {.sampling = {.min_probability = floor}, .candidates = vocab});
    INFO("round " << round);
    REQUIRE(g[0].trace.size() == 1);
    if (want.second >= floor) {
      REQUIRE(g[0].trace[0].inserted.size() == 1);
      CHECK(g[0].trace[0].inserted[0].slot == want_slot);
      CHECK(g[0].trace[0].inserted[0].token == want.first);
      CHECK(g[0].trace[0].forced == 1);
      ++forced_steps;
    } else {
      CHECK(g[0].trace[0].inserted.empty());
    }
    // Without the rule nothing is inserted, and no_change ends the generation after one step.
    const auto off = denoise(backend, std::span(start), stop::no_change{}, {.fill = {.min_insertions = 0}, .candidates = vocab});
    CHECK(off[0].tokens == start[0]);
    CHECK(off[0].steps == 1);
    // With it, min_insertions = 3 gives three insertions in three different gaps.
    const auto three = denoise(backend, std::span(start), stop::max_steps{1}, {.fill = {.min_insertions = 3}, .candidates = vocab});
    std::vector<std::size_t> gaps;
    for (const insertion& ins : three[0].trace[0].inserted) gaps.push_back(side_layout::gap_of(ins.slot, start[0].size()));
    CHECK(gaps.size() == std::min<std::size_t>(3, start[0].size() + 1));
    CHECK(std::adjacent_find(gaps.begin(), gaps.end()) == gaps.end());
  }
  CHECK(forced_steps > 20);
  CHECK_THROWS_WITH((fill_options{.max_insertions = 2, .min_insertions = 3}.validate()), Catch::Contains("min_insertions"));
}

TEST_CASE("the decoding preset: valid, and its stop rule composes the documented parts", "[denoise][stop]") {
  decoding_preset p;
  REQUIRE_NOTHROW(p.validate());
  p.min_length = 6;
  p.stop_probability = 0.1f;
  p.max_length = 20;
  p.max_steps = 5;
  const auto stop = p.stop();
  auto at = [](std::size_t steps, std::size_t length, std::size_t inserted, float best) {
    return step_report{.steps = steps, .length = length, .inserted_last = inserted, .best_insertion = best};
  };
  CHECK_FALSE(stop(at(1, 4, 1, 0.05f)));  // nothing likely, but shorter than min_length
  CHECK(stop(at(1, 6, 1, 0.05f)));        // nothing likely, long enough
  CHECK_FALSE(stop(at(1, 6, 1, 0.5f)));
  // A step that inserted nothing does not end it: denoise itself ends a sequence that no slot can
  // grow (stop_reason::nothing_admissible), and a step that drew nothing by chance is not the end.
  CHECK_FALSE(stop(at(1, 4, 0, 0.5f)));
  CHECK(stop::length_cap(stop) == 20);    // max_length is a hard limit inside the preset's any_of
  CHECK(stop(at(5, 4, 1, 0.5f)));
  CHECK(stop(at(1, 20, 1, 0.5f)));
  const denoise_options o = p.options(9);
  CHECK(o.seed == 9);
  CHECK(o.sampling.min_probability == p.min_probability);
  CHECK(o.fill.gaps == gap_policy::one_per_gap);
  p.stop_probability = 1.0f;
  CHECK_THROWS_WITH(p.validate(), Catch::Contains("stop_probability"));
}

TEST_CASE("an unknown keyword: the model is fed unk, the output prints the typed word in its place", "[denoise][text]") {
  constexpr token_id unk = 1;
  // A model that knows unk as an ordinary context token.
  auto model = random_model(17);
  callback_backend<side_layout, decltype(model)> backend(model, vocab, none);
  const std::vector<std::vector<token_id>> start{{10, unk, 12}};
  const auto g = denoise(backend, std::span(start), stop::max_steps{3}, {.sampling = {.temperature = 0.8f}, .seed = 2});
  REQUIRE(g[0].tokens.size() > 3);
  auto word = [](token_id t) { return t == unk ? std::string("<unk>") : "w" + std::to_string(t); };
  const std::vector<std::string> typed{"", "jumps", ""};
  const auto words = generation_words(g[0], word, typed);
  std::vector<std::string> kept;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (g[0].births[i] == 0) kept.push_back(words[i]);
    else CHECK(words[i] == word(g[0].tokens[i]));
  }
  CHECK(kept == std::vector<std::string>{"w10", "jumps", "w12"});
  const std::string diagram = underscores_diagram(g[0], std::span<const std::string>(words));
  CHECK(diagram.find("jumps") != std::string::npos);
  CHECK(diagram.find("<unk>") == std::string::npos);
  const std::string json = to_json(g[0], word, typed);
  CHECK(json.find("\"jumps\"") != std::string::npos);
  CHECK(json.find("\"tokens\":[") != std::string::npos);
}

TEST_CASE("no_adjacent_repeat: no insertion ever lands next to an equal token, under both gap rules",
          "[denoise][sampling][property]") {
  auto rng = test::seeded_rng(45);
  std::size_t repeats_without = 0, inserted = 0;
  for (int round = 0; round < 50; ++round) {
    // A small effective vocabulary (peaky weights) makes repeats likely without the rule.
    auto model = random_model(rng(), std::uniform_real_distribution<double>(0.0, 3.0)(rng), 8.0);
    callback_backend<side_layout, decltype(model)> backend(model, vocab, none);
    std::vector<std::vector<token_id>> starts;
    for (int i = 0; i < 3; ++i) {
      auto s = random_start(rng, 5);
      s.erase(std::unique(s.begin(), s.end()), s.end());  // no repeat to begin with
      starts.push_back(s);
    }
    denoise_options opt{.sampling = {.temperature = rng() % 3 == 0 ? 0.0f : 1.0f, .no_adjacent_repeat = true},
                        .fill = {.gaps = rng() % 2 ? gap_policy::one_per_gap : gap_policy::independent,
                                 .min_insertions = rng() % 3},
                        .candidates = 1 + rng() % 20,
                        .seed = rng()};
    const auto stop = stop::any_of(stop::max_steps{5}, stop::max_length{40});
    const auto with = denoise(backend, std::span<const std::vector<token_id>>(starts), stop, opt);
    for (std::size_t i = 0; i < starts.size(); ++i) {
      INFO("round " << round << ", sequence " << i);
      inserted += with[i].tokens.size() - starts[i].size();
      REQUIRE(std::adjacent_find(with[i].tokens.begin(), with[i].tokens.end()) == with[i].tokens.end());
    }
    opt.sampling.no_adjacent_repeat = false;
    const auto without = denoise(backend, std::span<const std::vector<token_id>>(starts), stop, opt);
    for (const auto& g : without)
      for (std::size_t j = 1; j < g.tokens.size(); ++j) repeats_without += g.tokens[j] == g.tokens[j - 1];
  }
  CHECK(inserted > 200);
  CHECK(repeats_without > 0);  // the rule is what prevents them
}
