// Tests of slotdiff/noise/: trajectories (validation, states, per-slot targets that rebuild x_t with
// every slot sequence), the noiser over random sentences, scorers, layouts and schedules, keyword
// protection, determinism across thread counts, the embedding objective, and the seed's example.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../scoring/toy_embedder.hpp"
#include "random.hpp"
#include "slotdiff/noise/corpus.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/noise/objective.hpp"
#include "slotdiff/noise/trajectory.hpp"
#include "slotdiff/scoring/embedding_shift.hpp"
#include "slotdiff/scoring/mix.hpp"
#include "slotdiff/scoring/protect.hpp"
#include "slotdiff/scoring/random.hpp"
#include "slotdiff/scoring/unigram.hpp"
#include "slotdiff/slots/devector_slots.hpp"
#include "slotdiff/slots/gap_buffer_slots.hpp"
#include "slotdiff/slots/gapped_slots.hpp"
#include "slotdiff/slots/vector_slots.hpp"
#include "slotdiff/text/tokenizer.hpp"

using namespace slotdiff;

namespace {

/// Applies targets(t) to x_{t+1} in a slot sequence of type Seq and returns the result.
template <class Seq>
std::vector<token_id> rebuild(const std::vector<token_id>& next, const std::vector<token_id>& targets) {
  Seq seq{std::span<const token_id>(next)};
  std::vector<insertion> batch;
  for (std::size_t s = 0; s < targets.size(); ++s)
    if (targets[s] != tokenizer::none) batch.push_back({.slot = s, .token = targets[s]});
  seq.apply(batch);
  std::vector<token_id> out(seq.size());
  seq.copy_tokens(out);
  return out;
}

/// Every property a trajectory must have, checked directly (not through its own constructor).
template <class Layout>
void check_trajectory(const trajectory<Layout>& tr, std::span<const token_id> x0) {
  REQUIRE(std::vector<token_id>(tr.tokens().begin(), tr.tokens().end()) == std::vector<token_id>(x0.begin(), x0.end()));
  CHECK(tr.state(0) == std::vector<token_id>(x0.begin(), x0.end()));
  for (step_index t = 0; t < tr.steps(); ++t) {
    const auto cur = tr.state(t), next = tr.state(t + 1);
    std::vector<std::uint8_t> mask;
    for (std::size_t i = 0; i < x0.size(); ++i)
      if (tr.removed_at()[i] > t) mask.push_back(tr.removed_at()[i] == t + 1);
    INFO("step " << t + 1 << " of " << tr.steps());
    CHECK(next.size() < cur.size());
    CHECK(is_feasible_removal<Layout>(mask));
    const auto targets = tr.targets(t);
    REQUIRE(targets.size() == Layout::slot_count(next.size()));
    CHECK(rebuild<vector_slots<Layout>>(next, targets) == cur);
    CHECK(rebuild<gapped_slots<Layout>>(next, targets) == cur);
    CHECK(rebuild<gap_buffer_slots<Layout>>(next, targets) == cur);
    CHECK(rebuild<devector_slots<Layout>>(next, targets) == cur);
  }
}

std::vector<token_id> random_sentence(std::mt19937_64& rng, std::size_t max_len = 40) {
  std::uniform_int_distribution<std::size_t> len(0, max_len);
  std::uniform_int_distribution<token_id> tok(4, 60);  // small vocabulary: repeats and ties
  std::vector<token_id> s(len(rng));
  for (auto& t : s) t = tok(rng);
  return s;
}

noise_schedule random_schedule(std::mt19937_64& rng) {
  switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
    case 0: return noise_schedule::per_step(std::uniform_int_distribution<std::size_t>(1, 4)(rng));
    case 1: return noise_schedule::fraction(std::uniform_real_distribution<float>(0.1f, 1.0f)(rng));
    case 2: return noise_schedule::maximum();
    default: return noise_schedule::threshold(std::uniform_real_distribution<float>(0.0f, 6.0f)(rng));
  }
}

