// slotdiff/denoise/denoise.hpp: the generation loop. Each step asks the backend for every slot's
// candidates, draws one token per slot, chooses which slots to fill, applies them to the slot
// sequence, and asks the stop policy whether the sequence is done.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
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

  /// Throws: options_error naming the first field out of range.
  void validate() const {
    if (!(min_confidence >= 0.0f && min_confidence <= 1.0f))
      throw options_error("fill_options: min_confidence must lie in [0, 1], got " + std::to_string(min_confidence));
    if (max_insertions == 0) throw options_error("fill_options: max_insertions must be at least 1, got 0");
    if (!(budget > 0.0f)) throw options_error("fill_options: the semantic budget must be > 0, got " + std::to_string(budget));
    if (gaps != gap_policy::one_per_gap && gaps != gap_policy::independent)
      throw options_error("fill_options: gaps must be one_per_gap or independent, got " + std::to_string(static_cast<int>(gaps)));
    if (min_insertions > max_insertions)
      throw options_error("fill_options: min_insertions " + std::to_string(min_insertions) + " exceeds max_insertions " +
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

/// A token chosen for one slot of a step: drawn by sample_slot, or added by the progress rule (forced).
struct slot_pick {
  std::size_t slot;   ///< within the sequence, before the step
  token_id token;
  float probability;  ///< the model's, before penalty or temperature
  bool forced;        ///< added by fill_options' progress rule, not drawn
};

/// step_report::best_insertion: over slots [first, first + count) of `cand`, the largest probability
/// of a slot's best real (not none) candidate; 0 when no slot offers one. Complexity: O(count k).
inline float best_insertion(const candidate_table& cand, std::size_t first, std::size_t count, token_id none) {
  float best = 0.0f;
  for (std::size_t s = first; s < first + count; ++s) {
    const auto ids = cand.ids_of(s);
    const auto lp = cand.logp_of(s);
    for (std::size_t j = 0; j < ids.size(); ++j) {
      if (ids[j] != none) {
        best = std::max(best, std::exp(lp[j]));
        break;
      }
    }
  }
  return best;
}

/// One sequence's slots in one step: their candidates, the tokens before the step, and the rules a
/// candidate must pass to be inserted (docs/denoising.md, steps 4 and 5). Slots are numbered within
/// the sequence (0 .. count - 1). Borrows everything it points to.
template <class Layout>
struct step_slots {
  const candidate_table& cand;
  std::size_t first;                 ///< the sequence's first row in cand
  std::size_t count;                 ///< its slots: Layout::slot_count(tokens.size())
  std::span<const token_id> tokens;  ///< the sequence before the step
  std::span<const token_id> sorted;  ///< tokens, sorted (filled only when the repetition penalty is on)
  token_id none;
  sampling_options sampling;         ///< the step's: an empty sequence draws without min_probability
  float floor;                       ///< max(fill_options::min_confidence, sampling.min_probability)

  std::span<const token_id> ids(std::size_t s) const noexcept { return cand.ids_of(first + s); }
  std::span<const float> logp(std::size_t s) const noexcept { return cand.logp_of(first + s); }
  std::size_t gap(std::size_t s) const noexcept { return Layout::gap_of(s, tokens.size()); }
  /// Whether t is already in the sequence (read only under a repetition penalty).
  bool present(token_id t) const { return std::binary_search(sorted.begin(), sorted.end(), t); }
  /// no_adjacent_repeat: t equals a token on either side of slot s's gap.
  bool neighbour(std::size_t s, token_id t) const {
    if (!sampling.no_adjacent_repeat) return false;
    const std::size_t g = gap(s), n = tokens.size();
    return (g > 0 && tokens[g - 1] == t) || (g < n && tokens[g] == t);
  }
  /// A candidate the fill rules may insert: real, probability > 0 and >= the floor, not a neighbour.
  bool admissible(std::size_t s, token_id t, float p) const { return t != none && p > 0.0f && p >= floor && !neighbour(s, t); }
};

/// trace_step::admissible: how many slots offer at least one admissible candidate. 0 ends the
/// generation (stop_reason::nothing_admissible). Complexity: O(count k).
template <class Layout>
std::size_t count_admissible_slots(const step_slots<Layout>& slots) {
  std::size_t open = 0;
  for (std::size_t s = 0; s < slots.count; ++s) {
    const auto ids = slots.ids(s);
    const auto lp = slots.logp(s);
    for (std::size_t j = 0; j < ids.size(); ++j)
      if (slots.admissible(s, ids[j], std::exp(lp[j]))) {
        ++open;
        break;
      }
  }
  return open;
}

/// Of each run of adjacent picks that `same` groups together, keeps the most probable (ties: the
/// first). Picks are in slot order, so the picks of one gap are adjacent.
template <class Same>
void keep_most_probable(std::vector<slot_pick>& picks, Same same) {
  std::size_t w = 0;
  for (std::size_t r = 0; r < picks.size(); ++r) {
    if (w > 0 && same(picks[w - 1], picks[r])) {
      if (picks[r].probability > picks[w - 1].probability) picks[w - 1] = picks[r];
    } else {
      picks[w++] = picks[r];
    }
  }
  picks.resize(w);
}

/// The gap rule (fill_options::gaps): at most one pick per gap, the most probable; under
/// gap_policy::independent with no_adjacent_repeat, no two equal tokens in one gap.
template <class Layout>
void apply_gap_rule(std::vector<slot_pick>& picks, const step_slots<Layout>& slots, gap_policy gaps) {
  auto same_gap = [&](const slot_pick& a, const slot_pick& b) { return slots.gap(a.slot) == slots.gap(b.slot); };
  if (gaps == gap_policy::one_per_gap) {
    keep_most_probable(picks, same_gap);
  } else if (slots.sampling.no_adjacent_repeat) {
    // Two equal tokens drawn for the two slots of one gap would land side by side: keep the more probable.
    keep_most_probable(picks, [&](const slot_pick& a, const slot_pick& b) { return a.token == b.token && same_gap(a, b); });
  }
}

/// Buffers of the progress rule, kept across steps.
struct progress_scratch {
  std::vector<unsigned char> slot_taken, gap_taken;
  std::vector<std::pair<float, slot_pick>> spare;
};

/// The progress rule (fill_options::min_insertions): while there are fewer picks than that, adds the
/// best admissible candidate of an empty slot (ranked by log-probability less log(repetition penalty)
/// for a token already present; within the gap rule), best first. Leaves picks in slot order.
/// Complexity: O(count k + count log count).
template <class Layout>
void apply_progress_rule(std::vector<slot_pick>& picks, const step_slots<Layout>& slots, const fill_options& fill,
                         progress_scratch& scratch) {
  if (picks.size() >= fill.min_insertions) return;
  const float penalty = slots.sampling.repetition_penalty;
  scratch.slot_taken.assign(slots.count, 0);
  scratch.gap_taken.assign(slots.tokens.size() + 1, 0);
  for (const slot_pick& p : picks) scratch.slot_taken[p.slot] = 1, scratch.gap_taken[slots.gap(p.slot)] = 1;
  // The best admissible candidate of each slot nothing was drawn for.
  scratch.spare.clear();
  for (std::size_t s = 0; s < slots.count; ++s) {
    if (scratch.slot_taken[s]) continue;
    const auto ids = slots.ids(s);
    const auto lp = slots.logp(s);
    float best_score = -std::numeric_limits<float>::infinity();
    std::size_t best = ids.size();
    for (std::size_t j = 0; j < ids.size(); ++j) {
      const float p = std::exp(lp[j]);
      if (!slots.admissible(s, ids[j], p)) continue;
      float score = lp[j];
      if (penalty != 1.0f && slots.present(ids[j])) score -= std::log(penalty);
      if (score > best_score) best_score = score, best = j;
    }
    if (best < ids.size()) scratch.spare.push_back({best_score, {s, ids[best], std::exp(lp[best]), true}});
  }
  std::stable_sort(scratch.spare.begin(), scratch.spare.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& entry : scratch.spare) {
    const slot_pick& p = entry.second;
    if (picks.size() >= fill.min_insertions) break;
    const std::size_t g = slots.gap(p.slot);
    if (fill.gaps == gap_policy::one_per_gap && scratch.gap_taken[g]) continue;
    scratch.gap_taken[g] = 1;
    picks.push_back(p);
  }
  std::sort(picks.begin(), picks.end(), [](const slot_pick& a, const slot_pick& b) { return a.slot < b.slot; });
}

/// Indices of `picks`, most confident first (ties: leftmost slot), at most `limit` of them.
inline void rank_by_confidence(std::span<const slot_pick> picks, std::size_t limit, std::vector<std::size_t>& order) {
  order.resize(picks.size());
  for (std::size_t j = 0; j < order.size(); ++j) order[j] = j;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return picks[a].probability > picks[b].probability; });
  if (order.size() > limit) order.resize(limit);
}

