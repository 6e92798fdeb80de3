// tools/cli/main.cpp: `slotdiff <command> [options]`, dispatching to one file per subcommand.
//
// The one place where errors are reported: run_program catches everything a command throws
// (slotdiff::error, CLI11's parse errors, std::filesystem::filesystem_error, std::bad_alloc, any
// std::exception) and prints one line, `slotdiff COMMAND: error: MESSAGE`, exit status 1. After a
// command returns, stdout is flushed and checked, so a full disk or a closed pipe is an error too.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "options.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/io/atomic_file.hpp"

namespace slotdiff::cli {

// ---- the subcommands --------------------------------------------------------------------------------
// To add one: declare `std::function<int()> NAME_command(CLI::App&)` in commands.hpp, define it in
// NAME.cpp (listed in CMakeLists.txt), and add a line here.
namespace {
struct command {
  std::string_view name;
  command_fn define;
  std::string_view summary;
};

constexpr command commands[] = {
    {"noise", noise_command, "noise text lines into trajectories (JSONL or .npy training shards)"},
    {"vocab", vocab_command, "build a word vocabulary file from text"},
    {"generate", generate_command, "grow sentences from keywords (or from nothing) with a model"},
    {"ngram", ngram_command, "train the n-gram insertion model and measure it on held-out text"},
    {"eval", eval_command, "the keyword-to-sentence benchmark: models, references and a random floor in one table"},
    {"embed", embed_command, "build the SIF sentence embedder that noise --scorer shift|dynamic reads"},
    {"trace", trace_command, "one sentence noised and grown back: underscores diagrams, or one HTML page (--html OUT)"},
};
}  // namespace

// ---- helpers the commands share ---------------------------------------------------------------------

std::vector<std::string> read_lines(std::string_view path) {
  std::vector<std::string> lines;
  auto slurp = [&](std::istream& in) {
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF
      lines.push_back(std::move(line));
    }
    // A UTF-8 byte-order mark is not part of the first word.
    if (!lines.empty() && lines[0].starts_with("\xEF\xBB\xBF")) lines[0].erase(0, 3);
  };
  if (path == "-") {
    slurp(std::cin);
    if (std::cin.bad()) throw file_format_error("read error on stdin");
  } else {
    std::error_code ec;
    if (std::filesystem::is_directory(std::filesystem::path(path), ec))
      throw input_error("cannot read " + std::string(path) + ": it is a folder");
    std::ifstream in{std::string(path), std::ios::binary};
    if (!in) throw input_error("cannot open input " + std::string(path) + ": " + std::strerror(errno));
    slurp(in);
    if (in.bad()) throw file_format_error("read error on " + std::string(path));
  }
  return lines;
}

void check_written(std::ostream& out, std::string_view what) {
  // A write that failed before this call left its reason in errno; only a write error is trusted
  // (errno may also hold an unrelated, older failure).
  const int earlier = errno;
  const bool write_errno = earlier == ENOSPC || earlier == EPIPE || earlier == EIO || earlier == EFBIG ||
                           earlier == EDQUOT || earlier == EBADF;
  bool failed = !out;
  errno = 0;
  if (!failed) {
    out.flush();
    failed = !out;
  }
  if (&out == &std::cout && (std::fflush(stdout) != 0 || std::ferror(stdout))) failed = true;
  const int why = errno != 0 ? errno : write_errno ? earlier : 0;
  if (failed) throw file_write_error("cannot write to " + std::string(what) + (why != 0 ? std::string(": ") + std::strerror(why) : ""));
}

// The library decides what is renamed over and what is written in place (io/atomic_file.hpp), so the
// program and write_file_atomically never disagree about a path (a link through /proc, such as
// /dev/stdout redirected to a file, is written in place by both). A folder, or a chain of more than
// 40 links, has no target here either: the caller's own open then fails naming the path.
std::optional<std::string> atomic_target(const std::string& path) {
  try {
    const detail::atomic_target t = detail::resolve_atomic_target(path);
    if (!t.in_place) return t.file.string();
  } catch (const file_write_error&) {
  }
  return std::nullopt;
}

