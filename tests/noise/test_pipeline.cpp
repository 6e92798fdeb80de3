// Tests of the pieces that join noising to learning: per-slot targets with another vocabulary's none
// id (noise/targets_options.hpp, and the backends that read them), and noise_text
// (pipeline/text_trajectories.hpp) honouring its options.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "random.hpp"
#include "slotdiff/backends/ngram.hpp"
#include "slotdiff/backends/oracle.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/noise/trajectory.hpp"
#include "slotdiff/pipeline/text_trajectories.hpp"
#include "slotdiff/scoring/random.hpp"
#include "slotdiff/text/tokenizer.hpp"

using namespace slotdiff;

TEMPLATE_TEST_CASE("targets with another none id put it exactly where nothing is inserted", "", side_layout, gap_layout) {
  auto rng = test::seeded_rng();
  std::uniform_int_distribution<token_id> tok(10, 60);  // no id below 10: the none ids below are not tokens
  std::uniform_int_distribution<std::size_t> len(0, 14);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<token_id> x(len(rng));
    for (auto& t : x) t = tok(rng);
    const auto tr = noise<TestType>(x, random_scorer{rng()}, {.schedule = noise_schedule::fraction(0.4)});
    for (step_index t = 0; t < tr.steps(); ++t) {
      const auto usual = tr.targets(t);
      for (const token_id none : {token_id{0}, token_id{7}, token_id{5000}}) {
        const auto other = tr.targets(t, {.none_id = none});
        REQUIRE(other.size() == usual.size());
        for (std::size_t s = 0; s < usual.size(); ++s) CHECK(other[s] == (usual[s] == tokenizer::none ? none : usual[s]));
        std::vector<token_id> appended{-9};
        tr.targets_into(t, appended, {.none_id = none});
        CHECK(std::equal(appended.begin() + 1, appended.end(), other.begin(), other.end()));
      }
    }
  }
  const trajectory<TestType> tr({11, 12, 13}, {1, 2, 3}, 2);
  CHECK_THROWS_AS(tr.targets(0, {.none_id = -1}), input_error);
}

TEST_CASE("backends read the targets with their own none id") {
  // x_0 = 11 12 13; step 1 removes 12, step 2 removes 11; 13 stays.
  const trajectory<side_layout> tr({11, 12, 13}, {2, 1, 3}, 2);
  constexpr token_id none = 7;
  // The oracle replays x_1 -> x_0: the slots that get nothing must carry its own none id.
  oracle_backend<side_layout> oracle(20, none);
  oracle.add(tr);
  const std::vector<token_id> x1{11, 13};
  const std::vector<std::size_t> offsets{0, 2};
  const ragged_batch batch{.tokens = x1, .offsets = offsets};  // x_1, origin 0
  std::vector<token_id> ids(4);
  std::vector<float> logp(4);
  oracle.top_k(batch, 1, ids, logp);
  CHECK(ids == std::vector<token_id>{none, 12, none, none});  // 12 goes right of 11
  // The n-gram counts "none" under its none id: its probability of none is high, of id 3 zero.
  auto model = ngram_backend<side_layout>::train(std::vector{tr}, 20, none, {.never_insert = {0, 1, 2}});
  std::vector<float> all(4 * 20);
  model.log_probs(batch, all);
  CHECK(all[0 * 20 + none] > all[0 * 20 + 3]);
}

TEST_CASE("noise_text honours its options") {
  const std::vector<std::string> lines{"the cat sat on the mat", "a dog sat on the log",  "the cat saw the dog",
                                       "a bird sang in the tree", "the end of the day",   "a fox ran past the old barn",
                                       "the rain fell all night", "a child read the book"};
  const tokenizer vocab = tokenizer::build(lines);
  const auto base = noise_text<side_layout>(lines, vocab, noise_text_options{.heldout_every = 4, .threads = 1});
  CHECK(base.held.size() == 2);  // lines 0 and 4
  CHECK(base.train.size() == 6);
  // The positional form is the same call.
  const auto positional = noise_text<side_layout>(lines, vocab, 4, {}, 1);
  CHECK(positional.train == base.train);
  CHECK(positional.held == base.held);
  // heldout_every = 0: nothing held out.
  const auto all = noise_text<side_layout>(lines, vocab, {.heldout_every = 0, .threads = 1});
  CHECK(all.held.empty());
  CHECK(all.train.size() == lines.size());
  // trajectories: K noisings of every training line, the first of them the unaugmented one.
  const auto three = noise_text<side_layout>(lines, vocab, {.heldout_every = 4, .threads = 2, .trajectories = 3});
  REQUIRE(three.train.size() == 3 * base.train.size());
  CHECK(std::equal(base.train.begin(), base.train.end(), three.train.begin()));
  CHECK(three.held == base.held);
  // noise: a count:1 (per_step) schedule removes one word a step, so more steps than fraction 0.5.
  const auto one_a_step =
      noise_text<side_layout>(lines, vocab, {.heldout_every = 4, .noise = {.schedule = noise_schedule::per_step(1)}, .threads = 1});
  REQUIRE(one_a_step.train.size() == base.train.size());
  for (std::size_t i = 0; i < base.train.size(); ++i) {
    CHECK(one_a_step.train[i].tokens().size() == base.train[i].tokens().size());  // same words
    CHECK(one_a_step.train[i].steps() > base.train[i].steps());
  }
  // Nothing usable: an input_error naming the function.
  const std::vector<std::string> empty{"", "   "};
  CHECK_THROWS_AS(noise_text<side_layout>(empty, vocab, {}), input_error);
  CHECK_THROWS_WITH(noise_text<side_layout>(empty, vocab, {}), Catch::Contains("noise_text: none of the lines is usable"));
}