/// How many of the ranked insertions a step takes, and its semantic change (NaN: not measured yet).
struct budget_choice {
  std::size_t take;
  float change;
};

/// One denoise() call: the sequences, their generators and results, and the buffers its steps reuse.
/// denoise() is the loop over its steps; each member is one step of the algorithm, in the order the
/// docs give (docs/denoising.md, "Denoising"; docs/design.md, "denoise() as named steps").
template <class Backend, class Seq, class Stop, class Semantics>
class denoise_run {
public:
  using layout = typename Backend::layout_type;

  /// Checks the options and the start tokens (throws before any backend call).
  denoise_run(Backend& backend, std::span<Seq> seqs, Stop stop, const denoise_options& opt, const Semantics& semantics)
      : backend_(backend), seqs_(seqs), stop_(std::move(stop)), opt_(opt), semantics_(semantics) {
    check_options();
    none_ = backend_.none_id();
    vocab_ = static_cast<std::size_t>(backend_.vocabulary_size());
    out_.resize(seqs_.size());
    inserted_last_.assign(seqs_.size(), 0);
    change_last_.assign(seqs_.size(), std::numeric_limits<float>::quiet_NaN());
    for (std::size_t i = 0; i < seqs_.size(); ++i) {
      rngs_.emplace_back(detail::sequence_seed(opt_.seed, i));
      check_start_tokens(i);
      active_.push_back(i);
    }
    before_vec_.resize(dim_);
    trial_vec_.resize(dim_);
    target_ = semantics_.target();
    length_cap_ = std::min(opt_.max_length, slotdiff::stop::length_cap(stop_));
  }