unigram_model random_model(std::mt19937_64& rng) {
  unigram_model m;
  for (int d = 0; d < 200; ++d) m.observe(random_sentence(rng, 15));
  return m;
}

const std::filesystem::path data_dir = SLOTDIFF_DATA_DIR;

}  // namespace

TEST_CASE("trajectory: validation names the offending step") {
  const std::vector<token_id> x0{10, 11, 12, 13};
  CHECK_NOTHROW(trajectory<side_layout>(x0, {2, 1, 1, 3}, 2));  // step 1 removes an interior run of 2
  CHECK_THROWS_AS(trajectory<gap_layout>(x0, {2, 1, 1, 3}, 2), feasibility_error);  // gap_layout: runs of 1
  CHECK_THROWS_WITH(trajectory<side_layout>(x0, {1, 1, 2, 3}, 2), Catch::Contains("step 1"));  // leading run of 2
  CHECK_THROWS_WITH(trajectory<side_layout>(x0, {3, 3, 3, 3}, 2), Catch::Contains("removes nothing"));
  CHECK_THROWS_WITH(trajectory<side_layout>(x0, {1, 2, 5, 2}, 2), Catch::Contains("outside [1, 3]"));
  CHECK_THROWS_AS(trajectory<side_layout>(x0, {1, 2}, 2), error);
  CHECK_THROWS_AS(trajectory<side_layout>({-1}, {1}, 1), error);
  const trajectory<side_layout> tr(x0, {2, 1, 1, 3}, 2);
  CHECK(tr.state(1) == std::vector<token_id>{10, 13});
  CHECK(tr.state(2) == std::vector<token_id>{13});
  // x_1 = 10 13: slots _10_ _13_ ; 11 goes right of 10, 12 left of 13
  CHECK(tr.targets(0) == std::vector<token_id>{tokenizer::none, 11, 12, tokenizer::none});
  CHECK(tr.targets(1) == std::vector<token_id>{10, tokenizer::none});
  CHECK_THROWS_AS(tr.targets(2), error);
  CHECK_THROWS_AS(tr.state(3), error);
  const trajectory<side_layout> to_empty({7}, {1}, 1);
  CHECK(to_empty.targets(0) == std::vector<token_id>{7});  // the root slot
}

namespace {

// The serial reference of trajectory's step validation: one is_feasible_removal mask per step, O(n T).
// Returns "" when valid, else the message the constructor must give.
template <class Layout>
std::string reference_step_check(const std::vector<step_index>& removed_at, step_index steps) {
  for (step_index t = 0; t < steps; ++t) {
    std::vector<bool> mask;
    std::size_t removed = 0;
    for (step_index r : removed_at) {
      if (r <= t) continue;
      mask.push_back(r == t + 1);
      removed += r == t + 1;
    }
    if (removed == 0) return "trajectory: step " + std::to_string(t + 1) + " removes nothing";
    if (!is_feasible_removal<Layout>(mask))
      return "trajectory: step " + std::to_string(t + 1) + " removes " + std::to_string(removed) + " of " +
             std::to_string(mask.size()) + " tokens in runs that " + std::string(Layout::name) + " cannot refill in one step";
  }
  return "";
}

}  // namespace

