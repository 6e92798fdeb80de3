// fuzz/fuzz_cli_options.cpp: libFuzzer target for the `slotdiff` program's option parsing.
//
// The input is a command line, one argument per line ("noise\n--max-tokens\n5x\n"); the program name
// is prepended. It goes through check_command_line (tools/cli/main.cpp): CLI11's tokenising, every
// option's checked parser (tools/cli/options.hpp) and every command's combination checks, without
// running anything. A refusal is a CLI::ParseError or a slotdiff::error; anything else escaping (a
// std::out_of_range from a substr, a bad_alloc, a sanitizer report) is a finding. Each argument is
// also fed to the value parsers directly, and what they accept is checked against their contract:
// parse_count accepts exactly the digit strings whose value is in range, parse_number only finite
// values in range, parse_choice only a listed choice.
//
// Build (clang-14, libclang-rt-14-dev): fuzz/cli_options.cmake with -DSLOTDIFF_BUILD_FUZZERS=ON; seeds
// in fuzz/corpus/cli_options/.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "fuzz_common.hpp"
#include "options.hpp"

namespace {

using slotdiff::fuzz::check;

void check_value_parsers(const std::string& v) {
  namespace cli = slotdiff::cli;
  const bool digits = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos;
  try {
    const std::uint64_t x = cli::parse_count("--n", v, {.min = 2, .max = 1000});
    std::string bare = v.substr(std::min(v.find_first_not_of('0'), v.size() - 1));
    check(digits && x >= 2 && x <= 1000 && std::to_string(x) == bare, "parse_count accepted a value outside its contract");
  } catch (const slotdiff::error&) {
    if (digits && v.size() < 18) {
      const auto x = std::stoull(v);
      check(x < 2 || x > 1000, "parse_count refused a digit string in range");
    }
  }
  try {
    const double x = cli::parse_number("--x", v, {.min = 0, .max = 1, .max_open = true});
    check(std::isfinite(x) && x >= 0 && x < 1 && std::isfinite(static_cast<float>(x)),
          "parse_number accepted a value outside its contract");
  } catch (const slotdiff::error&) {
  }
  try {
    const std::string c = cli::parse_choice("--c", v, {"side", "gap"});
    check(c == v && (c == "side" || c == "gap"), "parse_choice accepted an unlisted value");
  } catch (const slotdiff::error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = slotdiff::fuzz::as_text(data, size);
  std::vector<std::string> args{"slotdiff"};
  for (std::size_t start = 0; start <= text.size() && args.size() < 64;) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    args.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (args.size() > 1 && args.back().empty()) args.pop_back();  // a final newline ends the last argument
  for (std::size_t i = 1; i < args.size(); ++i) check_value_parsers(args[i]);
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    slotdiff::cli::check_command_line(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError&) {
  } catch (const slotdiff::error&) {
  }
  return 0;
}
