// slotdiff/denoise/trace.hpp: what each denoising step did, printable as the notes' underscores
// diagram and as JSON.
#pragma once

#include <cmath>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "slotdiff/config.hpp"
#include "slotdiff/slots/insertion.hpp"

namespace slotdiff {

/// One applied step of one sequence.
struct trace_step {
  std::vector<insertion> inserted;   ///< slots refer to the sequence before the step
  std::vector<float> probability;    ///< the model's probability of each inserted token
  float change = std::numeric_limits<float>::quiet_NaN();  ///< semantic change of the step
  float best_insertion = 0.0f;       ///< the best non-none probability the model offered
  std::size_t forced = 0;            ///< of `inserted`, how many the fill's progress rule added (not drawn)
  /// Slots that offered a word the rules admit (real, probability > 0 and >= the floors, not a
  /// neighbour under no_adjacent_repeat). A step with `inserted` empty and admissible > 0 drew
  /// nothing by chance (possible with fill_options::min_insertions = 0): the run goes on.
  std::size_t admissible = 0;
};

/// Why a sequence's generation ended (generation::ended_by).
enum class stop_reason : std::uint8_t {
  policy,              ///< the stop policy said so
  step_cap,            ///< denoise_options::max_steps
  length_cap,          ///< the hard length limit: denoise_options::max_length or the policy's stop::max_length
  nothing_admissible,  ///< no slot offered a word the rules admit: the text cannot change any more
};

/// "policy", "step_cap", "length_cap", "nothing_admissible" (the JSON's "ended_by").
inline const char* stop_reason_name(stop_reason r) noexcept {
  switch (r) {
    case stop_reason::step_cap: return "step_cap";
    case stop_reason::length_cap: return "length_cap";
    case stop_reason::nothing_admissible: return "nothing_admissible";
    default: return "policy";
  }
}

/// The result of generating one sequence.
struct generation {
  std::vector<token_id> tokens;
  std::vector<step_index> births;  ///< 0 for the start tokens, s for tokens inserted by step s
  std::size_t steps = 0;
  bool hit_step_cap = false;       ///< stopped by denoise_options::max_steps, not by the stop policy
  std::vector<trace_step> trace;   ///< one entry per step (when tracing)
  stop_reason ended_by = stop_reason::policy;  ///< which rule ended it (docs/denoising.md, "Stop rules")
};

/// The text of every token of `g`, in order: `word(token)`, except that the start tokens (births 0,
/// in order) take their text from `start_words` where it has a non-empty entry. That is how a
/// keyword the vocabulary lacks, fed to the model as <unk>, prints as the word the user typed.
/// `start_words` may be shorter than the start (the rest use `word`).
/// Complexity: O(|g.tokens|) calls of `word`.
inline std::vector<std::string> generation_words(const generation& g, const std::function<std::string(token_id)>& word,
                                                 std::span<const std::string> start_words = {}) {
  std::vector<std::string> words;
  words.reserve(g.tokens.size());
  std::size_t k = 0;
  for (std::size_t i = 0; i < g.tokens.size(); ++i) {
    const bool start = i < g.births.size() && g.births[i] == 0;
    if (start && k < start_words.size() && !start_words[k].empty()) words.push_back(start_words[k]);
    else words.push_back(word(g.tokens[i]));
    k += start;
  }
  return words;
}

namespace detail {

/// The code point of a UTF-8 sequence starting at s[i] and its length in bytes; a byte that does not
/// start a well-formed sequence (stray continuation, truncated, overlong, surrogate, > U+10FFFF)
/// reads as itself, one byte, so any byte string has a width.
inline std::pair<char32_t, std::size_t> utf8_decode(std::string_view s, std::size_t i) noexcept {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (len <= 1 || i + len > s.size()) return {b, 1};
  char32_t c = b & (0x7F >> len);
  for (std::size_t k = 1; k < len; ++k) {
    const auto t = static_cast<unsigned char>(s[i + k]);
    if ((t >> 6) != 0x2) return {b, 1};
    c = (c << 6) | (t & 0x3F);
  }
  static constexpr char32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < least[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return {b, 1};
  return {c, len};
}

/// Columns a code point takes in a terminal: 0 for combining marks and zero-width characters, 2 for
/// East Asian wide and fullwidth ones and emoji (Unicode's East_Asian_Width W/F, main blocks), else 1.
inline std::size_t code_point_width(char32_t c) noexcept {
  if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) ||
      (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE20 && c <= 0xFE2F) || (c >= 0x200B && c <= 0x200F) ||
      (c >= 0xFE00 && c <= 0xFE0F) || c == 0x2060 || c == 0xFEFF)
    return 0;
  if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) || (c >= 0x3041 && c <= 0x33FF) ||
      (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
      (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) ||
      (c >= 0xFF00 && c <= 0xFF60) || (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
      (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD))
    return 2;
  return 1;
}

}  // namespace detail