TEMPLATE_TEST_CASE("trajectory: the linear-time step validation agrees with the per-step mask reference", "", side_layout, gap_layout) {
  auto rng = test::seeded_rng();
  std::size_t valid = 0;
  for (int round = 0; round < 20000; ++round) {
    const std::size_t n = rng() % 10;
    const auto steps = static_cast<step_index>(n ? rng() % (n + 1) : 0);
    std::vector<step_index> removed(n);
    for (auto& r : removed) r = 1 + static_cast<step_index>(rng() % static_cast<std::uint64_t>(steps + 1));
    const std::string want = reference_step_check<TestType>(removed, steps);
    std::string got;
    try {
      trajectory<TestType>(std::vector<token_id>(n, 5), removed, steps);
    } catch (const feasibility_error& e) {
      got = e.what();
    }
    INFO("n " << n << " steps " << steps);
    REQUIRE(got == want);
    valid += want.empty();
  }
  CHECK(valid > 1000);  // both outcomes well covered
  // A long trajectory that removes one token per step (T = n = 200,000): linear, where the per-step
  // masks would take 2 x 10^10 operations.
  const std::size_t n = 200000;
  std::vector<step_index> last_first(n);
  for (std::size_t i = 0; i < n; ++i) last_first[i] = static_cast<step_index>(n - i);
  const trajectory<TestType> longest(std::vector<token_id>(n, 5), last_first, static_cast<step_index>(n));
  CHECK(longest.length(static_cast<step_index>(n)) == 0);
}

TEMPLATE_TEST_CASE("noise: random sentences, scorers and schedules give valid trajectories", "", side_layout, gap_layout) {
  auto rng = test::seeded_rng();
  const unigram_model model = random_model(rng);
  const idf_scorer idf(model);
  const tfidf_scorer tfidf(model);
  const test::mean_embedder emb{.d = 8};
  const embedding_shift_scorer shift(emb, test::cosine_distance{});
  const weighted_mix mix(mix_normalize::rank, weighted{0.7f, idf}, weighted{0.3f, shift});
  for (int trial = 0; trial < 60; ++trial) {
    const auto x0 = random_sentence(rng);
    const noise_options opts{
        .schedule = random_schedule(rng),
        .selection = rng() % 2 ? selection_method::exact : selection_method::greedy,
        .keep_keywords = std::uniform_int_distribution<std::size_t>(0, 3)(rng),
        .seed = rng(),
    };
    INFO("n " << x0.size() << " schedule " << opts.schedule.to_string() << " keep " << opts.keep_keywords
              << (opts.selection == selection_method::exact ? " exact" : " greedy"));
    const auto check_with = [&](const auto& scorer) {
      const auto tr = noise<TestType>(x0, scorer, opts);
      check_trajectory(tr, x0);
      CHECK(tr.length(tr.steps()) >= std::min(x0.size(), opts.keep_keywords));
      if (opts.schedule.type != noise_schedule::kind::threshold)  // nothing protected: runs to the end
        CHECK(tr.length(tr.steps()) == std::min(x0.size(), opts.keep_keywords));
      CHECK(noise<TestType>(x0, scorer, opts) == tr);  // same seed, same trajectory
    };
    check_with(random_scorer{opts.seed});
    check_with(idf);
    check_with(tfidf);
    check_with(shift);
    check_with(mix);
  }
}

TEMPLATE_TEST_CASE("keyword_protect: keywords are never removed", "", side_layout, gap_layout) {
  auto rng = test::seeded_rng(1);
  for (int trial = 0; trial < 100; ++trial) {
    const auto x0 = random_sentence(rng);
    std::vector<token_id> keywords;
    for (int i = 0; i < 3 && !x0.empty(); ++i) keywords.push_back(x0[rng() % x0.size()]);
    const keyword_protect scorer(random_scorer{rng()}, keywords);
    const auto tr = noise<TestType>(x0, scorer, {.schedule = random_schedule(rng), .seed = rng()});
    check_trajectory(tr, x0);
    for (std::size_t i = 0; i < x0.size(); ++i)
      if (std::find(keywords.begin(), keywords.end(), x0[i]) != keywords.end()) CHECK(tr.removed_at()[i] == tr.steps() + 1);
  }
}