  bool any_active() const noexcept { return !active_.empty(); }

  /// One backend call for every still-active sequence, packed back to back (ragged_batch::origin:
  /// each row's index in `seqs`); the answer is checked by fetch_candidates.
  void fetch_candidates_of_active() {
    batch_.clear();
    for (std::size_t i : active_) seqs_[i].copy_tokens(batch_.append(seqs_[i].size()));
    ragged_batch view = batch_.view();
    view.origin = active_;
    slot_offsets<layout>(view, slot_offsets_);
    fetch_candidates(backend_, view, slot_offsets_, opt_.candidates, cand_, scratch_);
  }

  /// Steps every active sequence once, in order; those a stop rule ended leave the batch.
  void step_active() {
    still_.clear();
    for (std::size_t row = 0; row < active_.size(); ++row)
      if (step_sequence(row)) still_.push_back(active_[row]);
    active_.swap(still_);
  }

  /// The generations: each sequence's final tokens and births, with its steps and trace.
  std::vector<generation> results() {
    for (std::size_t i = 0; i < seqs_.size(); ++i) {
      out_[i].tokens.resize(seqs_[i].size());
      out_[i].births.resize(seqs_[i].size());
      seqs_[i].copy_tokens(out_[i].tokens);
      seqs_[i].copy_births(out_[i].births);
    }
    return std::move(out_);
  }

private:
  /// One step of the sequence in batch row `row`. False when a stop rule ends it instead.
  bool step_sequence(std::size_t row) {
    const std::size_t i = active_[row];
    const std::size_t first = slot_offsets_[row], count = slot_offsets_[row + 1] - first;
    const step_report report = report_before_step(i, first, count);
    if (const auto reason = stop_rule(i, report)) return end(i, *reason);
    const step_slots<layout> slots = rules_for_step(first, count);
    const std::size_t admissible = count_admissible_slots(slots);
    if (admissible == 0) return end(i, stop_reason::nothing_admissible);
    draw_one_token_per_slot(i, slots);
    apply_gap_rule(picks_, slots, opt_.fill.gaps);
    apply_progress_rule(picks_, slots, opt_.fill, progress_);
    // The hard length limit leaves room for length_cap - n insertions (n < length_cap here).
    rank_by_confidence(picks_, std::min(opt_.fill.max_insertions, length_cap_ - slots.tokens.size()), order_);
    const budget_choice chosen = take_within_budget(i);
    apply_and_trace(i, chosen, report.best_insertion, admissible);
    return true;
  }

  void check_options() {
    opt_.sampling.validate();
    opt_.fill.validate();
    if (opt_.candidates == 0 || opt_.candidates > max_candidates)
      detail::throw_as<options_error>("denoise_options: candidates must lie in 1..", max_candidates, ", got ", opt_.candidates);
    dim_ = semantics_.dimension();
    if (std::isfinite(opt_.fill.budget) && dim_ == 0)
      detail::throw_as<options_error>("denoise: a semantic budget needs a semantic measure (pass an embedding_change or a "
                                      "predictive_change to denoise), got budget ", opt_.fill.budget, " with a measure of dimension 0");
  }

