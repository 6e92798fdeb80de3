// slotdiff/denoise/denoise.hpp: the generation loop. Each step asks the backend for every slot's
// candidates, draws one token per slot, chooses which slots to fill, applies them to the slot
// sequence, and asks the stop policy whether the sequence is done.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "slotdiff/concepts/denoiser_backend.hpp"
#include "slotdiff/concepts/slot_sequence.hpp"
#include "slotdiff/concepts/stop_policy.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/denoise/candidates.hpp"
#include "slotdiff/denoise/limits.hpp"
#include "slotdiff/denoise/ragged_batch.hpp"
#include "slotdiff/denoise/sampling.hpp"
#include "slotdiff/denoise/semantics.hpp"
#include "slotdiff/denoise/trace.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/slots/vector_slots.hpp"
#include "slotdiff/stop/policies.hpp"

namespace slotdiff {

/// How many insertions one step may put into one gap.
enum class gap_policy : std::uint8_t {
  /// At most one insertion per gap per step. The model draws every slot independently, so two
  /// tokens drawn for the two slots that face each other across a gap (side_layout: the right slot of
  /// token i and the left slot of token i + 1) were each chosen for a neighbour that did not have the
  /// other one: "a feeling of of something". Of two such draws only the more probable is inserted
  /// (ties: the left slot); the other slot may be filled by a later step, which sees the first token.
  /// With gap_layout (one slot per gap) the rule changes nothing.
  one_per_gap,
  /// Every slot on its own: up to the layout's limit per gap (two per interior gap with side_layout).
  /// What an oracle replaying a noising trajectory needs, since noising may empty two cells of a gap.
  independent,
};

/// Which of the drawn tokens a step inserts. The rules compose, in this order:
///  1. the drawn tokens that are not "none" and have probability >= min_confidence;
///  2. the gap rule (`gaps`): by default at most one per gap, the most probable;
///     (sampling_options::no_adjacent_repeat also keeps two equal tokens out of one gap under
///     gap_policy::independent);
///  3. the progress rule: when fewer than `min_insertions` remain, the most probable real candidates
///     of the slots still empty (ranked by probability divided by the repetition penalty when the
///     token is already present; each of probability > 0, >= min_confidence and >= the sampling's
///     min_probability; within the gap rule) are added until there are min_insertions or no
///     candidate is left. A step therefore inserts something whenever the model offers any
///     admissible word, and ending a generation is the stop policy's decision (e.g.
///     stop::probability_below, which reads the best insertion over all slots), not an accident of
///     every slot drawing none. 0 turns the rule off;
///  4. most confident first, at most max_insertions;
///  5. accepted while the step's semantic change stays <= budget.
///
/// The budget rule: candidates are tried in order of confidence and acceptance stops at the first
/// one that would push the change of the step above the budget, so a larger budget never accepts
/// fewer. One exception keeps a generation from getting stuck: when even the single most confident
/// insertion exceeds the budget, that one insertion is accepted alone.
struct fill_options {
  float min_confidence = 0.0f;
  std::size_t max_insertions = std::numeric_limits<std::size_t>::max();
  float budget = std::numeric_limits<float>::infinity();
  gap_policy gaps = gap_policy::one_per_gap;
  std::size_t min_insertions = 1;