/// The width of `word` in terminal columns: UTF-8 decoded, each code point counted by
/// code_point_width (a malformed byte counts 1). "café" is 4, "日本" is 4, "naïve" (with a combining
/// diaeresis) is 5. Complexity: O(bytes).
inline std::size_t display_width(std::string_view word) noexcept {
  std::size_t w = 0;
  for (std::size_t i = 0; i < word.size();) {
    const auto [c, len] = detail::utf8_decode(word, i);
    w += detail::code_point_width(c);
    i += len;
  }
  return w;
}

/// The notes' diagram: one line per step from the start to the end, every final token shown once it
/// is born and, before, as underscores as wide as it is shown (display_width: "café" gets 4, not the
/// 5 of its bytes, so the columns stay aligned with multi-byte words):
///     _ _____ _____ fox jumps ____ ___ ____ dog
/// `words` holds the text of every final token (generation_words).
inline std::string underscores_diagram(const generation& g, std::span<const std::string> words);

/// The same diagram for any sequence of states over `words` (a denoising generation, a noising
/// trajectory): lines s = 0..steps, each '\n'-terminated, word i shown where shown(i, s) is true
/// and otherwise as max(1, display_width(words[i])) underscores; words separated by one space.
/// A noising trajectory's diagram: underscores_diagram(words, tr.steps(),
/// [&](std::size_t i, std::size_t t) { return tr.removed_at()[i] > t; }). Complexity: O(steps x bytes).
template <class Shown>
std::string underscores_diagram(std::span<const std::string> words, std::size_t steps, Shown&& shown) {
  std::string out;
  for (std::size_t s = 0; s <= steps; ++s) {
    std::string line;
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (!line.empty()) line += ' ';
      line += shown(i, s) ? words[i] : std::string(std::max<std::size_t>(1, display_width(words[i])), '_');
    }
    out += line + '\n';
  }
  return out;
}

inline std::string underscores_diagram(const generation& g, std::span<const std::string> words) {
  return underscores_diagram(words, g.steps, [&](std::size_t i, std::size_t s) { return static_cast<std::size_t>(g.births[i]) <= s; });
}

/// The same, with `word` mapping a token id to its text.
inline std::string underscores_diagram(const generation& g, const std::function<std::string(token_id)>& word) {
  const std::vector<std::string> words = generation_words(g, word);
  return underscores_diagram(g, std::span<const std::string>(words));
}

namespace detail {
inline std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') o += '\\', o += static_cast<char>(c);
    else if (c < 0x20) {
      static const char* hex = "0123456789abcdef";
      o += "\\u00";
      o += hex[c >> 4];
      o += hex[c & 15];
    } else o += static_cast<char>(c);
  }
  return o + '"';
}
// 9 significant digits: every float reads back as itself, so values that differ stay ordered.
inline std::string json_number(float v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  return buf;
}
}  // namespace detail

/// The generation as one JSON object: final tokens (and words), births, steps, and per step the
/// insertions (slot, token, word, probability), how many of them the progress rule added, the
/// semantic change and the best offered insertion. `start_words` as in generation_words (the
/// "text" array shows them; "tokens" keeps the ids the model saw).
inline std::string to_json(const generation& g, const std::function<std::string(token_id)>& word,
                           std::span<const std::string> start_words = {}) {
  const std::vector<std::string> words = generation_words(g, word, start_words);
  std::string o = "{\"tokens\":[";
  for (std::size_t i = 0; i < g.tokens.size(); ++i) o += (i ? "," : "") + std::to_string(g.tokens[i]);
  o += "],\"text\":[";
  for (std::size_t i = 0; i < words.size(); ++i) o += (i ? "," : "") + detail::json_string(words[i]);
  o += "],\"births\":[";
  for (std::size_t i = 0; i < g.births.size(); ++i) o += (i ? "," : "") + std::to_string(g.births[i]);
  o += "],\"steps\":" + std::to_string(g.steps) + ",\"hit_step_cap\":" + (g.hit_step_cap ? "true" : "false");
  o += std::string(",\"ended_by\":\"") + stop_reason_name(g.ended_by) + "\"";
  o += ",\"trace\":[";
  for (std::size_t s = 0; s < g.trace.size(); ++s) {
    const trace_step& t = g.trace[s];
    o += (s ? ",{" : "{");
    o += "\"step\":" + std::to_string(s + 1) + ",\"change\":" + detail::json_number(t.change) +
         ",\"best_insertion\":" + detail::json_number(t.best_insertion) + ",\"forced\":" + std::to_string(t.forced) +
         ",\"admissible\":" + std::to_string(t.admissible) +
         ",\"inserted\":[";
    for (std::size_t j = 0; j < t.inserted.size(); ++j) {
      o += (j ? ",{" : "{");
      o += "\"slot\":" + std::to_string(t.inserted[j].slot) + ",\"token\":" + std::to_string(t.inserted[j].token) +
           ",\"word\":" + detail::json_string(word(t.inserted[j].token)) +
           ",\"p\":" + detail::json_number(t.probability[j]) + "}";
    }
    o += "]}";
  }
  return o + "]}";
}

}  // namespace slotdiff
