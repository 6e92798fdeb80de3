// tools/cli/options.cpp: the checked option parsers (options.hpp).
#include "options.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <system_error>

namespace slotdiff::cli {
namespace {

/// The value as the user typed it, quoted, cut at 40 bytes (a fuzzer's megabyte stays out of the message).
std::string quoted(std::string_view value) {
  constexpr std::size_t shown = 40;
  std::string q = "\"";
  q.append(value.substr(0, shown));
  if (value.size() > shown) q += "...";
  return q + "\"";
}

[[noreturn]] void refuse(std::string_view option, const std::string& expected, std::string_view value) {
  throw option_error(std::string(option) + ": expected " + expected + ", got " + quoted(value));
}

std::string number_range_text(const number_limits& l) {
  const bool has_min = l.min > -std::numeric_limits<double>::max(), has_max = l.max < std::numeric_limits<double>::max();
  if (has_min && has_max)
    return std::string("a number in ") + (l.min_open ? "(" : "[") + format_number(l.min) + ", " + format_number(l.max) +
           (l.max_open ? ")" : "]");
  if (has_min) return std::string("a number ") + (l.min_open ? "> " : ">= ") + format_number(l.min);
  if (has_max) return std::string("a number ") + (l.max_open ? "< " : "<= ") + format_number(l.max);
  return "a finite number";
}

std::string count_range_text(const count_limits& l) {
  const bool has_max = l.max < std::numeric_limits<std::uint64_t>::max();
  if (has_max) return "a whole number from " + std::to_string(l.min) + " to " + std::to_string(l.max);
  return "a whole number >= " + std::to_string(l.min);
}

}  // namespace

std::uint64_t parse_count(std::string_view option, std::string_view value, count_limits limits) {
  std::uint64_t x = 0;
  const bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits) refuse(option, count_range_text(limits), value);
  const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), x);
  if (ec == std::errc::result_out_of_range || x > limits.max)
    refuse(option, count_range_text(limits) + " (too large)", value);
  if (ec != std::errc{} || p != value.data() + value.size()) refuse(option, count_range_text(limits), value);
  if (x < limits.min) refuse(option, count_range_text(limits), value);
  return x;
}

double parse_number(std::string_view option, std::string_view value, number_limits limits, bool as_float) {
  // from_chars accepts "nan", "inf" and "infinity" (refused below) but no leading '+' or space.
  double x = 0;
  const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), x, std::chars_format::general);
  if (value.empty() || ec != std::errc{} || p != value.data() + value.size() || !std::isfinite(x))
    refuse(option, number_range_text(limits), value);
  if (as_float && !std::isfinite(static_cast<float>(x))) refuse(option, number_range_text(limits) + " (beyond float)", value);
  const bool low = limits.min_open ? !(x > limits.min) : !(x >= limits.min);
  const bool high = limits.max_open ? !(x < limits.max) : !(x <= limits.max);
  if (low || high) refuse(option, number_range_text(limits), value);
  return x;
}

std::string parse_choice(std::string_view option, std::string_view value, const std::vector<std::string>& choices) {
  for (const auto& c : choices)
    if (c == value) return c;
  std::string list;
  for (std::size_t i = 0; i < choices.size(); ++i)
    list += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
  refuse(option, list, value);
}

std::string parse_text(std::string_view option, std::string_view value) {
  if (value.empty()) throw option_error(std::string(option) + ": expected a value, got an empty string");
  return std::string(value);
}

std::string format_number(double x) {
  char buf[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, x);
    if (std::strtod(buf, nullptr) == x || static_cast<float>(std::strtod(buf, nullptr)) == static_cast<float>(x)) break;
  }
  return buf;
}

CLI::Option* choice_option(CLI::App& app, const std::string& name, std::string& target, std::vector<std::string> choices,
                           const std::string& help) {
  std::string type;
  for (const auto& c : choices) type += (type.empty() ? "" : "|") + c;
  auto* o = app.add_option_function<std::string>(
      name, [&target, name, choices](const std::string& v) { target = parse_choice(name, v, choices); }, help);
  return o->type_name(type)->default_str(target);
}

CLI::Option* text_option(CLI::App& app, const std::string& name, std::string& target, const std::string& help) {
  auto* o = app.add_option_function<std::string>(
      name, [&target, name](const std::string& v) { target = parse_text(name, v); }, help);
  o->type_name("TEXT");
  if (!target.empty()) o->default_str(target);
  return o;
}

CLI::Option* list_option(CLI::App& app, const std::string& name, std::vector<std::string>& target, const std::string& help) {
  auto* o = app.add_option_function<std::vector<std::string>>(
      name,
      [&target, name](const std::vector<std::string>& vs) {
        for (const auto& v : vs) target.push_back(parse_text(name, v));
      },
      help);
  return o->type_name("TEXT")->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void house_style(CLI::App& app) {
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.get_formatter()->column_width(30);
}

}  // namespace slotdiff::cli