// Model, vocabulary and embedder files are refused on a device or a pipe instead of written in place
// as the library would: their promise is "whole or not at all", which only a rename keeps, and a
// reader given half a model fails later and farther from the cause.
std::string check_output_file(std::string_view option, const std::string& path) {
  if (auto t = atomic_target(path)) return *t;
  throw option_error(std::string(option) + ": " + path +
                     " is not a regular file (a device, a pipe or a link to one); this output is written to a "
                     "temporary file that is then renamed onto its name, so give a file name");
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
      throw options_error("--data-dir " + g_data_root_option.string() + " holds no " SLOTDIFF_VOCAB_FILE);
    return g_data_root_option;
  }
  if (const char* env = std::getenv("SLOTDIFF_DATA_DIR"); env && *env) {
    if (!holds_data(env)) throw options_error(std::string("SLOTDIFF_DATA_DIR=") + env + " holds no " SLOTDIFF_VOCAB_FILE);
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

// ---- the program ------------------------------------------------------------------------------------
namespace {

int usage(std::ostream& out) {
  out << "usage: slotdiff [--data-dir DIR] <command> [options]   (slotdiff <command> --help for its options)\n"
         "       slotdiff --version\n\ncommands:\n";
  for (const auto& c : commands) out << "  " << c.name << std::string(10 - c.name.size(), ' ') << c.summary << '\n';
  out << "\n--data-dir DIR: the folder holding data/ and models/ (default: $SLOTDIFF_DATA_DIR, then\n"
         "<prefix>/share/slotdiff next to the program, then the source tree it was built from)\n";
  return 2;
}

void print_version() {
  std::cout << "slotdiff " SLOTDIFF_VERSION "\n";
  try {
    const auto root = data_root();
    std::cout << "data: " << root.string()
              << (holds_data(root) ? "" : " (missing: pass --data-dir DIR or set SLOTDIFF_DATA_DIR to the folder "
                                          "holding data/ and models/, installed as <prefix>/share/slotdiff)")
              << '\n';
  } catch (const error& e) {
    std::cout << "data: " << e.what() << '\n';
  }
}

/// The subcommand named on the command line (the first word that is not an option or --data-dir's
/// value), or "" when there is none.
std::string_view command_word(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--data-dir") {
      ++i;
      continue;
    }
    if (!a.starts_with("-")) return a;
  }
  return {};
}

/// The program's option tree and what each subcommand runs.
struct program {
  CLI::App app{"slotdiff: insertion-based text diffusion", "slotdiff"};
  std::vector<std::pair<CLI::App*, std::function<int()>>> runs;
  bool version = false;

  program() {
    house_style(app);
    app.set_help_flag("-h,--help", "print this help and exit");
    app.add_option_function<std::string>(
           "--data-dir", [](const std::string& v) { g_data_root_option = parse_text("--data-dir", v); },
           "the folder holding data/ and models/")
        ->type_name("DIR");
    app.add_flag("--version", version, "print the version and the data folder");
    app.require_subcommand(0, 1);
    app.fallthrough();  // --data-dir may also follow the command
    for (const auto& c : commands) {
      CLI::App* sub = app.add_subcommand(std::string(c.name), std::string(c.summary));
      house_style(*sub);
      sub->set_help_flag("-h,--help", "print this help and exit");
      runs.emplace_back(sub, c.define(*sub));
    }
  }
};

int report(std::string_view command, const std::string& message) {
  std::cerr << "slotdiff" << (command.empty() ? "" : " ") << command << ": error: " << message << '\n';
  return 1;
}

}  // namespace

void check_command_line(int argc, const char* const* argv) {
  program p;
  try {
    p.app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
  } catch (const CLI::CallForAllHelp&) {
  }
}

int run_program(int argc, const char* const* argv) {
  const std::string_view name = command_word(argc, argv);
  std::string_view shown = name;  // the command named in messages: only a real one
  if (std::none_of(std::begin(commands), std::end(commands), [&](const command& c) { return c.name == name; })) shown = {};
  try {
    if (argc <= 1) return usage(std::cerr);
    if (name == "help") {
      usage(std::cout);
      check_written(std::cout, "stdout");
      return 0;
    }
    if (!name.empty() && shown.empty()) {
      report({}, "unknown command \"" + std::string(name) + "\"");
      return usage(std::cerr);
    }
    program p;
    try {
      p.app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
      if (p.app.get_subcommands().empty()) usage(std::cout);
      else std::cout << p.app.help();
      check_written(std::cout, "stdout");
      return 0;
    } catch (const CLI::CallForAllHelp&) {
      std::cout << p.app.help("", CLI::AppFormatMode::All);
      check_written(std::cout, "stdout");
      return 0;
    } catch (const CLI::ParseError& e) {
      return report(shown, std::string(e.what()) + " (see slotdiff " + std::string(shown) + (shown.empty() ? "" : " ") +
                               "--help)");
    }
    int rc = 0;
    if (p.app.get_subcommands().empty()) {
      if (!p.version) return usage(std::cerr);
      print_version();
    } else {
      for (auto& [sub, run] : p.runs)
        if (sub->parsed()) rc = run();
    }
    check_written(std::cout, "stdout");
    return rc;
  } catch (const std::bad_alloc&) {
    return report(shown, "out of memory");
  } catch (const std::filesystem::filesystem_error& e) {
    // "filesystem error: cannot create directories: Permission denied [/x]" without its first words
    std::string m = e.what();
    if (m.starts_with("filesystem error: ")) m.erase(0, 18);
    return report(shown, m);
  } catch (const std::exception& e) {
    return report(shown, e.what());
  } catch (...) {
    return report(shown, "unknown exception");
  }
}

}  // namespace slotdiff::cli

#ifndef SLOTDIFF_CLI_NO_MAIN
int main(int argc, char** argv) { return slotdiff::cli::run_program(argc, argv); }
#endif
