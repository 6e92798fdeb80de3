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

/// Stochastic choice for select_by_objective (see noise_options::temperature): each candidate's
/// distance is standardised over the candidates of the same choice and perturbed with standard Gumbel
/// noise times `temperature`, drawn from (seed, step, the candidate); the least perturbed value wins.
struct objective_sampling {
  float temperature = 0.0f;  ///< 0: the deterministic argmin
  std::uint64_t seed = 0;
  std::uint64_t step = 0;
  /// x_0 positions of `tokens` (seed each token's noise); empty: the positions in `tokens`.
  std::span<const std::uint32_t> positions = {};
};

namespace detail {
// The argmin of standardised-and-perturbed values; `key(j)` names candidate j for its Gumbel draw.
template <class Key>
std::size_t perturbed_argmin(std::span<const float> values, const objective_sampling& s, std::uint64_t salt, Key&& key) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  const auto [mean, sd] = mean_and_sd_below(values, inf);
  std::size_t pick = values.size();
  double best = inf;
  for (std::size_t j = 0; j < values.size(); ++j) {
    if (!(values[j] < inf)) continue;
    const double z = sd > 0 ? (values[j] - mean) / sd : 0.0;
    const double g = -std::log(-std::log(noise_uniform(s.seed, gumbel_stream ^ salt, s.step, key(j))));
    const double v = z - static_cast<double>(s.temperature) * g;
    if (v < best) best = v, pick = j;
  }
  return pick;
}
}  // namespace detail

