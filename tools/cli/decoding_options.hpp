// tools/cli/decoding_options.hpp: the decoding options every generating subcommand accepts
// (`slotdiff eval`, and `slotdiff generate` once it reads its settings from here), parsed in one place
// into the library's decoding_preset, whose values are the defaults.
#pragma once

#include <string>
#include <string_view>

#include "commands.hpp"
#include "slotdiff/denoise/decoding.hpp"
#include "slotdiff/error.hpp"

namespace slotdiff::cli {

/// The help lines of the options parse_decoding_option reads (defaults: decoding_preset{}).
inline std::string decoding_help() {
  const decoding_preset d;
  auto num = [](double x) {
    std::string s = std::to_string(x);
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s;
  };
  return "decoding (shared with generate; defaults from slotdiff/denoise/decoding.hpp):\n"
         "  --temperature T          0 is greedy                                          (" + num(d.temperature) + ")\n"
         "  --top-k K                sample among the K best candidates (0: all)          (" + std::to_string(d.top_k) + ")\n"
         "  --top-p P                nucleus sampling mass                                (" + num(d.top_p) + ")\n"
         "  --repetition-penalty R   divide the probability of words already present by R (" + num(d.repetition_penalty) + ")\n"
         "  --min-probability P      never draw a word below probability P                (" + num(d.min_probability) + ")\n"
         "  --adjacent-repeats allow|forbid  may a word be drawn next to an equal word?  (" +
         (d.no_adjacent_repeat ? "forbid" : "allow") + ")\n"
         "  --candidates N           candidates asked of the model per slot               (" + std::to_string(d.candidates) + ")\n"
         "  --gap-rule one|independent  one insertion per gap per step, or each slot alone (one)\n"
         "  --min-insertions M       the progress rule: at least M insertions a step      (" + std::to_string(d.min_insertions) + ")\n"
         "  --max-insertions M       at most M insertions per step                        (" + std::to_string(d.max_insertions) + ")\n"
         "  --min-confidence C       insert only words drawn with probability >= C        (" + num(d.min_confidence) + ")\n"
         "  --stop-prob TAU          stop when no slot offers a word above TAU            (" + num(d.stop_probability) + ")\n"
         "  --min-length L           ... but only once the text has L tokens              (" + std::to_string(d.min_length) + ")\n"
         "  --max-length L           (" + std::to_string(d.max_length) + ")      --max-steps S  (" + std::to_string(d.max_steps) + ")\n";
}

/// If `option` is one of decoding_help()'s options, reads its value with `value()` (a callable
/// returning the next argument as std::string_view, throwing when there is none) into `p` and returns
/// true; otherwise returns false and reads nothing.
/// Throws: slotdiff::error naming the option and the value when the value does not parse.
template <class Value>
bool parse_decoding_option(std::string_view option, Value&& value, decoding_preset& p) {
  const std::string_view a = option;
  if (a == "--temperature") p.temperature = parse_number(a, value());
  else if (a == "--top-k") p.top_k = parse_count(a, value());
  else if (a == "--top-p") p.top_p = parse_number(a, value());
  else if (a == "--repetition-penalty") p.repetition_penalty = parse_number(a, value());
  else if (a == "--min-probability") p.min_probability = parse_number(a, value());
  else if (a == "--candidates") p.candidates = parse_count(a, value());
  else if (a == "--adjacent-repeats") {
    const std::string_view v = value();
    if (v == "allow") p.no_adjacent_repeat = false;
    else if (v == "forbid") p.no_adjacent_repeat = true;
    else throw error("--adjacent-repeats: expected allow or forbid, got \"" + std::string(v) + "\"");
  }
  else if (a == "--gap-rule") {
    const std::string_view v = value();
    if (v == "one") p.gaps = gap_policy::one_per_gap;
    else if (v == "independent") p.gaps = gap_policy::independent;
    else throw error("--gap-rule: expected one or independent, got \"" + std::string(v) + "\"");
  } else if (a == "--min-insertions") p.min_insertions = parse_count(a, value());
  else if (a == "--max-insertions") p.max_insertions = parse_count(a, value());
  else if (a == "--min-confidence") p.min_confidence = parse_number(a, value());
  else if (a == "--stop-prob") p.stop_probability = parse_number(a, value());
  else if (a == "--min-length") p.min_length = parse_count(a, value());
  else if (a == "--max-length") p.max_length = parse_count(a, value());
  else if (a == "--max-steps") p.max_steps = parse_count(a, value());
  else return false;
  return true;
}

}  // namespace slotdiff::cli
