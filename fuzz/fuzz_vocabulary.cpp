// Fuzz target: tokenizer::read (the vocabulary file). What it accepts must write back and re-read to
// the same words and counts.
#include <sstream>

#include "fuzz_common.hpp"
#include "slotdiff/text/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace slotdiff;
  fuzz::refusal_ok([&] {
    std::istringstream in{std::string(fuzz::as_text(data, size))};
    const tokenizer t = tokenizer::read(in, "fuzz");
    std::stringstream again;
    t.write(again);
    const tokenizer back = tokenizer::read(again, "fuzz round trip");
    fuzz::check(back.size() == t.size(), "vocabulary round trip: size");
    for (token_id i = 0; i < static_cast<token_id>(t.size()); ++i) {
      fuzz::check(back.word(i) == t.word(i) && back.count(i) == t.count(i), "vocabulary round trip: entry");
      fuzz::check(t.find(t.word(i)) == i, "vocabulary: find(word(i)) == i");
    }
    (void)t.decode(t.encode("the cat sat"));
  });
  return 0;
}
