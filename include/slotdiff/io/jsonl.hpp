// slotdiff/io/jsonl.hpp: trajectories as JSON Lines, one trajectory per line, human readable.
// The format is documented in docs/formats.md.
#pragma once

#include <cstdint>
#include <istream>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/noise/trajectory.hpp"
#include "slotdiff/text/lines.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff {

struct jsonl_options {
  const tokenizer* words = nullptr;  ///< if set, also write "words" and one "states" text per step
};

/// The JSON object of one trajectory: {"id", "layout", "steps", "tokens", "removed_at"[, "words",
/// "states"]}. Throws: tokenizer_error if `opts.words` does not know a token.
template <slot_layout Layout>
nlohmann::json to_json(const trajectory<Layout>& tr, std::uint64_t id, const jsonl_options& opts = {}) {
  nlohmann::json j;
  j["id"] = id;
  j["layout"] = std::string(Layout::name);
  j["steps"] = tr.steps();
  j["tokens"] = std::vector<token_id>(tr.tokens().begin(), tr.tokens().end());
  j["removed_at"] = std::vector<step_index>(tr.removed_at().begin(), tr.removed_at().end());
  if (opts.words) {
    std::vector<std::string> words;
    for (token_id t : tr.tokens()) words.push_back(opts.words->word(t));
    j["words"] = std::move(words);
    std::vector<std::string> states;
    for (step_index t = 0; t <= tr.steps(); ++t) states.push_back(opts.words->decode(tr.state(t)));
    j["states"] = std::move(states);
  }
  return j;
}

/// Writes one line. Throws: file_write_error if the stream fails.
template <slot_layout Layout>
void write_jsonl(std::ostream& out, const trajectory<Layout>& tr, std::uint64_t id, const jsonl_options& opts = {}) {
  out << to_json(tr, id, opts).dump() << '\n';
  if (!out) throw file_write_error("write_jsonl: the output stream failed at trajectory " + std::to_string(id));
}

namespace detail {

/// The integers of a JSON array, each checked to be an integer (not a float, a bool or a string) in
/// [lo, hi]. Throws: format_error naming `where`, the field, the index and the value.
template <class T>
std::vector<T> jsonl_integers(const nlohmann::json& j, const char* field, long long lo, long long hi, std::string_view where) {
  const auto it = j.find(field);
  if (it == j.end()) throw format_error(std::string(where) + ": no \"" + field + "\" field");
  if (!it->is_array()) throw format_error(std::string(where) + ": \"" + field + "\" is not an array");
  std::vector<T> out;
  out.reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& v = (*it)[i];
    const bool ok = (v.is_number_integer() && !v.is_number_unsigned() && v.get<long long>() >= lo && v.get<long long>() <= hi) ||
                    (v.is_number_unsigned() && v.get<unsigned long long>() <= static_cast<unsigned long long>(hi) &&
                     static_cast<long long>(v.get<unsigned long long>()) >= lo);
    if (!ok)
      throw format_error(std::string(where) + ": \"" + field + "\"[" + std::to_string(i) + "] = " + v.dump() +
                         " is not an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    out.push_back(static_cast<T>(v.get<long long>()));
  }
  return out;
}

}  // namespace detail

/// Parses one line written by write_jsonl (extra fields are ignored; a UTF-8 byte-order mark before
/// the object and a trailing CR are accepted). Every number is checked, never narrowed: "tokens" must
/// be integers in [0, 2^31 - 1], "removed_at" integers in [1, 2^31 - 1] and "steps" an integer in
/// [0, 2^31 - 2] (floats, booleans and strings are refused, not converted).
/// Throws: format_error naming `where` on malformed JSON, missing fields, a number of the wrong type
/// or range, a layout other than Layout, or a trajectory that fails validation (infeasible step, ...).
/// Complexity: O(|line| + n T) for n tokens and T steps.
template <slot_layout Layout>
trajectory<Layout> read_jsonl(std::string_view line, std::string_view where = "jsonl") {
  constexpr long long int_max = std::numeric_limits<std::int32_t>::max();
  try {
    const auto j = nlohmann::json::parse(line);
    if (!j.is_object()) throw format_error(std::string(where) + ": not a JSON object");
    const auto l = j.find("layout");
    if (l == j.end() || !l->is_string()) throw format_error(std::string(where) + ": no string \"layout\" field");
    const auto layout = l->get<std::string>();
    if (layout != Layout::name)
      throw format_error(std::string(where) + ": layout \"" + layout + "\", expected \"" + std::string(Layout::name) + "\"");
    auto tokens = detail::jsonl_integers<token_id>(j, "tokens", 0, int_max, where);
    auto removed = detail::jsonl_integers<step_index>(j, "removed_at", 1, int_max, where);
    const auto st = j.find("steps");
    if (st == j.end()) throw format_error(std::string(where) + ": no \"steps\" field");
    const bool steps_ok = (st->is_number_unsigned() && st->get<unsigned long long>() < static_cast<unsigned long long>(int_max)) ||
                          (st->is_number_integer() && !st->is_number_unsigned() && st->get<long long>() >= 0 &&
                           st->get<long long>() < int_max);
    if (!steps_ok)
      throw format_error(std::string(where) + ": \"steps\" = " + st->dump() + " is not an integer in [0, " +
                         std::to_string(int_max - 1) + "]");
    return trajectory<Layout>(std::move(tokens), std::move(removed), static_cast<step_index>(st->get<long long>()));
  } catch (const format_error&) {
    throw;
  } catch (const nlohmann::json::exception& e) {
    throw format_error(std::string(where) + ": " + e.what());
  } catch (const error& e) {
    throw format_error(std::string(where) + ": " + e.what());
  }
}

/// Every trajectory of a JSONL stream (lines by text_line_reader: a UTF-8 byte-order mark and CRLF are
/// accepted; blank lines are skipped). Errors name `name` and the 1-based line.
/// Throws: format_error as read_jsonl; text_encoding_error on a UTF-16/32 file.
/// Complexity: O(bytes + sum n T); memory O(bytes).
template <slot_layout Layout>
std::vector<trajectory<Layout>> read_jsonl_stream(std::istream& in, std::string_view name) {
  std::vector<trajectory<Layout>> out;
  text_line_reader lines(in, name);
  for (std::string line; lines.next(line);)
    if (line.find_first_not_of(" \t") != std::string::npos)
      out.push_back(read_jsonl<Layout>(line, std::string(name) + ":" + std::to_string(lines.line_number())));
  return out;
}

}  // namespace slotdiff
