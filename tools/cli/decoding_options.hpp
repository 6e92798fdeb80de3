// tools/cli/decoding_options.hpp: the decoding options every generating subcommand accepts
// (`slotdiff generate` and `slotdiff eval`), bound in one place to the library's decoding_preset,
// whose values are the defaults.
#pragma once

#include <memory>
#include <string>

#include "options.hpp"
#include "slotdiff/denoise/decoding.hpp"
#include "slotdiff/denoise/limits.hpp"

namespace slotdiff::cli {

/// Adds the decoding options to `app` (an option group "Decoding"), bound to `p`; the defaults shown
/// are p's values. Each value is range-checked as it parses (options.hpp); the combination is checked
/// by decoding_preset::validate() once all are read.
inline void add_decoding_options(CLI::App& app, decoding_preset& p) {
  const std::string group = "Decoding (shared by generate and eval; defaults from slotdiff/denoise/decoding.hpp)";
  auto in = [&](CLI::Option* o) { o->group(group); };
  const number_limits probability{.min = 0, .max = 1};
  in(number_option(app, "--temperature", p.temperature, "sampling temperature; 0 is greedy", {.min = 0}));
  in(count_option(app, "--top-k", p.top_k, "sample among the K best candidates (0: all)"));
  in(number_option(app, "--top-p", p.top_p, "nucleus sampling mass", {.min = 0, .max = 1, .min_open = true}));
  in(number_option(app, "--repetition-penalty", p.repetition_penalty,
                   "divide the probability of words already present by R", {.min = 1}));
  in(number_option(app, "--min-probability", p.min_probability, "never draw a word below probability P",
                   {.min = 0, .max = 1, .max_open = true}));
  auto* adjacent = app.add_option_function<std::string>(
      "--adjacent-repeats",
      [&p](const std::string& v) { p.no_adjacent_repeat = parse_choice("--adjacent-repeats", v, {"allow", "forbid"}) == "forbid"; },
      "may a word be drawn next to an equal word?");
  in(adjacent->type_name("allow|forbid")->default_str(p.no_adjacent_repeat ? "forbid" : "allow"));
  in(count_option(app, "--candidates", p.candidates, "candidates asked of the model per slot", {.min = 1, .max = max_candidates}));
  auto* gaps = app.add_option_function<std::string>(
      "--gap-rule",
      [&p](const std::string& v) {
        p.gaps = parse_choice("--gap-rule", v, {"one", "independent"}) == "one" ? gap_policy::one_per_gap : gap_policy::independent;
      },
      "one insertion per gap per step, or each slot alone");
  in(gaps->type_name("one|independent")->default_str(p.gaps == gap_policy::one_per_gap ? "one" : "independent"));
  in(count_option(app, "--min-insertions", p.min_insertions, "the progress rule: at least M insertions a step"));
  in(count_option(app, "--max-insertions", p.max_insertions, "at most M insertions per step", {.min = 1}));
  in(number_option(app, "--min-confidence", p.min_confidence, "insert only words drawn with probability >= C", probability));
  in(number_option(app, "--stop-prob", p.stop_probability,
                   "stop when no slot offers a word above TAU (see Stopping)", {.min = 0, .max = 1, .max_open = true}));
  in(count_option(app, "--min-length", p.min_length, "--stop-prob applies only once the text has L tokens"));
  in(count_option(app, "--max-length", p.max_length, "the text never grows beyond L tokens", {.min = 1}));
  in(count_option(app, "--max-steps", p.max_steps, "at most S insertion steps", {.min = 1}));
}

/// The stop rules, for --help (decoding_preset::stop() and denoise's own; docs/denoising.md, "Stop rules").
inline std::string stopping_help() {
  return "Stopping: before each step, a generation ends at the first of (JSON \"ended_by\")\n"
         "  1. step_cap: it has had --max-steps S steps;\n"
         "  2. length_cap: it has --max-length L tokens, keywords included. The limit is hard:\n"
         "     a step that would pass L keeps only its most confident insertions that fit;\n"
         "  3. policy: once the text has --min-length tokens, the best word any slot offers\n"
         "     has probability <= --stop-prob;\n"
         "  4. nothing_admissible: no slot offers a word the rules admit (a real word with\n"
         "     probability >= --min-probability and --min-confidence, not next to an equal\n"
         "     word under --adjacent-repeats forbid): the text cannot change any more.\n"
         "It does not end when a sampled step happens to insert nothing (with --min-insertions 0;\n"
         "the next step draws again), and a generation from nothing always gets a first word\n"
         "(the first word of an empty start ignores --min-probability and --stop-prob).\n"
         "The progress rule (--min-insertions M) inserts at least M words a step while any\n"
         "word is admissible.\n";
}

}  // namespace slotdiff::cli
