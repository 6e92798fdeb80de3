// slotdiff/io/trace_html.hpp: a noising trajectory and a denoising run as one self-contained HTML
// page, the notes' underscores diagram made visual (`slotdiff trace --html OUT`; docs/tutorial.md).
//
// The page has no external resources: its CSS and JavaScript are inline, it loads nothing from the
// network, and every number is written into the markup (data-* attributes), so it reads the same
// offline, from a file, in a mail attachment. Its parts:
//   - a step slider over the whole story: noising steps 0..T, then denoising steps 1..S;
//   - the state at the slider's step, large;
//   - the noising diagram: one row per state x_0..x_T, each word coloured by the step that removes
//     it (keywords, never removed, in black), removed words drawn as underscores of their width;
//   - the denoising diagram: one row per step 0..S, each word coloured by the step that inserts it;
//   - on hover, a word's importance score at every noising step, or its insertion step, slot and
//     the model's probability of it.
// `#step=N` in the address sets the slider on load (how the tests and the README's picture drive it).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "slotdiff/concepts/importance_scorer.hpp"
#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/denoise/trace.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/noise/trajectory.hpp"

namespace slotdiff {

/// The noising half of a trace page.
struct noising_view {
  std::vector<std::string> words;        ///< x_0's words, one per token
  std::vector<step_index> removed_at;    ///< per word: trajectory::removed_at (steps + 1 for a keyword)
  step_index steps = 0;                  ///< T
  /// scores[t][i] for t in [0, T): word i's importance score when step t + 1 chose what to remove,
  /// NaN once the word is gone. Empty: the page shows no scores.
  std::vector<std::vector<float>> scores;
  std::string scorer;                    ///< a label for the scorer ("idf")
};

/// The denoising half of a trace page.
struct denoising_view {
  std::vector<std::string> words;        ///< the final words (generation_words)
  std::vector<step_index> births;        ///< per word: 0 for a start word, s for one inserted by step s
  std::size_t steps = 0;                 ///< S
  std::vector<float> probability;        ///< per word: the model's probability of it when inserted (NaN: a start word, or no trace)
  std::vector<std::size_t> slot;         ///< per word: the slot it went into (of the sequence before its step)
  std::vector<float> best_insertion;     ///< per step: the best probability the model offered (empty: unknown)
  std::string backend;                   ///< a label for the model ("ngram")
};

/// Everything else on the page.
struct trace_page_options {
  std::string title = "slotdiff trace";
  std::string caption;                   ///< one line under the title (plain text; escaped)
};

/// The importance scores the noiser saw: for a static scorer its scores of x_0 (the noiser scores
/// once and the scores ride along), for a dynamic one its scores of every x_t, each mapped back to
/// x_0's positions with NaN where a word is already gone.
/// Requires: `tr` made by noise() with this scorer over the same ids. Shape: [T][|x_0|].
/// Complexity: T scorer calls for a dynamic scorer, one for a static one; O(T |x_0|) memory.
template <slot_layout Layout, importance_scorer S>
std::vector<std::vector<float>> noising_scores(const trajectory<Layout>& tr, const S& scorer) {
  const std::size_t n = tr.size();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<std::vector<float>> out(static_cast<std::size_t>(tr.steps()), std::vector<float>(n, nan));
  std::vector<float> x0(n);
  if (!is_dynamic_scorer_v<S>) scorer.score(tr.tokens(), std::span<float>(x0));
  std::vector<token_id> alive_ids;
  std::vector<std::size_t> alive;
  std::vector<float> s;
  for (step_index t = 0; t < tr.steps(); ++t) {
    alive.clear();
    alive_ids.clear();
    for (std::size_t i = 0; i < n; ++i)
      if (tr.removed_at()[i] > t) alive.push_back(i), alive_ids.push_back(tr.tokens()[i]);
    auto& row = out[static_cast<std::size_t>(t)];
    if constexpr (is_dynamic_scorer_v<S>) {
      s.assign(alive.size(), nan);
      scorer.score(std::span<const token_id>(alive_ids), std::span<float>(s));
      for (std::size_t k = 0; k < alive.size(); ++k) row[alive[k]] = s[k];
    } else {
      for (std::size_t i : alive) row[i] = x0[i];
    }
  }
  return out;
}

/// A noising_view of `tr`. `words[i]` is the text of x_0's token i.
/// Throws: input_error if words.size() != tr.size(). Complexity: as noising_scores.
template <slot_layout Layout, importance_scorer S>
noising_view make_noising_view(const trajectory<Layout>& tr, std::vector<std::string> words, const S& scorer,
                               std::string scorer_label) {
  if (words.size() != tr.size())
    throw input_error("make_noising_view: " + std::to_string(words.size()) + " words for a trajectory of " +
                      std::to_string(tr.size()) + " tokens");
  return {std::move(words), std::vector<step_index>(tr.removed_at().begin(), tr.removed_at().end()), tr.steps(),
          noising_scores(tr, scorer), std::move(scorer_label)};
}

/// The same without scores.
template <slot_layout Layout>
noising_view make_noising_view(const trajectory<Layout>& tr, std::vector<std::string> words, std::string scorer_label = {}) {
  if (words.size() != tr.size())
    throw input_error("make_noising_view: " + std::to_string(words.size()) + " words for a trajectory of " +
                      std::to_string(tr.size()) + " tokens");
  return {std::move(words), std::vector<step_index>(tr.removed_at().begin(), tr.removed_at().end()), tr.steps(), {},
          std::move(scorer_label)};
}

/// A denoising_view of `g`; `words` as generation_words(g, ...). Each inserted word gets the
/// probability and slot its step's trace recorded: the words a step inserts keep the order of their
/// slots, so the k-th lowest slot of step s is the k-th word born at s. Without a trace (denoise
/// without tracing) the probabilities are NaN.
/// Throws: input_error if words.size() != g.tokens.size(), or if a step's trace inserts another number of
/// words or other tokens than the generation holds for that step. Complexity: O(n log n + S).
inline denoising_view make_denoising_view(const generation& g, std::vector<std::string> words, std::string backend_label) {
  const std::size_t n = g.tokens.size();
  if (words.size() != n || g.births.size() != n)
    throw input_error("make_denoising_view: " + std::to_string(words.size()) + " words and " + std::to_string(g.births.size()) +
                      " births for a generation of " + std::to_string(n) + " tokens");
  denoising_view v{std::move(words), g.births, g.steps, std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()),
                   std::vector<std::size_t>(n, 0), {}, std::move(backend_label)};
  if (g.trace.empty()) return v;
  if (g.trace.size() != g.steps)
    throw input_error("make_denoising_view: a trace of " + std::to_string(g.trace.size()) + " steps for a generation of " +
                      std::to_string(g.steps));
  std::vector<std::vector<std::size_t>> born(g.steps + 1);
  for (std::size_t i = 0; i < n; ++i) {
    const auto b = static_cast<std::size_t>(g.births[i]);
    if (g.births[i] < 0 || b > g.steps)
      throw input_error("make_denoising_view: token " + std::to_string(i) + " born at step " + std::to_string(g.births[i]) +
                        ", outside [0, " + std::to_string(g.steps) + "]");
    born[b].push_back(i);
  }
  for (std::size_t s = 1; s <= g.steps; ++s) {
    const trace_step& t = g.trace[s - 1];
    v.best_insertion.push_back(t.best_insertion);
    if (t.inserted.size() != born[s].size() || t.probability.size() != t.inserted.size())
      throw input_error("make_denoising_view: step " + std::to_string(s) + "'s trace inserts " + std::to_string(t.inserted.size()) +
                        " words, the generation holds " + std::to_string(born[s].size()) + " born at that step");
    std::vector<std::size_t> order(t.inserted.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return t.inserted[a].slot < t.inserted[b].slot; });
    for (std::size_t k = 0; k < order.size(); ++k) {
      const std::size_t i = born[s][k];
      const insertion& ins = t.inserted[order[k]];
      if (ins.token != g.tokens[i])
        throw input_error("make_denoising_view: step " + std::to_string(s) + " inserted token " + std::to_string(ins.token) +
                          " into slot " + std::to_string(ins.slot) + ", but the generation holds " + std::to_string(g.tokens[i]) +
                          " there");
      v.probability[i] = t.probability[order[k]];
      v.slot[i] = ins.slot;
    }
  }
  return v;
}

