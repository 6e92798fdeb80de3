// Fuzz target: word_vectors::read_text (the .vec text format). What it accepts must write back and
// re-read to the same words and (9-digit round-tripped) values.
#include <cmath>
#include <sstream>

#include "fuzz_common.hpp"
#include "slotdiff/embed/word_vectors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace slotdiff;
  fuzz::refusal_ok([&] {
    std::istringstream in{std::string(fuzz::as_text(data, size))};
    const word_vectors v = word_vectors::read_text(in, "fuzz");
    fuzz::check(v.data().size() <= size, "word vectors: more values than input bytes");
    std::stringstream again;
    v.write_text(again);
    const word_vectors back = word_vectors::read_text(again, "fuzz round trip");
    fuzz::check(back.words() == v.words() && back.dimension() == v.dimension(), "word vectors text round trip: words");
    for (std::size_t i = 0; i < v.data().size(); ++i)
      fuzz::check(back.data()[i] == v.data()[i], "word vectors text round trip: values");
  });
  return 0;
}
