// slotdiff/noise/objective.hpp: the seed's dynamic objective. Each step removes the feasible set
// whose removal moves the sentence embedding least: argmin_S d(embed(x_t), embed(x_t \ S)).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/concepts/distance_metric.hpp"
#include "slotdiff/concepts/embedder.hpp"
#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/selection/select.hpp"

namespace slotdiff {

/// The objective: an embedder (held by pointer; it must outlive the noising) and a metric.
/// Sequences of at most `exact_up_to` tokens (capped at 24) are solved exactly by enumerating every
/// feasible k-set; longer ones greedily, adding one token at a time with all candidates rescored.
///
///     noise(ids, embedding_objective<my_embedder, cosine>{.embedder = &e}, {.schedule = noise_schedule::per_step(2)});
template <leave_one_out_embedder E, distance_metric M>
struct embedding_objective {
  const E* embedder = nullptr;
  M metric{};
  std::size_t exact_up_to = 16;
};

/// One step's choice under the objective: flags k tokens of `tokens` in `removed` and returns
/// d(embed(tokens), embed(tokens without them)), or +infinity with nothing flagged when no feasible
/// k-set exists (exact) / greedy gets stuck (then the tokens it did flag stay flagged).
///
/// Complexity: exact, O(C(n, k) n d); greedy, O(k (n d + n cost(metric))).
/// Throws: error if the embedder pointer is null, the metric gives NaN, or exact is asked for n > 24.
template <slot_layout Layout, leave_one_out_embedder E, distance_metric M>
float select_by_objective(std::span<const token_id> tokens, const embedding_objective<E, M>& obj, std::size_t k,
                          selection_method method, std::vector<std::uint8_t>& removed) {
  if (obj.embedder == nullptr) throw error("embedding_objective: no embedder");
  const E& emb = *obj.embedder;
  const std::size_t n = tokens.size(), d = emb.dimension();
  removed.assign(n, 0);
  constexpr float inf = std::numeric_limits<float>::infinity();
  if (k == 0) return 0.0f;
  if (k > n) return inf;
  std::vector<float> base(d), cand(d);
  emb.embed(tokens, std::span<float>(base));
  auto distance = [&](std::span<const float> v) {
    const float r = static_cast<float>(obj.metric(std::span<const float>(base), v));
    if (std::isnan(r)) throw error("embedding_objective: the metric returned NaN on a sequence of " + std::to_string(n) + " tokens");
    return r;
  };
  std::vector<token_id> rest;
  rest.reserve(n);
  if (method == selection_method::exact) {
    if (n > 24) throw error("embedding_objective: exact selection enumerates subsets; n = " + std::to_string(n) + " > 24");
    std::vector<std::uint8_t> flags(n);
    float best = inf;
    std::uint32_t best_set = 0;
    // Gosper's hack: every n-bit word with k bits set, in increasing order.
    for (std::uint32_t set = (1u << k) - 1; set < (1u << n);) {
      for (std::size_t i = 0; i < n; ++i) flags[i] = (set >> i) & 1u;
      if (is_feasible_removal<Layout>(flags)) {
        rest.clear();
        for (std::size_t i = 0; i < n; ++i)
          if (!flags[i]) rest.push_back(tokens[i]);
        emb.embed(std::span<const token_id>(rest), std::span<float>(cand));
        const float dist = distance(cand);
        if (dist < best) {
          best = dist;
          best_set = set;
        }
      }
      const std::uint32_t c = set & (0u - set), r = set + c;
      if (r == 0) break;
      set = (((r ^ set) >> 2) / c) | r;
    }
    if (best == inf) return inf;
    for (std::size_t i = 0; i < n; ++i) removed[i] = (best_set >> i) & 1u;
    return best;
  }
  // Greedy with rescoring: the leave-one-out embeddings of the current remainder give, in one
  // O(n d) call, the distance of every one-token extension of the set chosen so far.
  std::vector<std::uint32_t> where(n);
  for (std::size_t i = 0; i < n; ++i) where[i] = static_cast<std::uint32_t>(i);
  rest.assign(tokens.begin(), tokens.end());
  std::vector<float> loo;
  float last = inf;
  for (std::size_t step = 0; step < k; ++step) {
    const std::size_t m = rest.size();
    loo.resize(m * d);
    emb.embed_leave_one_out(std::span<const token_id>(rest), std::span<float>(loo));
    std::size_t pick = m;
    float best = inf;
    for (std::size_t j = 0; j < m; ++j) {
      if (!detail::can_add_removal<Layout>(removed, where[j])) continue;
      const float dist = distance(std::span<const float>(loo.data() + j * d, d));
      if (dist < best) {
        best = dist;
        pick = j;
      }
    }
    if (pick == m) return inf;
    removed[where[pick]] = 1;
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(pick));
    where.erase(where.begin() + static_cast<std::ptrdiff_t>(pick));
    last = best;
  }
  return last;
}

/// Noises with the embedding objective instead of per-token scores. The schedule gives k per step
/// (threshold schedules are refused: the objective has no per-token scores); `opts.selection` chooses
/// exact (for n <= obj.exact_up_to) or greedy; keep_keywords and max_steps work as in noise().
/// Throws: error on a threshold schedule, or select_by_objective's errors.
template <slot_layout Layout = side_slots, leave_one_out_embedder E, distance_metric M>
trajectory<Layout> noise(std::span<const token_id> tokens, const embedding_objective<E, M>& obj,
                         const noise_options& opts = {}) {
  if (opts.schedule.type == noise_schedule::kind::threshold)
    throw error("noise: the embedding objective has no per-token scores for a threshold schedule (" +
                opts.schedule.to_string() + ")");
  std::vector<float> zeros;
  auto budget = [&](std::span<const token_id> current, std::span<const std::uint32_t>, step_index) {
    zeros.assign(current.size(), 0.0f);
    return max_feasible_removals<Layout>(std::span<const float>(zeros));
  };
  auto choose = [&](std::span<const token_id> current, std::span<const std::uint32_t>, std::size_t k, step_index,
                    std::vector<std::uint8_t>& mask) -> std::size_t {
    const bool exact = opts.selection == selection_method::exact && current.size() <= std::min<std::size_t>(obj.exact_up_to, 24);
    select_by_objective<Layout>(current, obj, k, exact ? selection_method::exact : selection_method::greedy, mask);
    std::size_t got = 0;
    for (auto f : mask) got += f;
    return got;
  };
  return detail::noise_loop<Layout>(tokens, opts, budget, choose);
}

}  // namespace slotdiff
