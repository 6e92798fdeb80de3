// tools/cli/main.cpp: `slotdiff <command> [options]`, dispatching to one file per subcommand.
#include <charconv>
#include <cstdio>
#include <exception>
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
  out << "usage: slotdiff <command> [options]   (slotdiff <command> --help for its options)\n\ncommands:\n";
  for (const auto& c : commands) out << "  " << c.name << std::string(10 - c.name.size(), ' ') << c.summary << '\n';
  return 2;
}

}  // namespace
}  // namespace slotdiff::cli

int main(int argc, char** argv) {
  using namespace slotdiff::cli;
  if (argc < 2) return usage(std::cerr);
  const std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") return usage(std::cout), 0;
  std::vector<std::string_view> args(argv + 2, argv + argc);
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
