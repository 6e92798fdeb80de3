// Helpers shared by the reference tests: temporary files and hand-made safetensors files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <unistd.h>

namespace st_test {

/// A unique path in the temp folder, removed on destruction.
struct temp_file {
  std::filesystem::path path;
  explicit temp_file(const std::string& stem) {
    static std::mt19937_64 g{std::random_device{}()};
    path = std::filesystem::temp_directory_path() /
           ("slotdiff-ref-" + std::to_string(::getpid()) + "-" + stem + "-" + std::to_string(g() % 1000000000) + ".bin");
  }
  ~temp_file() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
};

inline void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// 8-byte little-endian length, the header text, the data.
inline std::string safetensors_bytes(const std::string& header, const std::string& data, std::uint64_t declared = ~0ull) {
  const std::uint64_t n = declared == ~0ull ? header.size() : declared;
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

}  // namespace st_test
