// slotdiff/denoise/preference.hpp: preference data and a per-step reward for tuning a denoiser with
// the semantic metric (the notes' "apply this semantic distance metric with RL for preference
// tuning"): from one state, several sampled candidate steps are ranked by how much they change the
// meaning; the smallest change is preferred.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/denoise/denoise.hpp"
#include "slotdiff/denoise/semantics.hpp"
#include "slotdiff/denoise/trace.hpp"

namespace slotdiff {

/// The reward of one denoising step for online RL: progress_bonus per inserted token minus the
/// step's semantic change. With no bonus, inserting nothing would be optimal; the bonus prices
/// progress against drift (the notes' creativeness knob, seen from the training side).
struct step_reward {
  float progress_bonus = 0.05f;
  float operator()(float change, std::size_t inserted) const {
    if (std::isnan(change)) throw input_error("step_reward: needs the semantic change of the step, got NaN");
    return progress_bonus * static_cast<float>(inserted) - change;
  }
};

/// One candidate step from a state.
struct candidate_step {
  std::vector<insertion> inserted;  ///< slots of the state
  std::vector<token_id> result;     ///< the state after the step
  float change = 0.0f;              ///< semantic change of the step
  float reward = 0.0f;              ///< step_reward of it
};

/// A ranked pair: `chosen` changed the meaning least among the candidates, `rejected` most.
struct preference_pair {
  std::vector<token_id> state;
  candidate_step chosen, rejected;
};

struct preference_options {
  std::size_t samples = 4;  ///< candidate steps drawn per state (K >= 2)
  denoise_options step{.sampling = {.temperature = 1.0f}};  ///< how each candidate step is drawn
  step_reward reward{};
};

/// For each state, draws `samples` candidate steps (sequence j of the state uses seed index j) and
/// pairs the one of least semantic change with the one of most. States whose candidates insert
/// nothing, or all change the meaning equally, give no pair.
/// Throws: options_error if samples < 2; input_error if the semantic measure measures nothing (and
/// what denoise throws).
template <denoiser_backend Backend, semantic_measure Semantics>
std::vector<preference_pair> make_preferences(Backend& backend, std::span<const std::vector<token_id>> states,
                                              const Semantics& semantics, const preference_options& opt = {}) {
  if (opt.samples < 2)
    throw options_error("preference_options: samples must be at least 2 per state, got " + std::to_string(opt.samples));
  if (semantics.dimension() == 0)
    throw input_error("make_preferences: preference pairs need a semantic measure, got one of dimension 0");
  std::vector<preference_pair> pairs;
  for (std::size_t si = 0; si < states.size(); ++si) {
    const std::vector<std::vector<token_id>> copies(opt.samples, states[si]);
    denoise_options step = opt.step;
    step.max_steps = 1;
    step.trace = true;
    step.seed = opt.step.seed ^ (0x9E3779B97F4A7C15ull * (si + 1));
    const auto gens = denoise(backend, std::span<const std::vector<token_id>>(copies), stop::never{}, step, semantics);
    std::vector<candidate_step> cands;
    for (const generation& g : gens) {
      if (g.trace.empty() || g.trace[0].inserted.empty()) continue;
      cands.push_back({g.trace[0].inserted, g.tokens, g.trace[0].change,
                       opt.reward(g.trace[0].change, g.trace[0].inserted.size())});
    }
    if (cands.size() < 2) continue;
    const auto [lo, hi] = std::minmax_element(cands.begin(), cands.end(),
                                              [](const candidate_step& a, const candidate_step& b) { return a.change < b.change; });
    if (!(lo->change < hi->change)) continue;
    pairs.push_back({states[si], *lo, *hi});
  }
  return pairs;
}

/// Writes one JSON object per pair: {"state": [...], "state_text": "...", "chosen": {...}, "rejected": {...}}
/// with, for each side, "tokens", "text", "inserted" ([slot, token] pairs), "change" and "reward".
/// `text` detokenises a token list.
template <class Text>
void write_preferences_jsonl(std::ostream& out, std::span<const preference_pair> pairs, Text&& text) {
  auto ids = [](std::span<const token_id> v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s + "]";
  };
  auto side = [&](const candidate_step& c) {
    std::string s = "{\"tokens\":" + ids(c.result) + ",\"text\":" + detail::json_string(text(c.result)) + ",\"inserted\":[";
    for (std::size_t j = 0; j < c.inserted.size(); ++j)
      s += (j ? ",[" : "[") + std::to_string(c.inserted[j].slot) + "," + std::to_string(c.inserted[j].token) + "]";
    return s + "],\"change\":" + detail::json_number(c.change) + ",\"reward\":" + detail::json_number(c.reward) + "}";
  };
  for (const preference_pair& p : pairs) {
    out << "{\"state\":" << ids(p.state) << ",\"state_text\":" << detail::json_string(text(p.state))
        << ",\"chosen\":" << side(p.chosen) << ",\"rejected\":" << side(p.rejected) << "}\n";
  }
}

}  // namespace slotdiff
