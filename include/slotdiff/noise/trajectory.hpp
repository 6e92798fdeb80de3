// slotdiff/noise/trajectory.hpp: a noising trajectory x_0 -> x_1 -> ... -> x_T and the per-slot
// targets a denoiser must produce to walk it back.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/noise/targets_options.hpp"
#include "slotdiff/slots/layout.hpp"

namespace slotdiff {

/// x_0 and, for every token of x_0, the step at which noising removed it: removed_at(i) in [1, T]
/// for a token removed at step t (present in x_0 .. x_{t-1}, gone from x_t), and T + 1 for a token that
/// is still there in x_T (a keyword). So x_t is exactly the tokens with removed_at > t, in order.
///
/// Invariants (checked by the constructor): every step removes at least one token and removes a set
/// that Layout can undo in one denoising step (is_feasible_removal).
///
///     trajectory<side_layout> tr = noise(ids, idf_scorer(model), {});
///     tr.state(tr.steps());     // the keywords
///     tr.targets(t);            // for each slot of x_{t+1}: the token to insert, or the none id
///     tr.targets(t, {.none_id = vocab.none_id()});  // another vocabulary's "insert nothing"
template <slot_layout Layout = side_layout>
class trajectory {
public:
  using layout_type = Layout;
  /// The id a target slot holds by default when nothing is to be inserted there (targets_options).
  static constexpr token_id none = default_none_id;

  trajectory() = default;

  /// Throws: feasibility_error naming the step if a step removes nothing or a set Layout cannot
  /// undo; error if the lengths differ, T > n (some step would remove nothing), a token id is
  /// negative, or a removal step lies outside [1, T+1].
  /// Complexity: O(n + T), whatever the steps (a reader of untrusted files cannot be made to spend
  /// O(n T) = O(n^2) time; the serial reference, one is_feasible_removal mask per step, is in the tests).
  trajectory(std::vector<token_id> x0, std::vector<step_index> removed_at, step_index steps)
      : tokens_(std::move(x0)), removed_at_(std::move(removed_at)), steps_(steps) {
    if (tokens_.size() != removed_at_.size())
      throw input_error("trajectory: " + std::to_string(tokens_.size()) + " tokens but " +
                        std::to_string(removed_at_.size()) + " removal steps");
    if (steps_ < 0) throw input_error("trajectory: negative step count " + std::to_string(steps_));
    // Every step removes at least one token, so T <= n: a larger T is refused before any T + 1 is
    // formed (T = 2^31 - 1 would overflow it).
    if (static_cast<std::size_t>(steps_) > tokens_.size() || steps_ == std::numeric_limits<step_index>::max())
      throw input_error("trajectory: " + std::to_string(steps_) + " steps for " + std::to_string(tokens_.size()) +
                        " tokens (each step removes at least one)");
    for (std::size_t i = 0; i < tokens_.size(); ++i) {
      if (tokens_[i] < 0)
        throw input_error("trajectory: negative token id " + std::to_string(tokens_[i]) + " at position " + std::to_string(i));
      if (removed_at_[i] < 1 || removed_at_[i] > steps_ + 1)
        throw input_error("trajectory: token " + std::to_string(i) + " removed at step " + std::to_string(removed_at_[i]) +
                          ", outside [1, " + std::to_string(steps_ + 1) + "]");
    }
    validate_steps();
  }

  /// T, the number of noising steps.
  step_index steps() const noexcept { return steps_; }
  /// |x_0|.
  std::size_t size() const noexcept { return tokens_.size(); }
  /// x_0.
  std::span<const token_id> tokens() const noexcept { return tokens_; }
  /// One entry per token of x_0, see the class comment.
  std::span<const step_index> removed_at() const noexcept { return removed_at_; }

  /// |x_t|. Requires: 0 <= t <= steps(). Complexity: O(n).
  std::size_t length(step_index t) const {
    check_step(t, steps_, "length");
    return static_cast<std::size_t>(std::count_if(removed_at_.begin(), removed_at_.end(), [t](step_index r) { return r > t; }));
  }

  /// Appends x_t to `out`. Throws: error if t is outside [0, steps()]. Complexity: O(n).
  void state_into(step_index t, std::vector<token_id>& out) const {
    check_step(t, steps_, "state");
    for (std::size_t i = 0; i < tokens_.size(); ++i)
      if (removed_at_[i] > t) out.push_back(tokens_[i]);
  }
  std::vector<token_id> state(step_index t) const {
    std::vector<token_id> out;
    state_into(t, out);
    return out;
  }

  /// Appends, for each of the Layout::slot_count(|x_{t+1}|) slots of x_{t+1}, the token that slot must
  /// receive to rebuild x_t, or options.none_id. The tokens removed from one gap go into that gap's
  /// slots in order, filling the first slots of the gap (for side_layout, a lone token between two
  /// kept tokens goes into the right slot of the left one).
  /// Throws: input_error if t is outside [0, steps() - 1] or options.none_id < 0. Complexity: O(n).
  void targets_into(step_index t, std::vector<token_id>& out, const targets_options& options = {}) const {
    check_step(t, steps_ - 1, "targets");
    if (options.none_id < 0)
      throw input_error("trajectory::targets: targets_options::none_id must be >= 0, got " + std::to_string(options.none_id));
    const std::size_t base = out.size();
    const std::size_t next_len = length(t + 1);
    const std::size_t slots = Layout::slot_count(next_len);
    out.resize(base + slots, options.none_id);
    // Walk x_t: `gap` counts the kept tokens seen so far (the gap of x_{t+1} we are in); `slot` is
    // the next free slot of that gap.
    std::size_t gap = 0, slot = first_slot_of_gap(0, next_len, 0);
    for (std::size_t i = 0; i < tokens_.size(); ++i) {
      const step_index r = removed_at_[i];
      if (r <= t) continue;
      if (r == t + 1) {
        // Feasibility (checked at construction) guarantees the gap has a free slot.
        out[base + slot] = tokens_[i];
        ++slot;
      } else {
        ++gap;
        slot = first_slot_of_gap(gap, next_len, slot);
      }
    }
  }
  std::vector<token_id> targets(step_index t, const targets_options& options = {}) const {
    std::vector<token_id> out;
    targets_into(t, out, options);
    return out;
  }