  void check_start_tokens(std::size_t i) const {
    for (std::size_t j = 0; j < seqs_[i].size(); ++j) {
      const token_id t = seqs_[i].token(j);
      if (t < 0 || static_cast<std::size_t>(t) >= vocab_ || t == none_)
        detail::throw_as<input_error>("denoise: sequence ", i, " holds token ", t, " at position ", j,
                                      ", not a real token of the backend's vocabulary of ", vocab_);
    }
  }

  /// A semantic distance is compared with the budget and the stop thresholds; NaN would compare false
  /// everywhere and accept every insertion, so it is an error.
  float checked_distance(float d, std::size_t i, const char* what) const {
    if (std::isnan(d))
      detail::throw_as<input_error>("denoise: the semantic measure returned NaN for ", what, " of sequence ", i,
                                    " at step ", out_[i].steps);
    return d;
  }

  /// What the stop policy reads before the step; keeps the tokens (and their embedding) before it.
  step_report report_before_step(std::size_t i, std::size_t first, std::size_t count) {
    const Seq& seq = seqs_[i];
    step_report report{.sequence = i, .steps = out_[i].steps, .length = seq.size(), .inserted_last = inserted_last_[i],
                       .best_insertion = best_insertion(cand_, first, count, none_), .change_last = change_last_[i]};
    before_tokens_.resize(seq.size());
    seq.copy_tokens(before_tokens_);
    if (dim_ != 0) {
      semantics_.embed(before_tokens_, before_vec_);
      if (!target_.empty())
        report.target_similarity = 1.0f - checked_distance(semantics_.distance(before_vec_, target_), i, "the distance to the target");
    }
    return report;
  }

  /// The stop rules, in order (docs/denoising.md, "Stop rules"); nullopt: the step goes ahead.
  std::optional<stop_reason> stop_rule(std::size_t i, const step_report& report) {
    if (out_[i].steps >= opt_.max_steps) return stop_reason::step_cap;
    if (before_tokens_.size() >= length_cap_) return stop_reason::length_cap;
    if (stop_(report)) return stop_reason::policy;
    return std::nullopt;
  }

  bool end(std::size_t i, stop_reason reason) {
    out_[i].ended_by = reason;
    out_[i].hit_step_cap = reason == stop_reason::step_cap;
    return false;
  }

  /// The rules of this step. An empty sequence draws its first word without min_probability: the
  /// root slot spreads its mass over every word that can end a noising trajectory, so its best word
  /// is usually under any useful floor, and generating from nothing would otherwise give nothing.
  step_slots<layout> rules_for_step(std::size_t first, std::size_t count) {
    sampling_options sampling = opt_.sampling;
    if (before_tokens_.empty()) sampling.min_probability = 0.0f;
    if (opt_.sampling.repetition_penalty != 1.0f) {
      sorted_tokens_.assign(before_tokens_.begin(), before_tokens_.end());
      std::sort(sorted_tokens_.begin(), sorted_tokens_.end());
    }
    return {.cand = cand_, .first = first, .count = count, .tokens = before_tokens_, .sorted = sorted_tokens_,
            .none = none_, .sampling = sampling, .floor = std::max(opt_.fill.min_confidence, sampling.min_probability)};
  }

  /// One token per slot from the sequence's own generator, in slot order; the real tokens of
  /// probability >= min_confidence become picks.
  void draw_one_token_per_slot(std::size_t i, const step_slots<layout>& slots) {
    auto present = [&](token_id t) { return slots.present(t); };
    picks_.clear();
    for (std::size_t s = 0; s < slots.count; ++s) {
      auto banned = [&](token_id t) { return slots.neighbour(s, t); };
      const slot_choice c = sample_slot(slots.ids(s), slots.logp(s), none_, slots.sampling, present, banned, rngs_[i]);
      if (c.token != none_ && c.probability >= opt_.fill.min_confidence) picks_.push_back({s, c.token, c.probability, false});
    }
  }

