// tools/cli/corpus_ngram.hpp: where the CLI finds the bundled corpus and caches its n-gram model.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <string>
#include <vector>

#include <boost/crc.hpp>

#include "slotdiff/pipeline/ngram_from_text.hpp"

namespace slotdiff::cli {

std::string default_corpus_path();

/// The bundled training text: the fluent corpus's training split (docs/corpus.md).
inline std::vector<std::string> bundled_corpus() { return {default_corpus_path()}; }

/// The CRC-64 (the XZ polynomial, boost::crc_optimal) of the bytes of `files` in order, each followed by
/// its length, then of `extra`: a cache key that changes when any byte does (a reordered vocabulary
/// of the same size included). A file that cannot be read contributes its name and ~0.
/// Complexity: O(total bytes), read 64 KiB at a time.
inline std::uint64_t content_key(const std::vector<std::string>& files, std::string_view extra = {}) {
  boost::crc_optimal<64, 0x42F0E1EBA9EA3693ull, ~0ull, ~0ull, true, true> crc;
  std::vector<char> buf(1 << 16);
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::uint64_t n = 0;
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      const auto got = static_cast<std::size_t>(in.gcount());
      crc.process_bytes(buf.data(), got);
      n += got;
    }
    if (!in.eof()) {  // unreadable: the key still differs from any readable content
      crc.process_bytes(f.data(), f.size());
      n = ~std::uint64_t{0};
    }
    crc.process_bytes(&n, sizeof n);
  }
  crc.process_bytes(extra.data(), extra.size());
  return crc.checksum();
}

/// Where `generate` caches the model it trains: $XDG_CACHE_HOME/slotdiff, ~/.cache/slotdiff, or the
/// temp folder; the name holds the layout and content_key of the vocabulary's and the corpus files'
/// bytes and of the training recipe (augmented_ngram_recipe).
inline std::filesystem::path default_model_cache(std::string_view layout, const std::vector<std::string>& corpus,
                                                 const std::string& vocab) {
  std::vector<std::string> files{vocab};
  files.insert(files.end(), corpus.begin(), corpus.end());
  const ngram_text_options r = augmented_ngram_recipe();
  const std::string recipe = "k" + std::to_string(r.trajectories) + " t" + std::to_string(r.noise.temperature) + " d" +
                             std::to_string(r.ngram.discount) + " s" + std::to_string(r.noise.seed) + " " +
                             r.noise.schedule.to_string();
  const std::uint64_t h = content_key(files, recipe);
  std::filesystem::path dir;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) dir = std::filesystem::path(x) / "slotdiff";
  else if (const char* home = std::getenv("HOME"); home && *home) dir = std::filesystem::path(home) / ".cache" / "slotdiff";
  else dir = std::filesystem::temp_directory_path() / "slotdiff";
  char name[80];
  std::snprintf(name, sizeof name, "ngram-%s-%016llx.bin", std::string(layout).c_str(), static_cast<unsigned long long>(h));
  return dir / name;
}

/// Every line of every file.
std::vector<std::string> read_lines(std::string_view path);
inline std::vector<std::string> read_all(const std::vector<std::string>& files) {
  std::vector<std::string> all;
  for (const auto& f : files) {
    auto lines = read_lines(f);
    all.insert(all.end(), std::make_move_iterator(lines.begin()), std::make_move_iterator(lines.end()));
  }
  return all;
}

}  // namespace slotdiff::cli
