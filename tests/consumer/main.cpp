// A program outside the slotdiff tree, built against the installed package.
#include <slotdiff/slotdiff.hpp>

#include <cstdio>
#include <vector>

int main() {
  slotdiff::vector_slots<> seq{10, 20};  // _ 10 _ _ 20 _
  std::vector<slotdiff::insertion> step{{0, 1}, {2, 2}, {3, 3}};
  seq.apply(step);
  const std::vector<slotdiff::token_id> want{1, 10, 2, 20, 3};
  const bool ok = std::vector<slotdiff::token_id>(seq.begin(), seq.end()) == want;
  std::puts(ok ? "consumer: ok" : "consumer: WRONG");
  return ok ? 0 : 1;
}
