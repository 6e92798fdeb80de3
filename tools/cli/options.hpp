// tools/cli/options.hpp: the one checked parser behind every option of the `slotdiff` program.
//
// Every option value goes through one of the parse_* functions below, bound to its option with the
// matching *_option helper (CLI11 does the tokenising, --help and unknown-option errors; its own
// number conversions are not used: CLI11 2.1 reads "-1" as 2^64-1 into an unsigned and accepts "nan").
// A bad value throws option_error with the message `--NAME: expected ..., got "VALUE"`.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <CLI/CLI.hpp>

#include "slotdiff/error.hpp"

namespace slotdiff::cli {

/// A bad option value, a missing option or a bad combination of options.
class option_error : public options_error {
public:
  using options_error::options_error;
};

/// The closed range a count must lie in.
struct count_limits {
  std::uint64_t min = 0;
  std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
};

/// The range a number must lie in; an open end excludes its bound. NaN and infinities are always refused.
struct number_limits {
  double min = -std::numeric_limits<double>::max();
  double max = std::numeric_limits<double>::max();
  bool min_open = false;
  bool max_open = false;
};

/// `value` as a count: decimal digits only (no sign, space, base prefix or suffix), within `limits`.
/// Complexity O(|value|). Throws option_error naming `option` and `value`.
std::uint64_t parse_count(std::string_view option, std::string_view value, count_limits limits = {});

/// `value` as a finite decimal number ("0.5", "1e-3", "-2"; not "nan", "inf", "0x1p3" or "5x"),
/// within `limits`, and representable as a float when `as_float`. Throws option_error naming
/// `option` and `value`.
double parse_number(std::string_view option, std::string_view value, number_limits limits = {}, bool as_float = true);

/// `value` if it is one of `choices`. Throws option_error listing them.
std::string parse_choice(std::string_view option, std::string_view value, const std::vector<std::string>& choices);

/// `value` if it is not empty (a path, a word list, ...). Throws option_error.
std::string parse_text(std::string_view option, std::string_view value);

/// "0.5" for 0.5f, "1e-05" for 1e-5: the shortest text that reads back as `x` (for --help's defaults).
std::string format_number(double x);

// ---- binding options to settings ------------------------------------------------------------------
// Each adds `name` ("--x" or "-x,--x") to `app` with the help text `help`, shows the target's current
// value as the default, and on parse stores the checked value into `target` (the last one when the
// option is repeated). `target` must outlive the parse.

template <class T>
CLI::Option* count_option(CLI::App& app, const std::string& name, T& target, const std::string& help,
                          count_limits limits = {}) {
  static_assert(std::is_unsigned_v<T>);
  limits.max = std::min<std::uint64_t>(limits.max, std::numeric_limits<T>::max());
  auto* o = app.add_option_function<std::string>(
      name, [&target, name, limits](const std::string& v) { target = static_cast<T>(parse_count(name, v, limits)); },
      help);
  return o->type_name("N")->default_str(std::to_string(target));
}

template <class T>
CLI::Option* number_option(CLI::App& app, const std::string& name, T& target, const std::string& help,
                           number_limits limits = {}) {
  static_assert(std::is_floating_point_v<T>);
  auto* o = app.add_option_function<std::string>(
      name,
      [&target, name, limits](const std::string& v) {
        target = static_cast<T>(parse_number(name, v, limits, std::is_same_v<T, float>));
      },
      help);
  return o->type_name("X")->default_str(format_number(static_cast<double>(target)));
}

/// One of `choices`; the default shown is the target's current value.
CLI::Option* choice_option(CLI::App& app, const std::string& name, std::string& target, std::vector<std::string> choices,
                           const std::string& help);

/// Any non-empty text (a path, a list to split later).
CLI::Option* text_option(CLI::App& app, const std::string& name, std::string& target, const std::string& help);

/// A repeatable option: each occurrence appends one non-empty value.
CLI::Option* list_option(CLI::App& app, const std::string& name, std::vector<std::string>& target, const std::string& help);

/// Makes `app` a subcommand in the house style: options may repeat (the last wins), --help column width.
void house_style(CLI::App& app);

}  // namespace slotdiff::cli
