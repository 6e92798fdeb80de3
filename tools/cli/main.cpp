// tools/cli/main.cpp: `slotdiff <command> [options]`, dispatching to one file per subcommand.
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <system_error>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "slotdiff/error.hpp"

namespace slotdiff::cli {

std::vector<std::string> read_lines(std::string_view path) {
  std::vector<std::string> lines;
  auto slurp = [&](std::istream& in) {
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(std::move(line));
    }
  };
  if (path == "-") {
    slurp(std::cin);
  } else {
    std::ifstream in{std::string(path), std::ios::binary};
    if (!in) throw error("cannot open input " + std::string(path));
    slurp(in);
    if (in.bad()) throw error("read error on " + std::string(path));
  }
  return lines;
}

std::size_t parse_count(std::string_view option, std::string_view value) {
  std::size_t x = 0;
  const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), x);
  if (value.empty() || ec != std::errc{} || p != value.data() + value.size())
    throw error(std::string(option) + ": expected a count, got \"" + std::string(value) + "\"");
  return x;
}

float parse_number(std::string_view option, std::string_view value) {
  float x = 0;
  const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), x);
  if (value.empty() || ec != std::errc{} || p != value.data() + value.size())
    throw error(std::string(option) + ": expected a number, got \"" + std::string(value) + "\"");
  return x;
}

// ---- where the bundled data and models are ----------------------------------------------------------
// The folder holding data/ and models/, first match wins: --data-dir DIR (anywhere on the command
// line), $SLOTDIFF_DATA_DIR, ../share/slotdiff next to this binary (an installed tree), the source
// tree this binary was built from. An explicit folder without the data is an error.
namespace {
std::filesystem::path g_data_root_option;

bool holds_data(const std::filesystem::path& dir) {
  std::error_code ec;
  return std::filesystem::exists(dir / SLOTDIFF_VOCAB_FILE, ec);
}
}  // namespace

std::filesystem::path data_root() {
  if (!g_data_root_option.empty()) {
    if (!holds_data(g_data_root_option))
      throw error("--data-dir " + g_data_root_option.string() + " holds no " SLOTDIFF_VOCAB_FILE);
    return g_data_root_option;
  }
  if (const char* env = std::getenv("SLOTDIFF_DATA_DIR"); env && *env) {
    if (!holds_data(env)) throw error(std::string("SLOTDIFF_DATA_DIR=") + env + " holds no " SLOTDIFF_VOCAB_FILE);
    return env;
  }
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto installed = exe.parent_path().parent_path() / "share" / "slotdiff";
    if (holds_data(installed)) return installed;
  }
  // Last resort, also when it is gone: loading a file from it then fails naming the path.
  return SLOTDIFF_SOURCE_ROOT;
}
std::string default_vocab_path() { return (data_root() / SLOTDIFF_VOCAB_FILE).string(); }
std::string default_model_path() { return (data_root() / SLOTDIFF_MODEL_FILE).string(); }
std::string default_model_vocab_path() { return (data_root() / SLOTDIFF_MODEL_VOCAB_FILE).string(); }
std::string default_corpus_path() { return (data_root() / SLOTDIFF_CORPUS_FILE).string(); }
std::string default_embedder_path() { return (data_root() / SLOTDIFF_EMBEDDER_FILE).string(); }

namespace {

struct command {
  std::string_view name;
  command_fn run;
  std::string_view summary;
};

// One line per subcommand.
constexpr command commands[] = {
    {"noise", noise_command, "noise text lines into trajectories (JSONL or .npy training shards)"},
    {"vocab", vocab_command, "build a word vocabulary file from text"},
    {"generate", generate_command, "grow sentences from keywords (or from nothing) with a model"},
    {"ngram", ngram_command, "train the n-gram insertion model and measure it on held-out text"},
    {"eval", eval_command, "the keyword-to-sentence benchmark: models, references and a random floor in one table"},
    {"embed", embed_command, "build the SIF sentence embedder that noise --scorer shift|dynamic reads"},
};

int usage(std::ostream& out) {
  out << "usage: slotdiff [--data-dir DIR] <command> [options]   (slotdiff <command> --help for its options)\n"
         "       slotdiff --version\n\ncommands:\n";
  for (const auto& c : commands) out << "  " << c.name << std::string(10 - c.name.size(), ' ') << c.summary << '\n';
  return 2;
}

}  // namespace
}  // namespace slotdiff::cli

int main(int argc, char** argv) {
  using namespace slotdiff::cli;
  std::vector<std::string_view> all(argv + 1, argv + argc);
  for (std::size_t i = 0; i < all.size(); ++i) {  // --data-dir DIR, before or after the command
    if (all[i] != "--data-dir") continue;
    if (i + 1 == all.size()) return std::cerr << "slotdiff: --data-dir needs a folder\n", 2;
    g_data_root_option = std::string(all[i + 1]);
    all.erase(all.begin() + static_cast<std::ptrdiff_t>(i), all.begin() + static_cast<std::ptrdiff_t>(i) + 2);
    break;
  }
  if (all.empty()) return usage(std::cerr);
  const std::string_view name = all[0];
  if (name == "--help" || name == "-h" || name == "help") return usage(std::cout), 0;
  if (name == "--version") {
    std::cout << "slotdiff " SLOTDIFF_VERSION "\n";
    try {
      const auto root = data_root();
      std::cout << "data: " << root.string()
                << (holds_data(root) ? "" : " (missing: pass --data-dir DIR or set SLOTDIFF_DATA_DIR to the folder "
                                            "holding data/ and models/, installed as <prefix>/share/slotdiff)")
                << '\n';
    } catch (const std::exception& e) {
      std::cout << "data: " << e.what() << '\n';
    }
    return 0;
  }
  std::vector<std::string_view> args(all.begin() + 1, all.end());
  for (const auto& c : commands) {
    if (c.name != name) continue;
    try {
      return c.run(args);
    } catch (const std::exception& e) {
      std::cerr << "slotdiff " << name << ": error: " << e.what() << '\n';
      return 1;
    }
  }
  std::cerr << "slotdiff: unknown command \"" << name << "\"\n";
  return usage(std::cerr);
}
