// Fuzz target: sif_model::read (the SDSIF embedder file). What it accepts must write back to the same
// bytes and give an embedder whose sentence vectors are finite.
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "slotdiff/embed/sif_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace slotdiff;
  fuzz::refusal_ok([&] {
    const std::string bytes(fuzz::as_text(data, size));
    std::istringstream in(bytes, std::ios::binary);
    const sif_model m = sif_model::read(in, "fuzz");
    std::ostringstream again(std::ios::binary);
    m.write(again);
    fuzz::check(bytes.starts_with(again.str()), "sif: write(read(bytes)) is not a prefix of bytes");
    if (m.size() > 64 || m.dimension() > 256) return;  // keep an iteration fast
    std::vector<std::string> vocab = m.words();
    vocab.push_back("zzz-unknown");
    const sif_embedder e = m.embedder_for(vocab);
    std::vector<token_id> ids;
    for (std::size_t i = 0; i < vocab.size(); ++i) ids.push_back(static_cast<token_id>(i));
    std::vector<float> out(m.dimension());
    e.embed(ids, out);
    for (float x : out) fuzz::check(std::isfinite(x), "sif: a sentence vector is not finite");
  });
  return 0;
}