  friend bool operator==(const trajectory&, const trajectory&) = default;

private:
  // Every step removes a non-empty set that Layout can refill in one step: the maximal runs of
  // tokens removed at step t + 1, among the tokens of x_t, each fit their gap (leading, interior,
  // trailing, or the whole sequence), as is_feasible_removal<Layout> decides on x_t's mask. Tokens are
  // bucketed by removal step (counting sort) and kept in a doubly linked list of x_t, so each token
  // is looked at O(1) times in all.
  void validate_steps() const {
    const std::size_t n = tokens_.size();
    const auto T = static_cast<std::size_t>(steps_);
    std::vector<std::size_t> first(T + 2, 0), order(n);
    for (step_index r : removed_at_) ++first[static_cast<std::size_t>(r)];
    for (std::size_t s = 1, sum = 0; s < first.size(); ++s) std::swap(sum, first[s]), sum += first[s];  // exclusive prefix sums
    {
      std::vector<std::size_t> at(first);
      for (std::size_t i = 0; i < n; ++i) order[at[static_cast<std::size_t>(removed_at_[i])]++] = i;
    }
    constexpr std::size_t nil = static_cast<std::size_t>(-1);
    std::vector<std::size_t> prev(n), next(n);
    for (std::size_t i = 0; i < n; ++i) {
      prev[i] = i == 0 ? nil : i - 1;
      next[i] = i + 1 == n ? nil : i + 1;
    }
    constexpr run_limits lim = Layout::limits;
    std::size_t present = n;
    for (std::size_t s = 1; s <= T; ++s) {
      const std::size_t b = first[s], e = s + 1 < first.size() ? first[s + 1] : n;
      if (b == e) throw feasibility_error("trajectory: step " + std::to_string(s) + " removes nothing");
      const auto step = static_cast<step_index>(s);
      for (std::size_t k = b; k < e; ++k) {
        const std::size_t i = order[k];  // ascending positions: the first one seen of a run is its leftmost
        if (prev[i] != nil && removed_at_[prev[i]] == step) continue;
        std::size_t run = 1, last = i;
        while (next[last] != nil && removed_at_[next[last]] == step) last = next[last], ++run;
        const bool kept_before = prev[i] != nil, kept_after = next[last] != nil;
        const std::size_t limit = kept_before ? (kept_after ? lim.interior : lim.trailing) : (kept_after ? lim.leading : lim.whole);
        if (run > limit)
          throw feasibility_error("trajectory: step " + std::to_string(s) + " removes " + std::to_string(e - b) + " of " +
                                  std::to_string(present) + " tokens in runs that " + std::string(Layout::name) +
                                  " cannot refill in one step");
      }
      for (std::size_t k = b; k < e; ++k) {  // unlink the step's tokens: x_{t+1}
        const std::size_t i = order[k];
        if (prev[i] != nil) next[prev[i]] = next[i];
        if (next[i] != nil) prev[next[i]] = prev[i];
      }
      present -= e - b;
    }
  }

  static void check_step(step_index t, step_index last, const char* what) {
    if (t < 0 || t > last)
      throw input_error(std::string("trajectory::") + what + ": step " + std::to_string(t) + " outside [0, " +
                        std::to_string(last) + "]");
  }

  // The first slot whose gap is `gap`, searching from `from` (slots are numbered with non-decreasing
  // gaps, so the scan over the whole trajectory is O(slots)).
  static std::size_t first_slot_of_gap(std::size_t gap, std::size_t n, std::size_t from) {
    const std::size_t slots = Layout::slot_count(n);
    while (from < slots && Layout::gap_of(from, n) < gap) ++from;
    return from;
  }

  std::vector<token_id> tokens_;
  std::vector<step_index> removed_at_;
  step_index steps_ = 0;
};

/// The same removal steps over other ids of the same tokens: x_0[i] becomes ids[i], removed_at and
/// T stay. Noising scores the words in one tokenizer (IDF over every word of a corpus, where a model
/// vocabulary would fold rare words into <unk>, as common as "the") and a model learns in another;
/// both split text into the same words, so position i is the same word in both. Used by
/// noise_text (pipeline/text_trajectories.hpp), `slotdiff noise` and the demo.
/// Throws: error if ids.size() != tr.size() or an id is negative (the constructor's checks).
/// Complexity: O(n + T).
template <slot_layout Layout>
trajectory<Layout> with_tokens(const trajectory<Layout>& tr, std::vector<token_id> ids) {
  return trajectory<Layout>(std::move(ids), std::vector<step_index>(tr.removed_at().begin(), tr.removed_at().end()), tr.steps());
}

}  // namespace slotdiff