namespace detail {

inline std::string html_escape(std::string_view s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

// A number for the page: 4 significant digits, "n/a" for NaN, "inf" for the unremovable.
inline std::string html_number(float v) {
  if (std::isnan(v)) return "n/a";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", static_cast<double>(v));
  return buf;
}

// Step k of `count` as a hue: noising runs from cyan (early) through green and yellow to red (late),
// denoising from blue to magenta, so the two diagrams share no colour.
inline std::string step_colour(std::size_t k, std::size_t count, bool noising) {
  const double f = count <= 1 ? 0.0 : static_cast<double>(k - 1) / static_cast<double>(count - 1);
  const double hue = noising ? 180.0 - 180.0 * f : 215.0 + 110.0 * f;
  char buf[48];
  std::snprintf(buf, sizeof buf, "hsl(%.0f,70%%,82%%)", hue);
  return buf;
}

inline std::string underscores(const std::string& w) {
  // One underscore per character (UTF-8 continuation bytes do not count), at least one.
  std::size_t chars = 0;
  for (unsigned char c : w) chars += (c & 0xC0) != 0x80;
  return std::string(std::max<std::size_t>(1, chars), '_');
}

inline constexpr std::string_view trace_page_css = R"css(
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px 32px;color:#1d2330;background:#fbfbfd}
h1{font-size:20px;margin:0 0 2px}h2{font-size:16px;margin:22px 0 6px}
.caption,.note{color:#555;margin:2px 0}.note{font-size:13px}
#controls{position:sticky;top:0;background:#fbfbfd;padding:10px 0 8px;border-bottom:1px solid #dde;z-index:2}
#step{width:min(720px,90%);vertical-align:middle}
#step-label{display:inline-block;margin-left:12px;font-weight:600}
#now{font-size:22px;margin:8px 0 2px;min-height:32px}
.diagram{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:14px}
.row{white-space:nowrap;padding:2px 4px;border-radius:4px}
.row.current{outline:2px solid #4a6cf7;background:#eef1ff}
.row.future{visibility:hidden}
.lbl{display:inline-block;width:7.5em;color:#777;font-size:12px}
.tok{display:inline-block;padding:1px 4px;margin:1px 1px;border-radius:3px;cursor:default}
.tok.kw{background:#1d2330;color:#fff}
.tok.gap{background:none!important;color:#b9bccb}
.tok.fresh{box-shadow:0 0 0 2px #1d2330}
.tok:hover{outline:2px solid #222}
#tip{position:fixed;max-width:420px;background:#1d2330;color:#fff;padding:6px 9px;border-radius:5px;font-size:13px;
pointer-events:none;white-space:pre-line;z-index:5}
.legend .tok{font-size:12px}
)css";

inline constexpr std::string_view trace_page_js = R"js(
(function(){
  var slider=document.getElementById('step'),label=document.getElementById('step-label'),now=document.getElementById('now');
  var T=+slider.dataset.noisingSteps,S=+slider.dataset.denoisingSteps;
  var rows=[].slice.call(document.querySelectorAll('.row[data-phase]'));
  function row(phase,k){return document.querySelector('.row[data-phase="'+phase+'"][data-step="'+k+'"]');}
  function words(r,attr,k){return [].slice.call(r.querySelectorAll('.tok:not(.gap)')).filter(function(t){return +t.dataset[attr]===k;})
    .map(function(t){return '\u201c'+t.textContent+'\u201d';});}
  function update(){
    var v=+slider.value,phase=v<=T?'noise':'denoise',k=v<=T?v:v-T,cur=row(phase,k);
    rows.forEach(function(r){var ph=r.dataset.phase,s=+r.dataset.step;
      var fut=phase==='noise'?(ph==='denoise'||s>k):(ph==='denoise'&&s>k);
      r.classList.toggle('future',fut);r.classList.toggle('current',r===cur);});
    now.innerHTML='';
    [].slice.call(cur.querySelectorAll('.tok:not(.gap)')).forEach(function(t){var c=t.cloneNode(true);
      if(phase==='denoise'&&+t.dataset.born===k&&k>0)c.classList.add('fresh');now.appendChild(c);now.appendChild(document.createTextNode(' '));});
    var text;
    if(phase==='noise'){text=k===0?'noising: x0, the sentence':'noising step '+k+' of '+T+': removed '+words(row('noise',k-1),'removed',k).join(', ');}
    else{text=k===0?'denoising: the keywords':'denoising step '+k+' of '+S+': inserted '+words(cur,'born',k).join(', ');}
    label.textContent='step '+v+' of '+(T+S)+' \u00b7 '+text;
    try{history.replaceState(null,'','#step='+v);}catch(e){}
  }
  slider.addEventListener('input',update);
  var m=/step=(\d+)/.exec(location.hash);
  update();
  if(m){slider.value=Math.min(+m[1],T+S);slider.dispatchEvent(new Event('input'));}
  var tip=document.getElementById('tip');
  document.addEventListener('mouseover',function(e){var t=e.target.closest?e.target.closest('.tok[data-tip]'):null;
    if(!t){tip.hidden=true;return;}tip.textContent=t.dataset.tip;tip.hidden=false;});
  document.addEventListener('mousemove',function(e){tip.style.left=(e.clientX+14)+'px';tip.style.top=(e.clientY+14)+'px';});
})();
)js";

/// trace_html's checks (see its Throws).
inline void check_trace_views(const noising_view& nv, const denoising_view& dv) {
  const std::size_t n0 = nv.words.size(), n1 = dv.words.size();
  const auto T = static_cast<std::size_t>(std::max<step_index>(nv.steps, 0));
  const std::size_t S = dv.steps;
  if (nv.steps < 0) throw input_error("trace_html: negative noising step count " + std::to_string(nv.steps));
  if (nv.removed_at.size() != n0)
    throw input_error("trace_html: " + std::to_string(n0) + " noising words but " + std::to_string(nv.removed_at.size()) + " removal steps");
  if (!nv.scores.empty() && nv.scores.size() != T)
    throw input_error("trace_html: " + std::to_string(nv.scores.size()) + " rows of scores for " + std::to_string(T) + " noising steps");
  for (std::size_t t = 0; t < nv.scores.size(); ++t)
    if (nv.scores[t].size() != n0)
      throw input_error("trace_html: scores row " + std::to_string(t) + " has " + std::to_string(nv.scores[t].size()) +
                        " entries for " + std::to_string(n0) + " words");
  for (std::size_t i = 0; i < n0; ++i)
    if (nv.removed_at[i] < 1 || static_cast<std::size_t>(nv.removed_at[i]) > T + 1)
      throw input_error("trace_html: noising word " + std::to_string(i) + " removed at step " + std::to_string(nv.removed_at[i]) +
                        ", outside [1, " + std::to_string(T + 1) + "]");
  if (dv.births.size() != n1 || dv.probability.size() != n1 || dv.slot.size() != n1)
    throw input_error("trace_html: " + std::to_string(n1) + " denoising words but " + std::to_string(dv.births.size()) + " births, " +
                      std::to_string(dv.probability.size()) + " probabilities and " + std::to_string(dv.slot.size()) + " slots");
  for (std::size_t i = 0; i < n1; ++i)
    if (dv.births[i] < 0 || static_cast<std::size_t>(dv.births[i]) > S)
      throw input_error("trace_html: denoising word " + std::to_string(i) + " born at step " + std::to_string(dv.births[i]) +
                        ", outside [0, " + std::to_string(S) + "]");
}

/// The page up to the diagrams: head, style, title, caption and the step slider over T + S steps.
inline void append_trace_head(std::string& o, const trace_page_options& opts, std::size_t T, std::size_t S) {
  o += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  o += html_escape(opts.title);
  o += "</title>\n<style>";
  o += detail::trace_page_css;
  o += "</style>\n</head>\n<body>\n<header><h1>" + html_escape(opts.title) + "</h1>";
  if (!opts.caption.empty()) o += "<p class=\"caption\">" + html_escape(opts.caption) + "</p>";
  o += "</header>\n<section id=\"controls\">\n<input type=\"range\" id=\"step\" min=\"0\" max=\"" + std::to_string(T + S) +
       "\" value=\"0\" step=\"1\" data-noising-steps=\"" + std::to_string(T) + "\" data-denoising-steps=\"" + std::to_string(S) +
       "\" aria-label=\"step\">\n<output id=\"step-label\" for=\"step\">step 0 of " + std::to_string(T + S) +
       "</output>\n<div id=\"now\"></div>\n"
       "<p class=\"note\">Drag the slider (or the arrow keys) to walk the sentence apart and grow it back; hover a word "
       "for its scores.</p>\n</section>\n";
}

/// The noising section: row t is x_t over x_0's positions, then the legend.
inline void append_noising_section(std::string& o, const noising_view& nv, std::size_t T) {
  const std::size_t n0 = nv.words.size();
  auto noise_tip = [&](std::size_t i) {
    const step_index r = nv.removed_at[i];
    std::string tip = nv.words[i] + "\n" +
                      (static_cast<std::size_t>(r) == T + 1 ? std::string("keyword: never removed")
                                                            : "removed by noising step " + std::to_string(r));
    if (!nv.scores.empty()) {
      tip += "\nimportance" + (nv.scorer.empty() ? std::string() : " (" + nv.scorer + ")") + " when each step chose:";
      for (std::size_t t = 0; t < T && t < static_cast<std::size_t>(r); ++t)
        tip += "\n  step " + std::to_string(t + 1) + ": " + html_number(nv.scores[t][i]);
    }
    return tip;
  };
  o += "<section id=\"noising\">\n<h2>Noising: " + std::to_string(T) + " step" + (T == 1 ? "" : "s") +
       (nv.scorer.empty() ? std::string() : ", scorer " + html_escape(nv.scorer)) +
       ", the least important words first</h2>\n<div class=\"diagram\">\n";
  for (std::size_t t = 0; t <= T; ++t) {
    o += "<div class=\"row\" data-phase=\"noise\" data-step=\"" + std::to_string(t) + "\"><span class=\"lbl\">x" +
         std::to_string(t) + "</span>";
    for (std::size_t i = 0; i < n0; ++i) {
      const auto r = static_cast<std::size_t>(nv.removed_at[i]);
      const bool kw = r == T + 1, gone = r <= t;
      o += "<span class=\"tok";
      if (kw) o += " kw";
      if (gone) o += " gap";
      o += "\" data-i=\"" + std::to_string(i) + "\" data-removed=\"" + std::to_string(r) + "\"";
      if (!kw) o += " style=\"background:" + detail::step_colour(r, T, true) + "\"";
      if (!nv.scores.empty() && t < T) o += " data-score=\"" + html_number(nv.scores[t][i]) + "\"";
      o += " data-tip=\"" + html_escape(noise_tip(i)) + "\">";
      o += html_escape(gone ? detail::underscores(nv.words[i]) : nv.words[i]);
      o += "</span>";
    }
    o += "</div>\n";
  }
  o += "</div>\n<p class=\"legend\">";
  for (std::size_t r = 1; r <= T; ++r)
    o += "<span class=\"tok\" style=\"background:" + detail::step_colour(r, T, true) + "\">removed at " + std::to_string(r) + "</span>";
  o += "<span class=\"tok kw\">keyword</span></p>\n</section>\n";
}

/// The denoising section: row s is the sequence after step s over the final positions, then the legend.
inline void append_denoising_section(std::string& o, const denoising_view& dv, std::size_t S) {
  const std::size_t n1 = dv.words.size();
  auto denoise_tip = [&](std::size_t i) {
    const auto b = static_cast<std::size_t>(dv.births[i]);
    if (b == 0) return dv.words[i] + "\nstart word (keyword)";
    std::string tip = dv.words[i] + "\ninserted by denoising step " + std::to_string(b) + " into slot " + std::to_string(dv.slot[i]) +
                      "\np(insert) = " + html_number(dv.probability[i]);
    if (b - 1 < dv.best_insertion.size()) tip += "\nbest offer that step: " + html_number(dv.best_insertion[b - 1]);
    return tip;
  };
  o += "<section id=\"denoising\">\n<h2>Denoising: " + std::to_string(S) + " step" + (S == 1 ? "" : "s") +
       (dv.backend.empty() ? std::string() : ", model " + html_escape(dv.backend)) +
       ", words inserted into the slots next to existing words</h2>\n<div class=\"diagram\">\n";
  for (std::size_t s = 0; s <= S; ++s) {
    o += "<div class=\"row\" data-phase=\"denoise\" data-step=\"" + std::to_string(s) + "\"><span class=\"lbl\">step " +
         std::to_string(s) + "</span>";
    for (std::size_t i = 0; i < n1; ++i) {
      const auto b = static_cast<std::size_t>(dv.births[i]);
      o += "<span class=\"tok";
      if (b == 0) o += " kw";
      if (b > s) o += " gap";
      o += "\" data-i=\"" + std::to_string(i) + "\" data-born=\"" + std::to_string(b) + "\"";
      if (b > 0) o += " style=\"background:" + detail::step_colour(b, S, false) + "\" data-p=\"" + html_number(dv.probability[i]) + "\"";
      o += " data-tip=\"" + html_escape(denoise_tip(i)) + "\">";
      o += html_escape(b > s ? detail::underscores(dv.words[i]) : dv.words[i]);
      o += "</span>";
    }
    o += "</div>\n";
  }
  o += "</div>\n<p class=\"legend\"><span class=\"tok kw\">start word</span>";
  for (std::size_t s = 1; s <= S; ++s)
    o += "<span class=\"tok\" style=\"background:" + detail::step_colour(s, S, false) + "\">inserted at " + std::to_string(s) + "</span>";
  o += "</p>\n</section>\n";
}

}  // namespace detail

/// The page: noising diagram, denoising diagram, step slider and hover details, in one HTML string
/// that loads nothing (see the file comment). Text is HTML-escaped; numbers are written with 4
/// significant digits ("n/a" for NaN).
/// Throws: input_error if a view's columns disagree in length (words, removed_at, scores rows, births,
/// probability, slot), a removal step lies outside [1, T + 1] or a birth outside [0, S].
/// Complexity: O((T + 1) |x_0| + (S + 1) n) characters.
inline std::string trace_html(const noising_view& nv, const denoising_view& dv, const trace_page_options& opts = {}) {
  detail::check_trace_views(nv, dv);
  const std::size_t n0 = nv.words.size(), n1 = dv.words.size();
  const auto T = static_cast<std::size_t>(nv.steps);
  const std::size_t S = dv.steps;
  std::string o;
  o.reserve(4096 + 160 * ((T + 1) * n0 + (S + 1) * n1));
  detail::append_trace_head(o, opts, T, S);
  detail::append_noising_section(o, nv, T);
  detail::append_denoising_section(o, dv, S);
  o += "<div id=\"tip\" hidden></div>\n<script>";
  o += detail::trace_page_js;
  o += "</script>\n</body>\n</html>\n";
  return o;
}

}  // namespace slotdiff
