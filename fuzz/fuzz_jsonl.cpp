// Fuzz target: read_jsonl_stream for both layouts (JSONL trajectories). What it accepts must write back
// and re-read to the same trajectories, and every state and target row must be computable.
#include <sstream>
#include <vector>

#include "fuzz_common.hpp"
#include "slotdiff/io/jsonl.hpp"
#include "slotdiff/slots/layout.hpp"

namespace {
template <class Layout>
void one(const std::string& bytes) {
  using namespace slotdiff;
  fuzz::refusal_ok([&] {
    std::istringstream in(bytes);
    const auto trs = read_jsonl_stream<Layout>(in, "fuzz");
    std::stringstream again;
    for (std::size_t i = 0; i < trs.size(); ++i) write_jsonl(again, trs[i], i);
    fuzz::check(read_jsonl_stream<Layout>(again, "fuzz round trip") == trs, "jsonl round trip");
    for (const auto& tr : trs)
      for (step_index t = 0; t < tr.steps(); ++t) {
        const auto x = tr.state(t + 1);
        fuzz::check(tr.targets(t).size() == Layout::slot_count(x.size()), "jsonl: target row size");
      }
  });
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(slotdiff::fuzz::as_text(data, size));
  one<slotdiff::side_layout>(bytes);
  one<slotdiff::gap_layout>(bytes);
  return 0;
}
