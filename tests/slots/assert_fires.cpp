// Built with SLOTDIFF_ENABLE_ASSERTS=1: reading past the end must stop the program with the failed
// condition on stderr (tests/slots/CMakeLists.txt checks the message and the failure).
#include <slotdiff/slots.hpp>

#include <cstdio>

int main(int argc, char**) {
  const slotdiff::vector_slots<slotdiff::side_layout> seq{1, 2, 3};
  const std::size_t past_the_end = 2 + static_cast<std::size_t>(argc);  // 3 when run without arguments
  std::printf("token %d\n", static_cast<int>(seq.token(past_the_end)));
  return 0;
}
