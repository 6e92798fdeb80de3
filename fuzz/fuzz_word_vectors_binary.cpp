// Fuzz target: word_vectors::read_binary (the SDWV binary format). What it accepts must write back to
// the same bytes.
#include <sstream>

#include "fuzz_common.hpp"
#include "slotdiff/embed/word_vectors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace slotdiff;
  fuzz::refusal_ok([&] {
    const std::string bytes(fuzz::as_text(data, size));
    std::istringstream in(bytes, std::ios::binary);
    const word_vectors v = word_vectors::read_binary(in, "fuzz");
    std::ostringstream again(std::ios::binary);
    v.write_binary(again);
    fuzz::check(bytes.starts_with(again.str()), "word vectors binary: write(read(bytes)) is not a prefix of bytes");
  });
  return 0;
}
