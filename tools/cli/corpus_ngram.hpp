// tools/cli/corpus_ngram.hpp: where the CLI finds the bundled corpus and caches its n-gram model.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace slotdiff::cli {

std::string default_corpus_path();

/// The bundled training text: the fluent corpus's training split (docs/corpus.md).
inline std::vector<std::string> bundled_corpus() { return {default_corpus_path()}; }

/// Where `generate` caches the model it trains: $XDG_CACHE_HOME/slotdiff, ~/.cache/slotdiff, or the
/// temp folder; the name holds the layout and a hash of the vocabulary's and the corpus files' sizes.
inline std::filesystem::path default_model_cache(std::string_view layout, const std::vector<std::string>& corpus,
                                                 const std::string& vocab) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::uint64_t v) { h = (h ^ v) * 1099511628211ull; };
  for (const auto& p : corpus) mix(std::filesystem::exists(p) ? std::filesystem::file_size(p) : 0);
  mix(std::filesystem::exists(vocab) ? std::filesystem::file_size(vocab) : 0);
  std::filesystem::path dir;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) dir = std::filesystem::path(x) / "slotdiff";
  else if (const char* home = std::getenv("HOME"); home && *home) dir = std::filesystem::path(home) / ".cache" / "slotdiff";
  else dir = std::filesystem::temp_directory_path() / "slotdiff";
  char name[80];
  std::snprintf(name, sizeof name, "ngram-%s-k8t05-%016llx.bin", std::string(layout).c_str(), static_cast<unsigned long long>(h));
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