TEST_CASE("exact selection removes no more total importance per step than greedy") {
  auto rng = test::seeded_rng(2);
  const unigram_model model = random_model(rng);
  const idf_scorer idf(model);
  for (int trial = 0; trial < 100; ++trial) {
    const auto x0 = random_sentence(rng);
    std::vector<float> scores(x0.size());
    idf.score(x0, scores);
    const auto k = std::uniform_int_distribution<std::size_t>(1, 5)(rng);
    const auto e = noise(x0, idf, {.schedule = noise_schedule::per_step(k), .selection = selection_method::exact, .max_steps = 1});
    const auto g = noise(x0, idf, {.schedule = noise_schedule::per_step(k), .selection = selection_method::greedy, .max_steps = 1});
    double te = 0, tg = 0;
    std::size_t ce = 0, cg = 0;
    for (std::size_t i = 0; i < x0.size(); ++i) {
      if (e.removed_at()[i] == 1) te += scores[i], ++ce;
      if (g.removed_at()[i] == 1) tg += scores[i], ++cg;
    }
    if (ce == cg) CHECK(te <= tg + 1e-6);
  }
}

TEST_CASE("noise_corpus: the same output at any thread count") {
  auto rng = test::seeded_rng(3);
  std::vector<std::vector<token_id>> corpus(300);
  for (auto& s : corpus) s = random_sentence(rng, 30);
  const test::mean_embedder emb{.d = 8};
  const embedding_shift_scorer shift(emb, test::cosine_distance{});
  const weighted_mix scorer(mix_normalize::rank, weighted{1.0f, shift}, weighted{0.5f, random_scorer{9}});
  auto one = [&](std::span<const token_id> s, const noise_options& o) { return noise<side_layout>(s, scorer, o); };
  const noise_options opts{.schedule = noise_schedule::fraction(0.3f), .seed = 42};
  std::atomic<std::size_t> done{0};
  const auto serial = noise_corpus<trajectory<side_layout>>(corpus, one, opts, {.threads = 1});
  const auto parallel = noise_corpus<trajectory<side_layout>>(corpus, one, opts, {.threads = 3, .chunk = 7, .progress = &done});
  CHECK(done == corpus.size());
  REQUIRE(serial.size() == corpus.size());
  CHECK(serial == parallel);
  // each sentence's trajectory is the one noise() gives with its sentence seed
  for (std::size_t i : {0u, 17u, 299u}) {
    noise_options o = opts;
    o.seed = sentence_seed(opts.seed, i);
    CHECK(one(corpus[i], o) == serial[i]);
  }
  // the lowest failing sentence's error comes out
  corpus[123].push_back(-5);
  CHECK_THROWS_WITH(noise_corpus<trajectory<side_layout>>(corpus, one, opts, {.threads = 2}), Catch::Contains("-5"));
}

TEST_CASE("bad scores and schedules are reported") {
  struct nan_at_two {
    void score(std::span<const token_id> t, std::span<float> out) const {
      for (std::size_t i = 0; i < t.size(); ++i) out[i] = i == 2 ? std::nanf("") : 1.0f;
    }
  };
  const std::vector<token_id> x0{4, 5, 6, 7};
  CHECK_THROWS_WITH(noise(x0, nan_at_two{}), Catch::Contains("position 2") && Catch::Contains("NaN"));
  CHECK_THROWS_WITH(noise(x0, random_scorer{}, {.schedule = noise_schedule::per_step(0)}), Catch::Contains("positive"));
  CHECK_THROWS_WITH(noise(x0, random_scorer{}, {.schedule = noise_schedule::fraction(1.5f)}), Catch::Contains("1.5"));
  CHECK(noise(std::vector<token_id>{}, random_scorer{}).steps() == 0);
  CHECK(noise_schedule::parse("count:3").count == 3);
  CHECK(noise_schedule::parse("fraction:0.25").share == 0.25f);
  CHECK(noise_schedule::parse("max").type == noise_schedule::kind::maximum);
  CHECK(noise_schedule::parse("threshold:2.5").below == 2.5f);
  for (const char* bad : {"count:-1", "count:x", "fraction:2", "thresh", "max:3", "count:3x", ""})
    CHECK_THROWS_AS(noise_schedule::parse(bad), error);
}

