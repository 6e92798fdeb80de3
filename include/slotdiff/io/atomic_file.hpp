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
//
// Targets that are not regular files are never renamed over: a device, a pipe or a socket
// (`/dev/full`, `/dev/stdout`, a FIFO), or a symbolic link that passes through /proc (a process's own
// file descriptors), is written in place, so a program run as root cannot replace a device node with
// a regular file. A symbolic link to a regular file is kept: the file it names is replaced. A folder
// is refused.
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

/// Where write_file_atomically puts the content of `path` (see the header comment): the regular file
/// to replace (the target of `path`'s symbolic links, resolved), or, when `in_place`, `path` itself.
struct atomic_target {
  std::filesystem::path file;
  bool in_place = false;
};

/// Resolves `path` as described in the header comment. Throws: file_write_error when `path` is a
/// folder or has more than 40 links in a chain. Complexity: one stat per link.
inline atomic_target resolve_atomic_target(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  fs::path at = path;
  for (int hops = 0;; ++hops) {
    std::error_code ec;
    const fs::file_status link = fs::symlink_status(at, ec);
    if (ec || !fs::is_symlink(link)) break;
    if (hops == 40) throw file_write_error("cannot write " + path.string() + ": more than 40 symbolic links in a chain");
    fs::path next = fs::read_symlink(at, ec);
    if (ec) break;
    if (next.is_relative()) next = at.parent_path() / next;
    if (next.lexically_normal().string().rfind("/proc/", 0) == 0) return {path, true};
    at = next.lexically_normal();
  }
  std::error_code ec;
  const fs::file_status st = fs::status(at, ec);
  if (!ec && fs::is_directory(st)) throw file_write_error("cannot write " + path.string() + ": it is a folder");
  if (!ec && fs::exists(st) && !fs::is_regular_file(st)) return {path, true};
  return {at, false};
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
  const detail::atomic_target target = detail::resolve_atomic_target(path);
  if (target.in_place) {  // a device, a pipe, a socket or a descriptor under /proc: no rename
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw file_write_error("cannot write " + path.string() + ": cannot open it");
    body(static_cast<std::ostream&>(out));
    out.flush();
    if (!out) throw file_write_error("cannot write " + path.string() + ": writing failed (disk full?)");
    return;
  }
  const std::filesystem::path& final_file = target.file;
  const std::filesystem::path tmp = detail::temporary_beside(final_file);
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
  std::filesystem::rename(tmp, final_file, ec);
  if (ec) {
    discard();
    throw file_write_error("cannot write " + path.string() + ": cannot rename the temporary file onto it: " + ec.message());
  }
}

}  // namespace slotdiff
