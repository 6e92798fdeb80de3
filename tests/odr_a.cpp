// Two translation units include every core header; linking them proves there is no ODR violation
// (non-inline functions or variables defined in a header would fail to link).
#include <slotdiff/slotdiff.hpp>

#include <vector>

std::size_t odr_unit_a() {
  slotdiff::gapped_slots<slotdiff::side_layout> seq{1, 2, 3};
  std::vector<slotdiff::insertion> step{{0, 9}};
  seq.apply(step);
  return seq.size();
}
