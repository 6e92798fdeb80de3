// The minimal conforming types of docs/concepts.md, compiled from the doc itself (concepts_doc.hpp
// is generated from its code blocks), and each put to work through the library.
#include "concepts_doc.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

using namespace slotdiff;

TEST_CASE("docs/concepts.md: every_gap drives a library slot sequence and the feasibility rule", "[concepts][doc]") {
  vector_slots<mine::every_gap> seq{7, 9};
  const std::vector<insertion> step{{2, 3}, {0, 1}};
  seq.apply(step);
  CHECK(std::vector<token_id>(seq.begin(), seq.end()) == std::vector<token_id>{1, 7, 9, 3});
  CHECK(is_feasible_removal<mine::every_gap>(std::array{0, 1, 0, 1}));
  CHECK_FALSE(is_feasible_removal<mine::every_gap>(std::array{0, 1, 1, 0}));  // two in one gap
}

TEST_CASE("docs/concepts.md: insert_slots agrees with vector_slots and refuses a bad batch whole", "[concepts][doc]") {
  mine::insert_slots mine_seq({4, 5, 6});
  vector_slots<mine::every_gap> lib_seq{4, 5, 6};
  for (const std::vector<insertion>& step : {std::vector<insertion>{{3, 1}, {0, 2}}, std::vector<insertion>{{2, 8}},
                                             std::vector<insertion>{}, std::vector<insertion>{{0, 0}, {6, 9}, {3, 3}}}) {
    mine_seq.apply(step);
    lib_seq.apply(step);
  }
  REQUIRE(mine_seq.size() == lib_seq.size());
  for (std::size_t i = 0; i < lib_seq.size(); ++i) {
    CHECK(mine_seq.token(i) == lib_seq.token(i));
    CHECK(mine_seq.birth(i) == lib_seq.birth(i));
  }
  CHECK(mine_seq.step() == 4);
  const std::vector<insertion> twice{{1, 5}, {1, 6}};
  CHECK_THROWS_AS(mine_seq.apply(twice), slot_error);
  CHECK(mine_seq.step() == 4);
}

TEST_CASE("docs/concepts.md: by_id noises a sentence down to nothing", "[concepts][doc]") {
  const std::vector<token_id> sentence{12, 3, 40, 7, 25, 9};
  const auto tr = noise<side_layout>(sentence, mine::by_id{});
  REQUIRE(tr.steps() > 0);
  CHECK(tr.state(0) == sentence);
  CHECK(tr.state(tr.steps()).empty());
}

TEST_CASE("docs/concepts.md: l1, id_histogram and the two semantic measures", "[concepts][doc]") {
  const std::vector<float> a{1, 2}, b{0, 4}, c{1};
  CHECK(mine::l1{}(a, b) == 3.0f);
  CHECK_THROWS_AS(mine::l1{}(a, c), error);
  std::vector<float> v(4);
  const std::vector<token_id> ids{0, 4, 1, 2};
  mine::id_histogram{}.embed(ids, v);
  CHECK(v == std::vector<float>{0.5f, 0.25f, 0.25f, 0.0f});
  const mine::id_histogram hist;
  const embedding_change<mine::id_histogram, mine::l1> change(hist, mine::l1{});
  CHECK(change.dimension() == 4);
  CHECK_THROWS_AS((embedding_change<mine::id_histogram, mine::l1>(hist, mine::l1{}, {1.0f})), error);  // target of 1 != 4
  std::vector<float> one(1), two(1);
  const std::vector<token_id> three{1, 2, 3}, five{1, 2, 3, 4, 5};
  mine::length_measure{}.embed(three, one);
  mine::length_measure{}.embed(five, two);
  CHECK(mine::length_measure{}.distance(one, two) == 2.0f);
}

TEST_CASE("docs/concepts.md: fives grows the root slot to three fives, and at_length stops", "[concepts][doc]") {
  mine::fives backend;
  const std::vector<std::vector<token_id>> starts{{}, {5}};
  const auto out = denoise(backend, std::span<const std::vector<token_id>>(starts), stop::max_steps{10});
  REQUIRE(out.size() == 2);
  for (const generation& g : out) CHECK(g.tokens == std::vector<token_id>{5, 5, 5});
  CHECK(out[0].steps >= 2);

  step_report r;
  r.length = 3;
  CHECK_FALSE(mine::at_four_or_eight_steps(r));
  r.length = 4;
  CHECK(mine::at_four_or_eight_steps(r));
  const auto stopped = denoise(backend, std::span<const std::vector<token_id>>(starts), mine::at_length{1});
  CHECK(stopped[0].tokens == std::vector<token_id>{5});
  CHECK(stopped[1].tokens == std::vector<token_id>{5});
}

TEST_CASE("docs/concepts.md: recorded is replayed by the oracle, which checks its shape", "[concepts][doc]") {
  oracle_backend<gap_layout> oracle(8, 0);
  // x_0 = 3 4, x_1 = 4: gap_layout gives x_1 two slots; the first inserts 3, the second nothing.
  oracle.add(mine::recorded{{{3, 4}, {4}}, {{3, 0}}});
  CHECK_THROWS_AS(oracle.add(mine::recorded{{{3, 4}, {4}}, {{3}}}), error);      // one target for two slots
  CHECK_THROWS_AS(oracle.add(mine::recorded{{{3, 4}, {4}}, {{3, 11}}}), error);  // id 11 outside 0..7
}
