// slotdiff/denoise/trace.hpp: what each denoising step did, printable as the notes' underscores
// diagram and as JSON.
#pragma once

#include <cmath>
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <limits>
#include <span>
#include <string>
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
};

/// The result of generating one sequence.
struct generation {
  std::vector<token_id> tokens;
  std::vector<step_index> births;  ///< 0 for the start tokens, s for tokens inserted by step s
  std::size_t steps = 0;
  bool hit_step_cap = false;       ///< stopped by denoise_options::max_steps, not by the stop policy
  std::vector<trace_step> trace;   ///< one entry per step (when tracing)
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

/// The notes' diagram: one line per step from the start to the end, every final token shown once it
/// is born and as underscores of its width before:
///     _ _____ _____ fox jumps ____ ___ ____ dog
/// `words` holds the text of every final token (generation_words).
inline std::string underscores_diagram(const generation& g, std::span<const std::string> words) {
  std::string out;
  for (std::size_t s = 0; s <= g.steps; ++s) {
    std::string line;
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (!line.empty()) line += ' ';
      line += static_cast<std::size_t>(g.births[i]) <= s ? words[i] : std::string(std::max<std::size_t>(1, words[i].size()), '_');
    }
    out += line + '\n';
  }
  return out;
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
  o += ",\"trace\":[";
  for (std::size_t s = 0; s < g.trace.size(); ++s) {
    const trace_step& t = g.trace[s];
    o += (s ? ",{" : "{");
    o += "\"step\":" + std::to_string(s + 1) + ",\"change\":" + detail::json_number(t.change) +
         ",\"best_insertion\":" + detail::json_number(t.best_insertion) + ",\"forced\":" + std::to_string(t.forced) +
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
