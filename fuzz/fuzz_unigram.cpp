// Fuzz target: unigram_model::read. What it accepts must write back and re-read to the same counts,
// and its IDF must be finite.
#include <cmath>
#include <sstream>

#include "fuzz_common.hpp"
#include "slotdiff/scoring/unigram.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace slotdiff;
  fuzz::refusal_ok([&] {
    std::istringstream in{std::string(fuzz::as_text(data, size))};
    const unigram_model m = unigram_model::read(in, "fuzz");
    fuzz::check(m.id_bound() <= 65536 + 16 * size, "unigram: table larger than the input justifies");
    std::stringstream again;
    m.write(again);
    const unigram_model back = unigram_model::read(again, "fuzz round trip");
    fuzz::check(back.documents() == m.documents() && back.total_tokens() == m.total_tokens(), "unigram round trip: header");
    fuzz::check(back.id_bound() == m.id_bound(), "unigram round trip: id bound");
    for (token_id t = 0; t < static_cast<token_id>(m.id_bound()); ++t) {
      fuzz::check(back.count(t) == m.count(t) && back.document_frequency(t) == m.document_frequency(t), "unigram round trip");
      fuzz::check(std::isfinite(m.idf(t)), "unigram: idf not finite");
    }
    const idf_scorer idf(m);
    (void)idf;
  });
  return 0;
}