  /// The budget rule (fill_options::budget): the longest most-confident-first prefix of order_ whose
  /// trial step changes the meaning by at most the budget, or the first insertion alone when even it
  /// exceeds it. Without a budget: all of order_, change not measured. One embed per trial prefix.
  budget_choice take_within_budget(std::size_t i) {
    budget_choice chosen{.take = order_.size(), .change = std::numeric_limits<float>::quiet_NaN()};
    if (!std::isfinite(opt_.fill.budget) || order_.empty()) return chosen;
    chosen.take = 0;
    for (std::size_t m = 1; m <= order_.size(); ++m) {
      accepted_.clear();
      for (std::size_t j = 0; j < m; ++j) accepted_.push_back({picks_[order_[j]].slot, picks_[order_[j]].token});
      std::sort(accepted_.begin(), accepted_.end(), [](auto& a, auto& b) { return a.slot < b.slot; });
      detail::apply_to<layout>(before_tokens_, accepted_, trial_tokens_);
      semantics_.embed(trial_tokens_, trial_vec_);
      const float d = checked_distance(semantics_.distance(before_vec_, trial_vec_), i, "a trial step");
      if (d > opt_.fill.budget) {
        if (m == 1) chosen = {1, d};  // the progress rule: the best insertion alone
        break;
      }
      chosen = {m, d};
    }
    return chosen;
  }

  /// Applies the chosen insertions (in slot order) to the sequence, measures the step's change if
  /// the budget did not, and records the step (trace_step).
  void apply_and_trace(std::size_t i, budget_choice chosen, float best, std::size_t admissible) {
    taken_.assign(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(chosen.take));
    std::sort(taken_.begin(), taken_.end());  // picks_ is in slot order
    accepted_.clear();
    accepted_p_.clear();
    std::size_t forced = 0;
    for (std::size_t j : taken_) {
      accepted_.push_back({picks_[j].slot, picks_[j].token}), accepted_p_.push_back(picks_[j].probability);
      forced += picks_[j].forced;
    }
    Seq& seq = seqs_[i];
    seq.apply(accepted_);
    if (dim_ != 0 && std::isnan(chosen.change)) {
      trial_tokens_.resize(seq.size());
      seq.copy_tokens(trial_tokens_);
      semantics_.embed(trial_tokens_, trial_vec_);
      chosen.change = checked_distance(semantics_.distance(before_vec_, trial_vec_), i, "the step's change");
    }
    ++out_[i].steps;
    inserted_last_[i] = accepted_.size();
    change_last_[i] = chosen.change;
    if (opt_.trace) {
      out_[i].trace.push_back({.inserted = accepted_, .probability = accepted_p_, .change = chosen.change,
                               .best_insertion = best, .forced = forced, .admissible = admissible});
    }
  }

  Backend& backend_;
  std::span<Seq> seqs_;
  Stop stop_;
  const denoise_options& opt_;
  const Semantics& semantics_;
  token_id none_ = 0;
  std::size_t vocab_ = 0, dim_ = 0, length_cap_ = 0;
  std::span<const float> target_;
  // Per sequence.
  std::vector<generation> out_;
  std::vector<sampling_rng> rngs_;
  std::vector<std::size_t> inserted_last_;
  std::vector<float> change_last_;
  std::vector<std::size_t> active_, still_;
  // Per step, reused.
  ragged_buffer batch_;
  std::vector<std::size_t> slot_offsets_;
  candidate_table cand_;
  std::vector<float> scratch_, before_vec_, trial_vec_;
  std::vector<token_id> before_tokens_, trial_tokens_, sorted_tokens_;
  std::vector<slot_pick> picks_;
  progress_scratch progress_;
  std::vector<std::size_t> order_, taken_;
  std::vector<insertion> accepted_;
  std::vector<float> accepted_p_;
};

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
/// Each step of a sequence runs, in order: the step_report, the stop rules, one draw per slot, the
/// fill rules (gap, progress, confidence, length), the budget search, apply and trace; these are the
/// members of detail::denoise_run, named so (docs/design.md, "denoise() as named steps").
///
/// Throws: options_error on invalid options (sampling, fill, candidates, a budget without a semantic
/// measure); input_error on a start token outside the vocabulary or equal to none, or a semantic
/// distance that is NaN; backend_error on a backend answer fetch_candidates refuses (naming the
/// sequence by its index in `seqs` and the slot). The sequences then hold the steps applied before
/// the error, each step whole.
template <denoiser_backend Backend, slot_sequence Seq, stop_policy Stop, semantic_measure Semantics = no_semantics>
  requires std::same_as<typename Seq::layout_type, typename Backend::layout_type>
std::vector<generation> denoise(Backend& backend, std::span<Seq> seqs, Stop stop, const denoise_options& opt = {},
                                const Semantics& semantics = {}) {
  detail::denoise_run<Backend, Seq, Stop, Semantics> run(backend, seqs, std::move(stop), opt, semantics);
  while (run.any_active()) {
    run.fetch_candidates_of_active();  // one backend call for every sequence still growing
    run.step_active();                 // each: report, stop rules, draw, fill rules, budget, apply, trace
  }
  return run.results();
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