  void validate() const {
    if (!(min_confidence >= 0.0f && min_confidence <= 1.0f))
      throw error("slotdiff: fill min_confidence must lie in [0, 1], got " + std::to_string(min_confidence));
    if (max_insertions == 0) throw error("slotdiff: fill max_insertions must be at least 1");
    if (!(budget > 0.0f)) throw error("slotdiff: the semantic budget must be > 0, got " + std::to_string(budget));
    if (gaps != gap_policy::one_per_gap && gaps != gap_policy::independent)
      throw error("slotdiff: fill gaps must be one_per_gap or independent, got " + std::to_string(static_cast<int>(gaps)));
    if (min_insertions > max_insertions)
      throw error("slotdiff: fill min_insertions " + std::to_string(min_insertions) + " exceeds max_insertions " +
                  std::to_string(max_insertions));
  }
};

struct denoise_options {
  sampling_options sampling{};
  fill_options fill{};
  std::size_t candidates = 16;  ///< asked of the backend per slot, 1..max_candidates (256)
  std::size_t max_steps = 256;  ///< hard cap whatever the stop policy says (generation::hit_step_cap)
  /// Hard cap on a sequence's length in tokens (keywords included): a step's insertions are trimmed,
  /// the most confident kept, so that no text grows beyond it. The stop policy's own hard limit
  /// (stop::length_cap: stop::max_length, also inside any_of) applies too; the smaller wins.
  std::size_t max_length = std::numeric_limits<std::size_t>::max();
  std::uint64_t seed = 0;       ///< sequence i draws from its own generator seeded from (seed, i): independent of the batch around it
  bool trace = true;
};

namespace detail {

/// tokens with a sorted batch of insertions applied (the layout's gaps), for trial steps.
template <class Layout>
void apply_to(std::span<const token_id> tokens, std::span<const insertion> sorted, std::vector<token_id>& out) {
  out.clear();
  const std::size_t n = tokens.size();
  std::size_t i = 0;
  for (const insertion& ins : sorted) {
    const std::size_t g = Layout::gap_of(ins.slot, n);
    for (; i < g; ++i) out.push_back(tokens[i]);
    out.push_back(ins.token);
  }
  for (; i < n; ++i) out.push_back(tokens[i]);
}

inline std::uint64_t sequence_seed(std::uint64_t seed, std::size_t i) {
  return detail::splitmix64(seed ^ (0xD1B54A32D192ED03ull * (static_cast<std::uint64_t>(i) + 1)));
}

}  // namespace detail

/// Grows every sequence of `seqs` in place until it is done. Before each step of a sequence, in order
/// (generation::ended_by says which one ended it):
///  1. step_cap: it has had denoise_options::max_steps steps;
///  2. length_cap: it has min(denoise_options::max_length, stop::length_cap(stop)) tokens. The limit
///     is hard: a step's insertions are trimmed to fit, the most confident kept;
///  3. policy: `stop` says so (it sees the step_report before the step);
///  4. nothing_admissible: no slot offers a word the rules admit (real, probability > 0, >=
///     min_confidence and min_probability, not a neighbour under no_adjacent_repeat); the text
///     cannot change any more.
/// An empty sequence draws its first word without min_probability (the root slot's best word is
/// usually under it), and stop::probability_below never stops an empty sequence, so generating from
/// nothing gives text. A sampled step that inserts nothing although words were admissible (every
/// slot drew none, possible with fill_options::min_insertions = 0) does not end the run: it counts as
/// a step, is traced with `inserted` empty and `admissible` > 0, and the next step draws again.
///
/// Start from keywords (they stay, in order: insertions only ever go between or around them) or
/// from empty sequences (the root slot). `seqs[i]` stops on its own; finished sequences leave the
/// batch the backend sees, and `ragged_batch` rows are always the still-active sequences in order.
/// Returns one generation per sequence (tokens, births, steps, trace).
///
/// Requires: every token of every sequence lies in [0, backend.vocabulary_size()) and is not none_id().
/// Throws: slotdiff::error on invalid options, start tokens, backend answers (fetch_candidates: naming
/// the sequence by its index in `seqs` and the slot) or a semantic distance that is NaN; the
/// sequences then hold the steps applied before the error, each step whole.
template <denoiser_backend Backend, slot_sequence Seq, stop_policy Stop, semantic_measure Semantics = no_semantics>
  requires std::same_as<typename Seq::layout_type, typename Backend::layout_type>
std::vector<generation> denoise(Backend& backend, std::span<Seq> seqs, Stop stop, const denoise_options& opt = {},
                                const Semantics& semantics = {}) {
  using layout = typename Backend::layout_type;
  opt.sampling.validate();
  opt.fill.validate();
  if (opt.candidates == 0 || opt.candidates > max_candidates)
    throw error("slotdiff: denoise candidates must lie in 1..256, got " + std::to_string(opt.candidates));
  const std::size_t dim = semantics.dimension();
  if (std::isfinite(opt.fill.budget) && dim == 0)
    throw error("slotdiff: a semantic budget needs a semantic measure (pass an embedding_change to denoise)");
  const token_id none = backend.none_id();
  const auto vocab = static_cast<std::size_t>(backend.vocabulary_size());

  const std::size_t count = seqs.size();
  std::vector<generation> out(count);
  std::vector<sampling_rng> rngs;
  std::vector<std::size_t> inserted_last(count, 0);
  std::vector<float> change_last(count, std::numeric_limits<float>::quiet_NaN());
  std::vector<std::size_t> active;
  for (std::size_t i = 0; i < count; ++i) {
    rngs.emplace_back(detail::sequence_seed(opt.seed, i));
    for (std::size_t j = 0; j < seqs[i].size(); ++j) {
      const token_id t = seqs[i].token(j);
      if (t < 0 || static_cast<std::size_t>(t) >= vocab || t == none)
        throw error("slotdiff: sequence " + std::to_string(i) + " holds token " + std::to_string(t) + " at position " +
                    std::to_string(j) + ", not a real token of the backend's vocabulary of " + std::to_string(vocab));
    }
    active.push_back(i);
  }

  ragged_buffer batch;
  std::vector<std::size_t> offsets;
  candidate_table cand;
  std::vector<float> scratch, before_vec(dim), trial_vec(dim), target_vec;
  std::vector<token_id> before_tokens, trial_tokens, sorted_tokens;
  std::vector<insertion> chosen, accepted;
  std::vector<float> chosen_p, accepted_p;
  std::vector<std::size_t> order;
  struct pick {
    std::size_t slot;
    token_id token;
    float probability;
    bool forced;
  };
  std::vector<pick> picks;
  std::vector<std::pair<float, pick>> spare;
  std::vector<unsigned char> slot_taken, gap_taken;
  const std::span<const float> target = semantics.target();
  const std::size_t length_cap = std::min(opt.max_length, stop::length_cap(stop));
  // A semantic distance is compared with the budget and the stop thresholds; NaN would compare false
  // everywhere and accept every insertion, so it is an error.
  auto measured = [&](float d, std::size_t seq, const char* what) {
    if (std::isnan(d))
      throw error("slotdiff: denoise: the semantic measure returned NaN for " + std::string(what) + " of sequence " +
                  std::to_string(seq) + " at step " + std::to_string(out[seq].steps));
    return d;
  };

  while (!active.empty()) {
    batch.clear();
    for (std::size_t i : active) seqs[i].copy_tokens(batch.append(seqs[i].size()));
    ragged_batch view = batch.view();
    view.origin = active;
    slot_offsets<layout>(view, offsets);
    fetch_candidates(backend, view, offsets, opt.candidates, cand, scratch);

    std::vector<std::size_t> still;
    for (std::size_t row = 0; row < active.size(); ++row) {
      const std::size_t i = active[row];
      Seq& seq = seqs[i];
      const std::size_t s0 = offsets[row], s1 = offsets[row + 1];

      step_report report{.sequence = i, .steps = out[i].steps, .length = seq.size(), .inserted_last = inserted_last[i],
                         .best_insertion = 0.0f, .change_last = change_last[i]};
      for (std::size_t s = s0; s < s1; ++s) {
        const auto ids = cand.ids_of(s);
        const auto lp = cand.logp_of(s);
        for (std::size_t j = 0; j < ids.size(); ++j) {
          if (ids[j] != none) {
            report.best_insertion = std::max(report.best_insertion, std::exp(lp[j]));
            break;
          }
        }
      }
      before_tokens.resize(seq.size());
      seq.copy_tokens(before_tokens);
      if (dim != 0) {
        semantics.embed(before_tokens, before_vec);
        if (!target.empty()) report.target_similarity = 1.0f - measured(semantics.distance(before_vec, target), i, "the distance to the target");
      }
      // The stop rules, in order (docs/denoising.md, "Stop rules").
      const std::size_t n = before_tokens.size();
      if (out[i].steps >= opt.max_steps) {
        out[i].hit_step_cap = true;
        out[i].ended_by = stop_reason::step_cap;
        continue;
      }
      if (n >= length_cap) {
        out[i].ended_by = stop_reason::length_cap;
        continue;
      }
      if (stop(report)) {
        out[i].ended_by = stop_reason::policy;
        continue;
      }
      // An empty sequence draws its first word without min_probability: the root slot spreads its
      // mass over every word that can end a noising trajectory, so its best word is usually under
      // any useful floor, and generating from nothing would otherwise give nothing.
      sampling_options sampling = opt.sampling;
      if (n == 0) sampling.min_probability = 0.0f;
      const float floor = std::max(opt.fill.min_confidence, sampling.min_probability);

      if (opt.sampling.repetition_penalty != 1.0f) {
        sorted_tokens.assign(before_tokens.begin(), before_tokens.end());
        std::sort(sorted_tokens.begin(), sorted_tokens.end());
      }
      auto present = [&](token_id t) { return std::binary_search(sorted_tokens.begin(), sorted_tokens.end(), t); };
      // no_adjacent_repeat: the tokens on either side of a slot's gap.
      auto neighbour = [&](std::size_t slot, token_id t) {
        if (!opt.sampling.no_adjacent_repeat) return false;
        const std::size_t g = layout::gap_of(slot, n);
        return (g > 0 && before_tokens[g - 1] == t) || (g < n && before_tokens[g] == t);
      };
      auto admissible = [&](std::size_t slot, token_id t, float p) {
        return t != none && p > 0.0f && p >= floor && !neighbour(slot, t);
      };
      // A state where no slot offers an admissible word cannot change any more: done.
      std::size_t open_slots = 0;
      for (std::size_t s = s0; s < s1; ++s) {
        const auto ids = cand.ids_of(s);
        const auto lp = cand.logp_of(s);
        for (std::size_t j = 0; j < ids.size(); ++j)
          if (admissible(s - s0, ids[j], std::exp(lp[j]))) {
            ++open_slots;
            break;
          }
      }
      if (open_slots == 0) {
        out[i].ended_by = stop_reason::nothing_admissible;
        continue;
      }

      // One token per slot.
      picks.clear();
      for (std::size_t s = s0; s < s1; ++s) {
        auto banned = [&](token_id t) { return neighbour(s - s0, t); };
        const slot_choice c = sample_slot(cand.ids_of(s), cand.logp_of(s), none, sampling, present, banned, rngs[i]);
        if (c.token != none && c.probability >= opt.fill.min_confidence) picks.push_back({s - s0, c.token, c.probability, false});
      }
      // The gap rule: picks are in slot order, so the picks of one gap are adjacent.
      if (opt.fill.gaps == gap_policy::one_per_gap) {
        std::size_t w = 0;
        for (std::size_t r = 0; r < picks.size(); ++r) {
          if (w > 0 && layout::gap_of(picks[w - 1].slot, n) == layout::gap_of(picks[r].slot, n)) {
            if (picks[r].probability > picks[w - 1].probability) picks[w - 1] = picks[r];
          } else {
            picks[w++] = picks[r];
          }
        }
        picks.resize(w);
      } else if (opt.sampling.no_adjacent_repeat) {
        // Two equal tokens drawn for the two slots of one gap would land side by side: keep the more probable.
        std::size_t w = 0;
        for (std::size_t r = 0; r < picks.size(); ++r) {
          if (w > 0 && picks[w - 1].token == picks[r].token &&
              layout::gap_of(picks[w - 1].slot, n) == layout::gap_of(picks[r].slot, n)) {
            if (picks[r].probability > picks[w - 1].probability) picks[w - 1] = picks[r];
          } else {
            picks[w++] = picks[r];
          }
        }
        picks.resize(w);
      }
      // The progress rule: the best remaining candidates when the draws insert too few.
      if (picks.size() < opt.fill.min_insertions) {
        const std::size_t slots = s1 - s0;
        slot_taken.assign(slots, 0);
        gap_taken.assign(n + 1, 0);
        for (const pick& p : picks) slot_taken[p.slot] = 1, gap_taken[layout::gap_of(p.slot, n)] = 1;
        spare.clear();
        for (std::size_t s = 0; s < slots; ++s) {
          if (slot_taken[s]) continue;
          const auto ids = cand.ids_of(s0 + s);
          const auto lp = cand.logp_of(s0 + s);
          float best_score = -std::numeric_limits<float>::infinity();
          std::size_t best = ids.size();
          for (std::size_t j = 0; j < ids.size(); ++j) {
            const float p = std::exp(lp[j]);
            if (!admissible(s, ids[j], p)) continue;
            float score = lp[j];
            if (opt.sampling.repetition_penalty != 1.0f && present(ids[j])) score -= std::log(opt.sampling.repetition_penalty);
            if (score > best_score) best_score = score, best = j;
          }
          if (best < ids.size()) spare.push_back({best_score, {s, ids[best], std::exp(lp[best]), true}});
        }
        std::stable_sort(spare.begin(), spare.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
        for (const auto& entry : spare) {
          const pick& p = entry.second;
          if (picks.size() >= opt.fill.min_insertions) break;
          const std::size_t g = layout::gap_of(p.slot, n);
          if (opt.fill.gaps == gap_policy::one_per_gap && gap_taken[g]) continue;
          gap_taken[g] = 1;
          picks.push_back(p);
        }
        std::sort(picks.begin(), picks.end(), [](const pick& a, const pick& b) { return a.slot < b.slot; });
      }
      chosen.clear();
      chosen_p.clear();
      for (const pick& p : picks) chosen.push_back({p.slot, p.token}), chosen_p.push_back(p.probability);
      // Most confident first (ties: leftmost slot), at most max_insertions, then the budget.
      order.resize(chosen.size());
      for (std::size_t j = 0; j < order.size(); ++j) order[j] = j;
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return chosen_p[a] > chosen_p[b]; });
      if (order.size() > opt.fill.max_insertions) order.resize(opt.fill.max_insertions);
      // The hard length limit: the most confident insertions that fit (n < length_cap here).
      if (order.size() > length_cap - n) order.resize(length_cap - n);
      float change = std::numeric_limits<float>::quiet_NaN();
      std::size_t take = order.size();
      if (std::isfinite(opt.fill.budget) && !order.empty()) {
        take = 0;
        for (std::size_t m = 1; m <= order.size(); ++m) {
          accepted.clear();
          for (std::size_t j = 0; j < m; ++j) accepted.push_back(chosen[order[j]]);
          std::sort(accepted.begin(), accepted.end(), [](auto& a, auto& b) { return a.slot < b.slot; });
          detail::apply_to<layout>(before_tokens, accepted, trial_tokens);
          semantics.embed(trial_tokens, trial_vec);
          const float d = measured(semantics.distance(before_vec, trial_vec), i, "a trial step");
          if (d > opt.fill.budget) {
            if (m == 1) take = 1, change = d;  // the progress rule: the best insertion alone
            break;
          }
          take = m;
          change = d;
        }
      }
      accepted.clear();
      accepted_p.clear();
      std::vector<std::size_t> picked(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(take));
      std::sort(picked.begin(), picked.end());  // chosen is in slot order
      std::size_t forced_accepted = 0;
      for (std::size_t j : picked) {
        accepted.push_back(chosen[j]), accepted_p.push_back(chosen_p[j]);
        forced_accepted += picks[j].forced;
      }

      seq.apply(accepted);
      if (dim != 0 && std::isnan(change)) {
        trial_tokens.resize(seq.size());
        seq.copy_tokens(trial_tokens);
        semantics.embed(trial_tokens, trial_vec);
        change = measured(semantics.distance(before_vec, trial_vec), i, "the step's change");
      }
      ++out[i].steps;
      inserted_last[i] = accepted.size();
      change_last[i] = change;
      if (opt.trace) {
        out[i].trace.push_back({.inserted = accepted, .probability = accepted_p, .change = change,
                                .best_insertion = report.best_insertion, .forced = forced_accepted,
                                .admissible = open_slots});
      }
      still.push_back(i);
    }
    active.swap(still);
  }

  for (std::size_t i = 0; i < count; ++i) {
    out[i].tokens.resize(seqs[i].size());
    out[i].births.resize(seqs[i].size());
    seqs[i].copy_tokens(out[i].tokens);
    seqs[i].copy_births(out[i].births);
  }
  return out;
}

/// Convenience: starts from token lists (keywords, or empty for the root slot) in vector_slots.
template <denoiser_backend Backend, stop_policy Stop, semantic_measure Semantics = no_semantics>
std::vector<generation> denoise(Backend& backend, std::span<const std::vector<token_id>> starts, Stop stop,
                                const denoise_options& opt = {}, const Semantics& semantics = {}) {
  using seq_type = vector_slots<typename Backend::layout_type>;
  std::vector<seq_type> seqs;
  seqs.reserve(starts.size());
  for (const auto& s : starts) seqs.emplace_back(s, static_cast<token_id>(backend.vocabulary_size()));
  return denoise(backend, std::span<seq_type>(seqs), std::move(stop), opt, semantics);
}

}  // namespace slotdiff
