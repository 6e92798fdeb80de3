// slotdiff/denoise/trace.hpp: what each denoising step did, printable as the notes' underscores
// diagram and as JSON.
#pragma once

#include <cmath>
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <limits>
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
};

/// The result of generating one sequence.
struct generation {
  std::vector<token_id> tokens;
  std::vector<step_index> births;  ///< 0 for the start tokens, s for tokens inserted by step s
  std::size_t steps = 0;
  bool hit_step_cap = false;       ///< stopped by denoise_options::max_steps, not by the stop policy
  std::vector<trace_step> trace;   ///< one entry per step (when tracing)
};

/// The notes' diagram: one line per step from the start to the end, every final token shown once it
/// is born and as underscores of its width before:
///     _ _____ _____ fox jumps ____ ___ ____ dog
/// `word` maps a token id to its text.
inline std::string underscores_diagram(const generation& g, const std::function<std::string(token_id)>& word) {
  std::vector<std::string> words;
  for (token_id t : g.tokens) words.push_back(word(t));
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
inline std::string json_number(float v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", static_cast<double>(v));
  return buf;
}
}  // namespace detail

/// The generation as one JSON object: final tokens (and words), births, steps, and per step the
/// insertions (slot, token, word, probability), the semantic change and the best offered insertion.
inline std::string to_json(const generation& g, const std::function<std::string(token_id)>& word) {
  std::string o = "{\"tokens\":[";
  for (std::size_t i = 0; i < g.tokens.size(); ++i) o += (i ? "," : "") + std::to_string(g.tokens[i]);
  o += "],\"text\":[";
  for (std::size_t i = 0; i < g.tokens.size(); ++i) o += (i ? "," : "") + detail::json_string(word(g.tokens[i]));
  o += "],\"births\":[";
  for (std::size_t i = 0; i < g.births.size(); ++i) o += (i ? "," : "") + std::to_string(g.births[i]);
  o += "],\"steps\":" + std::to_string(g.steps) + ",\"hit_step_cap\":" + (g.hit_step_cap ? "true" : "false");
  o += ",\"trace\":[";
  for (std::size_t s = 0; s < g.trace.size(); ++s) {
    const trace_step& t = g.trace[s];
    o += (s ? ",{" : "{");
    o += "\"step\":" + std::to_string(s + 1) + ",\"change\":" + detail::json_number(t.change) +
         ",\"best_insertion\":" + detail::json_number(t.best_insertion) + ",\"inserted\":[";
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
