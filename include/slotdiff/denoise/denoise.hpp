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
#include <vector>

#include "slotdiff/concepts/denoiser_backend.hpp"
#include "slotdiff/concepts/slot_sequence.hpp"
#include "slotdiff/concepts/stop_policy.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/denoise/candidates.hpp"
#include "slotdiff/denoise/ragged_batch.hpp"
#include "slotdiff/denoise/sampling.hpp"
#include "slotdiff/denoise/semantics.hpp"
#include "slotdiff/denoise/trace.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/slots/vector_slots.hpp"
#include "slotdiff/stop/policies.hpp"

namespace slotdiff {

/// Which of the drawn tokens a step inserts. The three rules compose: slots whose drawn token is
/// not "none" and has probability >= min_confidence, most confident first, at most max_insertions
/// of them, accepted while the step's semantic change stays <= budget.
///
/// The budget rule: candidates are tried in order of confidence and acceptance stops at the first
/// one that would push the change of the step above the budget, so a larger budget never accepts
/// fewer. One exception keeps a generation from getting stuck: when even the single most confident
/// insertion exceeds the budget, that one insertion is accepted alone.
struct fill_options {
  float min_confidence = 0.0f;
  std::size_t max_insertions = std::numeric_limits<std::size_t>::max();
  float budget = std::numeric_limits<float>::infinity();

  void validate() const {
    if (!(min_confidence >= 0.0f && min_confidence <= 1.0f))
      throw error("slotdiff: fill min_confidence must lie in [0, 1], got " + std::to_string(min_confidence));
    if (max_insertions == 0) throw error("slotdiff: fill max_insertions must be at least 1");
    if (!(budget > 0.0f)) throw error("slotdiff: the semantic budget must be > 0, got " + std::to_string(budget));
  }
};

struct denoise_options {
  sampling_options sampling{};
  fill_options fill{};
  std::size_t candidates = 16;  ///< asked of the backend per slot, 1..256
  std::size_t max_steps = 256;  ///< hard cap whatever the stop policy says (generation::hit_step_cap)
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

/// Grows every sequence of `seqs` in place until `stop` says it is done (or max_steps).
///
/// Start from keywords (they stay, in order: insertions only ever go between or around them) or
/// from empty sequences (the root slot). `seqs[i]` stops on its own; finished sequences leave the
/// batch the backend sees, and `ragged_batch` rows are always the still-active sequences in order.
/// Returns one generation per sequence (tokens, births, steps, trace).
///
/// Requires: every token of every sequence lies in [0, backend.vocabulary_size()) and is not none_id().
/// Throws: slotdiff::error on invalid options, start tokens, or backend answers (naming sequence and
/// slot); the sequences then hold the steps applied before the error, each step whole.
template <denoiser_backend Backend, slot_sequence Seq, stop_policy Stop, semantic_measure Semantics = no_semantics>
  requires std::same_as<typename Seq::layout_type, typename Backend::layout_type>
std::vector<generation> denoise(Backend& backend, std::span<Seq> seqs, Stop stop, const denoise_options& opt = {},
                                const Semantics& semantics = {}) {
  using layout = typename Backend::layout_type;
  opt.sampling.validate();
  opt.fill.validate();
  if (opt.candidates == 0 || opt.candidates > 256)
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
  const std::span<const float> target = semantics.target();

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
        if (!target.empty()) report.target_similarity = 1.0f - semantics.distance(before_vec, target);
      }
      if (out[i].steps >= opt.max_steps) {
        out[i].hit_step_cap = true;
        continue;
      }
      if (stop(report)) continue;

      // One token per slot.
      chosen.clear();
      chosen_p.clear();
      if (opt.sampling.repetition_penalty != 1.0f) {
        sorted_tokens.assign(before_tokens.begin(), before_tokens.end());
        std::sort(sorted_tokens.begin(), sorted_tokens.end());
      }
      auto present = [&](token_id t) { return std::binary_search(sorted_tokens.begin(), sorted_tokens.end(), t); };
      for (std::size_t s = s0; s < s1; ++s) {
        const slot_choice c = sample_slot(cand.ids_of(s), cand.logp_of(s), none, opt.sampling, present, rngs[i]);
        if (c.token != none && c.probability >= opt.fill.min_confidence) {
          chosen.push_back({s - s0, c.token});
          chosen_p.push_back(c.probability);
        }
      }
      // Most confident first (ties: leftmost slot), at most max_insertions, then the budget.
      order.resize(chosen.size());
      for (std::size_t j = 0; j < order.size(); ++j) order[j] = j;
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return chosen_p[a] > chosen_p[b]; });
      if (order.size() > opt.fill.max_insertions) order.resize(opt.fill.max_insertions);
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
          const float d = semantics.distance(before_vec, trial_vec);
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
      for (std::size_t j : picked) accepted.push_back(chosen[j]), accepted_p.push_back(chosen_p[j]);

      seq.apply(accepted);
      if (dim != 0 && std::isnan(change)) {
        trial_tokens.resize(seq.size());
        seq.copy_tokens(trial_tokens);
        semantics.embed(trial_tokens, trial_vec);
        change = semantics.distance(before_vec, trial_vec);
      }
      ++out[i].steps;
      inserted_last[i] = accepted.size();
      change_last[i] = change;
      if (opt.trace) {
        out[i].trace.push_back({.inserted = accepted, .probability = accepted_p, .change = change,
                                .best_insertion = report.best_insertion});
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
