// slotdiff/backends/oracle.hpp: a backend that replays known trajectories, for tests and for
// measuring the loop's own overhead.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <ranges>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/concepts/replayable_trajectory.hpp"
#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/denoise/ragged_batch.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/noise/targets_options.hpp"

namespace slotdiff {

/// Replays trajectory j for the sequence whose origin (its index in denoise's start batch) is j:
/// when that sequence equals x_{t+1}, every slot gets probability 1 on its target (a token or
/// none); at x_0 every slot says none. Sequences off their trajectory are an error.
template <slot_layout Layout>
class oracle_backend {
public:
  using layout_type = Layout;

  oracle_backend(std::size_t vocabulary, token_id none) : vocab_(vocabulary), none_(none) {
    if (none < 0 || static_cast<std::size_t>(none) >= vocabulary)
      throw options_error("oracle none id " + std::to_string(none) + " outside the vocabulary of " +
                          std::to_string(vocabulary));
  }

  /// Adds a trajectory; the j-th added replays for origin j. Throws if its targets do not match
  /// the layout's slot counts or name ids outside the vocabulary.
  template <replayable_trajectory Trajectory>
  void add(const Trajectory& tr) {
    entry e;
    const auto steps = static_cast<std::size_t>(tr.steps());
    for (std::size_t t = 0; t <= steps; ++t) {
      const auto& s = tr.state(t);
      e.states.emplace_back(std::ranges::begin(s), std::ranges::end(s));
    }
    for (std::size_t t = 0; t < steps; ++t) {
      const auto& g = detail::targets_with_none(tr, t, none_);
      e.targets.emplace_back(std::ranges::begin(g), std::ranges::end(g));
      if (e.targets.back().size() != Layout::slot_count(e.states[t + 1].size()))
        throw input_error("oracle trajectory " + std::to_string(entries_.size()) + " step " + std::to_string(t) +
                          " has " + std::to_string(e.targets.back().size()) + " targets for " +
                          std::to_string(Layout::slot_count(e.states[t + 1].size())) + " slots");
      for (token_id id : e.targets.back())
        if (id < 0 || static_cast<std::size_t>(id) >= vocab_)
          throw input_error("oracle target id " + std::to_string(id) + " outside the vocabulary");
    }
    entries_.push_back(std::move(e));
  }

  std::size_t size() const noexcept { return entries_.size(); }
  std::size_t vocabulary_size() const noexcept { return vocab_; }
  token_id none_id() const noexcept { return none_; }

  /// One-hot candidates: the target at log-probability 0, the rest at -inf.
  std::size_t top_k(const ragged_batch& batch, std::size_t k, std::span<token_id> ids, std::span<float> logp) {
    std::size_t row = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const std::vector<token_id>* targets = find(batch, i);
      const std::size_t slots = Layout::slot_count(batch.length(i));
      for (std::size_t s = 0; s < slots; ++s, ++row) {
        const token_id want = targets ? (*targets)[s] : none_;
        ids[row * k] = want;
        logp[row * k] = 0.0f;
        token_id filler = 0;
        for (std::size_t j = 1; j < k; ++j, ++filler) {
          if (filler == want) ++filler;
          ids[row * k + j] = filler;
          logp[row * k + j] = -std::numeric_limits<float>::infinity();
        }
      }
    }
    return row;
  }

private:
  struct entry {
    std::vector<std::vector<token_id>> states;   // x_0 .. x_T
    std::vector<std::vector<token_id>> targets;  // targets[t]: slots of x_{t+1} -> x_t
  };

  // The targets for sequence i of the batch, or nullptr at x_0.
  const std::vector<token_id>* find(const ragged_batch& batch, std::size_t i) const {
    const std::size_t o = batch.origin_of(i);
    if (o >= entries_.size())
      throw input_error("oracle has " + std::to_string(entries_.size()) + " trajectories, asked for sequence origin " +
                        std::to_string(o));
    const entry& e = entries_[o];
    const auto seq = batch.sequence(i);
    for (std::size_t t = 0; t < e.states.size(); ++t) {
      if (std::ranges::equal(e.states[t], seq)) return t == 0 ? nullptr : &e.targets[t - 1];
    }
    throw input_error("oracle: sequence " + std::to_string(i) + " (origin " + std::to_string(o) + ", length " +
                      std::to_string(seq.size()) + ") is not a state of its trajectory");
  }

  std::size_t vocab_;
  token_id none_;
  std::vector<entry> entries_;
};

}  // namespace slotdiff