TEMPLATE_TEST_CASE("embedding objective: feasible steps; exact never worse than greedy on a step", "", side_layout, gap_layout) {
  auto rng = test::seeded_rng(4);
  const test::mean_embedder emb{.d = 12};
  const embedding_objective<test::mean_embedder, test::cosine_distance> obj{.embedder = &emb, .exact_up_to = 12};
  std::vector<std::uint8_t> exact, greedy;
  for (int trial = 0; trial < 40; ++trial) {
    const auto x0 = random_sentence(rng, 12);
    const auto k = std::uniform_int_distribution<std::size_t>(1, 4)(rng);
    const float de = select_by_objective<TestType>(x0, obj, k, selection_method::exact, exact);
    const float dg = select_by_objective<TestType>(x0, obj, k, selection_method::greedy, greedy);
    if (dg != std::numeric_limits<float>::infinity()) CHECK(de <= dg + 1e-6f);
    if (de != std::numeric_limits<float>::infinity()) CHECK(is_feasible_removal<TestType>(exact));
    for (auto sel : {selection_method::exact, selection_method::greedy}) {
      const auto tr = noise<TestType>(x0, obj, {.schedule = noise_schedule::per_step(k), .selection = sel, .keep_keywords = 1});
      check_trajectory(tr, x0);
      CHECK(tr.length(tr.steps()) == std::min<std::size_t>(1, x0.size()));
    }
  }
  const std::vector<token_id> x0{4, 5, 6};
  CHECK_THROWS_AS(noise(x0, obj, {.schedule = noise_schedule::threshold(1.0f)}), error);
}

TEST_CASE("the seed's example: with IDF from the bundled corpus, function words go first") {
  std::vector<std::string> lines;
  for (const char* f : {"examples.txt", "glosses.txt"}) {
    std::ifstream in(data_dir / "wordnet" / f);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  REQUIRE(lines.size() > 100000);
  // The full word list, not the 8k vocabulary: IDF is a statistic of words, and "jumps" is rarer than
  // the 8k cut-off (it would score as <unk>, whose document frequency is high).
  const auto tok = tokenizer::build(lines, {.max_size = std::size_t{1} << 30});
  unigram_model model;
  std::vector<token_id> ids;
  for (const auto& l : lines) {
    ids.clear();
    tok.encode_into(l, ids);
    model.observe(ids);
  }
  const auto x0 = tok.encode("a quick brown fox jumps over the lazy dog");
  REQUIRE(std::count(x0.begin(), x0.end(), tokenizer::unk) == 0);
  const idf_scorer idf(model);
  auto steps_of = [&](const trajectory<side_layout>& tr) {
    step_index last_function = 0, first_content = std::numeric_limits<step_index>::max();
    for (std::size_t i = 0; i < x0.size(); ++i) {
      const std::string& w = tok.word(x0[i]);
      if (w == "a" || w == "the" || w == "over")
        last_function = std::max(last_function, tr.removed_at()[i]);
      else
        first_content = std::min(first_content, tr.removed_at()[i]);
    }
    return std::pair{last_function, first_content};
  };
  // ceil(0.3 * 9) = 3 a step: the three function words go together, first
  const auto by_fraction = noise(x0, idf, {.schedule = noise_schedule::fraction(0.3f)});
  check_trajectory(by_fraction, x0);
  const auto [lf, fc] = steps_of(by_fraction);
  CHECK(lf < fc);
  // 2 a step: a and the first; over shares step 2 with the least informative content word
  const auto by_two = noise(x0, idf, {.schedule = noise_schedule::per_step(2)});
  check_trajectory(by_two, x0);
  CHECK(tok.decode(by_two.state(1)) == "quick brown fox jumps over lazy dog");
  const auto [lf2, fc2] = steps_of(by_two);
  CHECK(lf2 <= fc2);
}
