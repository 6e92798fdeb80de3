#include <slotdiff/slotdiff.hpp>

#include <catch2/catch.hpp>

#include <vector>

std::size_t odr_unit_a();

TEST_CASE("the core links from two translation units", "[odr]") {
  slotdiff::gapped_slots<slotdiff::side_layout> seq{1, 2, 3};
  std::vector<slotdiff::insertion> step{{5, 9}};
  seq.apply(step);
  CHECK(seq.size() == odr_unit_a());
}
