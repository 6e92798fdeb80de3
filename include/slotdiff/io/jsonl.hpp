// slotdiff/io/jsonl.hpp: trajectories as JSON Lines, one trajectory per line, human readable.
// The format is documented in docs/formats.md.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/noise/trajectory.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff {

/// A JSONL line that does not describe a valid trajectory.
class format_error : public error {
public:
  using error::error;
};

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

/// Writes one line. Throws: error if the stream fails.
template <slot_layout Layout>
void write_jsonl(std::ostream& out, const trajectory<Layout>& tr, std::uint64_t id, const jsonl_options& opts = {}) {
  out << to_json(tr, id, opts).dump() << '\n';
  if (!out) throw error("write_jsonl: the output stream failed at trajectory " + std::to_string(id));
}

/// Parses one line written by write_jsonl (extra fields are ignored).
/// Throws: format_error naming `where` on malformed JSON, missing fields, a layout other than Layout,
/// or a trajectory that fails validation (infeasible step, ...).
template <slot_layout Layout>
trajectory<Layout> read_jsonl(std::string_view line, std::string_view where = "jsonl") {
  try {
    const auto j = nlohmann::json::parse(line);
    const auto layout = j.at("layout").get<std::string>();
    if (layout != Layout::name)
      throw format_error(std::string(where) + ": layout \"" + layout + "\", expected \"" + std::string(Layout::name) + "\"");
    return trajectory<Layout>(j.at("tokens").get<std::vector<token_id>>(), j.at("removed_at").get<std::vector<step_index>>(),
                              j.at("steps").get<step_index>());
  } catch (const format_error&) {
    throw;
  } catch (const nlohmann::json::exception& e) {
    throw format_error(std::string(where) + ": " + e.what());
  } catch (const error& e) {
    throw format_error(std::string(where) + ": " + e.what());
  }
}

}  // namespace slotdiff
