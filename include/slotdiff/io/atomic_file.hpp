// slotdiff/io/atomic_file.hpp: writing a file under its final name all at once or not at all.
//
// Every slotdiff writer that produces a named file (vocabulary, unigram model, n-gram model, word
// vectors, SIF embedder, .npy shards) goes through write_file_atomically: the content is written to a
// temporary file in the same folder, flushed and closed, and only then renamed over the final name
// (POSIX rename(2) replaces the target atomically within one file system). A writer that throws, a
// full disk, or a process killed halfway leaves the final name as it was (absent, or the previous
// complete file); the temporary is removed on every error the process survives. Two processes
// writing the same path race harmlessly: the last rename wins, and each file is whole.
//
// What it does not promise: durability across a power loss (no fsync), and a temporary left behind
// when the process is killed (its name is "<final name>.tmp.<random>", safe to delete).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <random>
#include <string>
#include <system_error>
#include <utility>

#include "slotdiff/error.hpp"

namespace slotdiff {

/// A file that could not be written (the message names the final path and what failed).
class file_write_error : public error {
public:
  using error::error;
};

namespace detail {

/// A temporary name beside `path`, unique within this process and very likely across processes.
inline std::filesystem::path temporary_beside(const std::filesystem::path& path) {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::uint64_t salt = [] {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) ^ rd();
  }();
  const std::uint64_t n = salt + counter.fetch_add(1, std::memory_order_relaxed);
  static constexpr char digits[] = "0123456789abcdef";
  std::string tag(16, '0');
  for (std::size_t i = 0; i < 16; ++i) tag[i] = digits[(n >> (60 - 4 * i)) & 15];
  return std::filesystem::path(path.string() + ".tmp." + tag);
}

}  // namespace detail

/// Calls body(std::ostream&) to write the content of `path`, into a temporary file beside it that is
/// renamed to `path` once the body returned and every byte reached the file (see the header comment).
/// Throws: file_write_error naming `path` if the temporary cannot be created, a write fails (disk
/// full, ...) or the rename fails; whatever `body` throws, unchanged. In every case `path` is left
/// as it was and the temporary is removed.
/// Complexity: that of body, plus one rename.
template <class Body>
void write_file_atomically(const std::filesystem::path& path, Body&& body) {
  const std::filesystem::path tmp = detail::temporary_beside(path);
  auto discard = [&] {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
  };
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw file_write_error("cannot write " + path.string() + ": cannot create the temporary file " + tmp.string());
    try {
      body(static_cast<std::ostream&>(out));
    } catch (...) {
      out.close();
      discard();
      throw;
    }
    out.flush();
    const bool written = static_cast<bool>(out);
    out.close();
    if (!written || !out) {
      discard();
      throw file_write_error("cannot write " + path.string() + ": writing failed (disk full?); the file was left as it was");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    discard();
    throw file_write_error("cannot write " + path.string() + ": cannot rename the temporary file onto it: " + ec.message());
  }
}

}  // namespace slotdiff