/// One step's choice under the objective: flags k tokens of `tokens` in `removed` and returns
/// d(embed(tokens), embed(tokens without them)), or +infinity with nothing flagged when no feasible
/// k-set exists (exact) / greedy gets stuck (then the tokens it did flag stay flagged).
/// With sampling.temperature > 0 the choice is drawn (exact: among all feasible k-sets; greedy: at
/// each one-token extension) instead of the argmin.
///
/// Complexity: exact, O(C(n, k) n d); greedy, O(k (n d + n cost(metric))).
/// Throws: error if the embedder pointer is null, the metric gives NaN, or exact is asked for n > 24.
template <slot_layout Layout, leave_one_out_embedder E, distance_metric M>
float select_by_objective(std::span<const token_id> tokens, const embedding_objective<E, M>& obj, std::size_t k,
                          selection_method method, std::vector<std::uint8_t>& removed,
                          const objective_sampling& sampling = {}) {
  if (obj.embedder == nullptr) throw options_error("embedding_objective: no embedder");
  const E& emb = *obj.embedder;
  const std::size_t n = tokens.size(), d = emb.dimension();
  removed.assign(n, 0);
  constexpr float inf = std::numeric_limits<float>::infinity();
  if (k == 0) return 0.0f;
  if (k > n) return inf;
  const bool stochastic = sampling.temperature > 0.0f;
  auto position = [&](std::size_t i) -> std::uint64_t { return sampling.positions.empty() ? i : sampling.positions[i]; };
  std::vector<float> base(d), cand(d);
  emb.embed(tokens, std::span<float>(base));
  auto distance = [&](std::span<const float> v) {
    const float r = static_cast<float>(obj.metric(std::span<const float>(base), v));
    if (std::isnan(r)) throw input_error("embedding_objective: the metric returned NaN on a sequence of " + std::to_string(n) + " tokens");
    return r;
  };
  std::vector<token_id> rest;
  rest.reserve(n);
  if (method == selection_method::exact) {
    if (n > 24) throw options_error("embedding_objective: exact selection enumerates subsets; n = " + std::to_string(n) + " > 24");
    // At least 64 bytes of storage: GCC 12 at -O3 with AVX2 / AVX-512 turns the flag loop below into wide
    // vector stores and, knowing n <= 24, reports a buffer overflow that cannot happen (-Wstringop-overflow).
    std::vector<std::uint8_t> flag_storage(std::max<std::size_t>(n, 64));
    const std::span<std::uint8_t> flags(flag_storage.data(), n);
    float best = inf;
    std::uint32_t best_set = 0;
    std::vector<std::uint32_t> sets;  // stochastic: every feasible set and its distance
    std::vector<float> dists;
    // Gosper's hack: every n-bit word with k bits set, in increasing order.
    for (std::uint32_t set = (1u << k) - 1; set < (1u << n);) {
      for (std::size_t i = 0; i < n; ++i) flags[i] = (set >> i) & 1u;
      if (is_feasible_removal<Layout>(flags)) {
        rest.clear();
        for (std::size_t i = 0; i < n; ++i)
          if (!flags[i]) rest.push_back(tokens[i]);
        emb.embed(std::span<const token_id>(rest), std::span<float>(cand));
        const float dist = distance(cand);
        if (stochastic) {
          sets.push_back(set);
          dists.push_back(dist);
        } else if (dist < best) {
          best = dist;
          best_set = set;
        }
      }
      const std::uint32_t c = set & (0u - set), r = set + c;
      if (r == 0) break;
      set = (((r ^ set) >> 2) / c) | r;
    }
    if (stochastic && !sets.empty()) {
      // A set's key: the sorted x_0 positions it removes, hashed.
      const std::size_t pick = detail::perturbed_argmin(std::span<const float>(dists), sampling, 0, [&](std::size_t j) {
        std::uint64_t h = 0;
        for (std::size_t i = 0; i < n; ++i)
          if ((sets[j] >> i) & 1u) h = detail::splitmix64(h ^ position(i));
        return h;
      });
      best = dists[pick];
      best_set = sets[pick];
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
  std::vector<float> loo, dists;
  float last = inf;
  for (std::size_t step = 0; step < k; ++step) {
    const std::size_t m = rest.size();
    loo.resize(m * d);
    emb.embed_leave_one_out(std::span<const token_id>(rest), std::span<float>(loo));
    dists.assign(m, inf);
    for (std::size_t j = 0; j < m; ++j)
      if (detail::can_add_removal<Layout>(removed, where[j]))
        dists[j] = distance(std::span<const float>(loo.data() + j * d, d));
    std::size_t pick = m;
    if (stochastic) {
      pick = detail::perturbed_argmin(std::span<const float>(dists), sampling, detail::splitmix64(step + 1),
                                      [&](std::size_t j) { return position(where[j]); });
    } else {
      float best = inf;
      for (std::size_t j = 0; j < m; ++j)
        if (dists[j] < best) best = dists[j], pick = j;
    }
    if (pick == m) return inf;
    removed[where[pick]] = 1;
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(pick));
    where.erase(where.begin() + static_cast<std::ptrdiff_t>(pick));
    last = dists[pick];
  }
  return last;
}

/// Noises with the embedding objective instead of per-token scores. The schedule gives k per step
/// (threshold schedules are refused: the objective has no per-token scores); `opts.selection` chooses
/// exact (for n <= obj.exact_up_to) or greedy; keep_keywords, max_steps, temperature and random
/// schedules work as in noise().
/// Throws: error on a threshold schedule, or select_by_objective's errors.
template <slot_layout Layout = side_layout, leave_one_out_embedder E, distance_metric M>
trajectory<Layout> noise(std::span<const token_id> tokens, const embedding_objective<E, M>& obj,
                         const noise_options& opts = {}) {
  if (opts.schedule.type == noise_schedule::kind::threshold)
    throw options_error("noise: the embedding objective has no per-token scores for a threshold schedule (" +
                        opts.schedule.to_string() + ")");
  std::vector<float> zeros;
  auto budget = [&](std::span<const token_id> current, std::span<const std::uint32_t>, step_index) {
    zeros.assign(current.size(), 0.0f);
    return max_feasible_removals<Layout>(std::span<const float>(zeros));
  };
  auto choose = [&](std::span<const token_id> current, std::span<const std::uint32_t> alive, std::size_t k, step_index t,
                    std::vector<std::uint8_t>& mask) -> std::size_t {
    const bool exact = opts.selection == selection_method::exact && current.size() <= std::min<std::size_t>(obj.exact_up_to, 24);
    select_by_objective<Layout>(current, obj, k, exact ? selection_method::exact : selection_method::greedy, mask,
                                {.temperature = opts.temperature, .seed = opts.seed, .step = static_cast<std::uint64_t>(t),
                                 .positions = alive});
    std::size_t got = 0;
    for (auto f : mask) got += f;
    return got;
  };
  return detail::noise_loop<Layout>(tokens, opts, budget, choose);
}

}  // namespace slotdiff
