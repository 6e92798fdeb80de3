// Fuzz target: safetensors_file::open, then, when the metadata describes a reference model,
// reference_config::from_metadata and read_reference_tensors (the reference denoiser's loader).
// The bytes go through an in-memory file (memfd) because the reader maps a path.
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <string>

#include "fuzz_common.hpp"
#include "slotdiff/backends/reference/config.hpp"
#include "slotdiff/backends/reference/tensors.hpp"
#include "slotdiff/io/safetensors.hpp"

namespace {
int memory_file() {
  static const int fd = ::memfd_create("slotdiff-fuzz", 0);
  return fd;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace slotdiff;
  const int fd = memory_file();
  fuzz::check(fd >= 0, "memfd_create failed");
  fuzz::check(::ftruncate(fd, 0) == 0 && ::lseek(fd, 0, SEEK_SET) == 0, "memfd reset failed");
  for (std::size_t done = 0; done < size;) {
    const ssize_t n = ::write(fd, data + done, size - done);
    fuzz::check(n > 0, "memfd write failed");
    done += static_cast<std::size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  fuzz::refusal_ok([&] {
    const auto f = safetensors_file::open(path);
    std::size_t total = 0;
    for (const auto& t : f.tensors()) {
      fuzz::check(t.bytes.size() == t.end - t.begin, "safetensors: view size");
      fuzz::check(t.element_count() * st_dtype_size(t.dtype) == t.bytes.size(), "safetensors: shape and bytes disagree");
      total += t.bytes.size();
    }
    fuzz::check(total <= size, "safetensors: tensors claim more bytes than the file has");
    const reference_config c = reference_config::from_metadata(f.metadata(), "fuzz");
    fuzz::check(std::isfinite(c.norm_eps) && c.norm_eps > 0 && std::isfinite(c.rope_base), "reference config: bad real");
    read_reference_tensors(f, c, "fuzz", [&](const reference_tensor_spec&, std::span<const float> v) {
      for (float x : v) fuzz::check(std::isfinite(x), "reference tensors: non-finite value handed out");
    });
  });
  return 0;
}
