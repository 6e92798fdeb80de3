// Fuzz target: read_npy (the .npy arrays of a training shard). What it accepts must hold exactly
// element_count() * item_size() bytes and convert to the element type its dtype names.
#include <sstream>

#include "fuzz_common.hpp"
#include "slotdiff/io/npy_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace slotdiff;
  fuzz::refusal_ok([&] {
    std::istringstream in(std::string(fuzz::as_text(data, size)), std::ios::binary);
    const npy_array a = read_npy(in, "fuzz", {.max_header_bytes = 4096});
    fuzz::check(a.data.size() == a.element_count() * a.item_size(), "npy: data size");
    fuzz::check(a.data.size() <= size, "npy: more data than input");
    const std::string_view kind = std::string_view(a.descr).substr(1);
    if (kind == "i4") fuzz::check(a.values<std::int32_t>().size() == a.element_count(), "npy: i4 values");
    if (kind == "i8") fuzz::check(a.values<std::int64_t>().size() == a.element_count(), "npy: i8 values");
    if (kind == "f4") fuzz::check(a.values<float>().size() == a.element_count(), "npy: f4 values");
    if (kind == "u1") fuzz::check(a.values<std::uint8_t>().size() == a.element_count(), "npy: u1 values");
    if (kind == "b1") (void)a.values<bool>();
  });
  return 0;
}
