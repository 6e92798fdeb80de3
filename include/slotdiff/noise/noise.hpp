// slotdiff/noise/noise.hpp: the noiser. Removes the least important tokens step by step, each step a
// feasible removal set of the layout, until the schedule stops it; returns the trajectory.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/concepts/importance_scorer.hpp"
#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/noise/schedule.hpp"
#include "slotdiff/noise/trajectory.hpp"
#include "slotdiff/scoring/random.hpp"
#include "slotdiff/selection/select.hpp"
#include "slotdiff/slots/layout.hpp"

namespace slotdiff {

/// Everything noise() takes besides the tokens and the scorer; the layout is a template parameter.
///
///     noise<gap_layout>(ids, scorer, {.schedule = noise_schedule::per_step(2), .keep_keywords = 3});
struct noise_options {
  noise_schedule schedule = noise_schedule::fraction(0.5f);
  selection_method selection = selection_method::exact;
  std::size_t keep_keywords = 0;  ///< m: stop when m tokens remain (never remove below m)
  std::uint64_t seed = 0;         ///< breaks ties between equal scores; same seed, same trajectory
  std::size_t max_steps = 0;      ///< stop after this many steps (0: no limit)
  /// Stochastic selection (0: off, the deterministic least-score choice). Each step's scores are
  /// standardised over the removable tokens (mean 0, standard deviation 1, so one temperature means
  /// the same for every scorer) and perturbed, z_i - temperature * g_i with g_i standard Gumbel noise
  /// drawn from (seed, step, x_0 position); the selection then takes the least perturbed scores. For
  /// greedy selection without constraints this is the Gumbel-top-k trick: k tokens drawn without
  /// replacement with probability proportional to exp(-z_i / temperature) (Kool, van Hoof & Welling
  /// 2019, "Stochastic Beams and Where to Find Them"). Higher is more random. Must be >= 0 and finite.
  float temperature = 0.0f;
};

namespace detail {

/// The seeded uniform in (0, 1) behind every draw of a noising run: a hash of (seed, stream, a, b).
/// Streams keep the schedule's draws apart from the Gumbel draws.
inline double noise_uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t a, std::uint64_t b) noexcept {
  const std::uint64_t h = splitmix64(splitmix64(splitmix64(seed ^ stream) ^ a) ^ b);
  return (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;  // never 0 or 1
}
inline constexpr std::uint64_t schedule_stream = 0x5c4ed01e5c4ed01eull;
inline constexpr std::uint64_t gumbel_stream = 0x6ab6e16ab6e16ab6ull;

/// Standard Gumbel noise for (seed, step, x_0 position): -log(-log u).
inline float gumbel(std::uint64_t seed, std::uint64_t step, std::uint64_t position) noexcept {
  return static_cast<float>(-std::log(-std::log(noise_uniform(seed, gumbel_stream, step, position))));
}

/// Throws options_error naming the value unless temperature is finite and >= 0.
inline void check_temperature(float temperature) {
  if (!(temperature >= 0.0f) || !std::isfinite(temperature))
    throw options_error("noise_options: temperature must be finite and >= 0, got " + std::to_string(temperature));
}

/// The mean and the (population) standard deviation of the values below `below` (0 and 0 when there
/// are none; sd 0 for a single one): what the Gumbel perturbation of the scores (perturb_scores) and
/// of the objective's candidates (objective.hpp) standardise with. Complexity: O(n).
struct mean_sd {
  double mean = 0, sd = 0;
};
inline mean_sd mean_and_sd_below(std::span<const float> values, float below) {
  double sum = 0, sq = 0;
  std::size_t m = 0;
  for (float v : values)
    if (v < below) sum += v, ++m;
  const double mean = m ? sum / static_cast<double>(m) : 0.0;
  for (float v : values)
    if (v < below) sq += (v - mean) * (v - mean);
  return {mean, m > 1 ? std::sqrt(sq / static_cast<double>(m)) : 0.0};
}

/// Rewrites `scores` in place as z_i - temperature g_i over the tokens scoring below `below` (the
/// removable ones); the others become +infinity. z is the standardised score (0 when all removable
/// scores are equal). `positions` are the x_0 positions that seed each token's noise.
/// Complexity: O(n).
inline void perturb_scores(std::span<float> scores, std::span<const std::uint32_t> positions, float below, float temperature,
                           std::uint64_t seed, std::uint64_t step) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  const auto [mean, sd] = mean_and_sd_below(scores, below);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!(scores[i] < below)) {
      scores[i] = inf;
      continue;
    }
    const double z = sd > 0 ? (scores[i] - mean) / sd : 0.0;
    scores[i] = static_cast<float>(z - static_cast<double>(temperature) * gumbel(seed, step, positions[i]));
  }
}

}  // namespace detail

namespace detail {

/// The loop every noiser shares: `choose(current tokens, k, step, removed mask) -> count` picks a
/// step's removal set; this keeps the bookkeeping (which x_0 position goes at which step) in one place.
template <class Layout, class Budget, class Choose>
trajectory<Layout> noise_loop(std::span<const token_id> tokens, const noise_options& opts, Budget&& budget,
                              Choose&& choose) {
  opts.schedule.validate();
  check_temperature(opts.temperature);
  const std::size_t n0 = tokens.size();
  constexpr auto kept = std::numeric_limits<step_index>::max();
  std::vector<step_index> removed_at(n0, kept);
  std::vector<std::uint32_t> alive(n0);  // x_0 positions of x_t
  for (std::size_t i = 0; i < n0; ++i) alive[i] = static_cast<std::uint32_t>(i);
  std::vector<token_id> current(tokens.begin(), tokens.end());
  std::vector<std::uint8_t> mask;
  step_index t = 0;
  while (current.size() > opts.keep_keywords && (opts.max_steps == 0 || static_cast<std::size_t>(t) < opts.max_steps)) {
    const std::size_t n = current.size();
    // budget(current, alive, step) -> how many the layout allows, given the removable tokens
    const std::size_t feasible = budget(std::span<const token_id>(current), std::span<const std::uint32_t>(alive), t);
    const float u = opts.schedule.is_random()
                        ? static_cast<float>(noise_uniform(opts.seed, schedule_stream, static_cast<std::uint64_t>(t), 0))
                        : 0.0f;
    const std::size_t k = std::min(opts.schedule.removals(n, feasible, u), n - opts.keep_keywords);
    if (k == 0) break;
    const std::size_t got = choose(std::span<const token_id>(current), std::span<const std::uint32_t>(alive), k, t, mask);
    if (got == 0) break;
    ++t;
    std::size_t w = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (mask[i]) {
        removed_at[alive[i]] = t;
      } else {
        alive[w] = alive[i];
        current[w] = current[i];
        ++w;
      }
    }
    alive.resize(w);
    current.resize(w);
  }
  for (auto& r : removed_at)
    if (r == kept) r = t + 1;
  return trajectory<Layout>(std::vector<token_id>(tokens.begin(), tokens.end()), std::move(removed_at), t);
}

}  // namespace detail

/// Noises `tokens` under `Layout` with an importance scorer: at each step, the schedule's number of
/// tokens, chosen among the removable ones (score below the threshold, never +infinity) by greedy or
/// exact selection. A static scorer is scored once on x_0; a dynamic one is rescored on every x_t.
/// With opts.temperature > 0 each step's choice is stochastic (see noise_options::temperature).
///
/// Requires: token ids >= 0.
/// Complexity: steps x (scoring + selection); with the exact selection and a fraction schedule,
///   O(n^2) in the worst case per sentence, O(n log n) for greedy.
/// Throws: error on a NaN score (naming step and position) or a bad schedule; trajectory's errors
///   never (every step is feasible by construction).
template <slot_layout Layout = side_layout, importance_scorer S>
trajectory<Layout> noise(std::span<const token_id> tokens, const S& scorer, const noise_options& opts = {}) {
  std::vector<float> x0_scores;
  if constexpr (!is_dynamic_scorer_v<S>) {
    x0_scores.resize(tokens.size());
    scorer.score(tokens, std::span<float>(x0_scores));
  }
  std::vector<float> scores;
  const float below = opts.schedule.removable_below();
  auto current_scores = [&](std::span<const token_id> current, std::span<const std::uint32_t> alive) {
    scores.resize(current.size());
    if constexpr (is_dynamic_scorer_v<S>) {
      scorer.score(current, std::span<float>(scores));
    } else {
      for (std::size_t i = 0; i < alive.size(); ++i) scores[i] = x0_scores[alive[i]];
    }
  };
  auto budget = [&](std::span<const token_id> current, std::span<const std::uint32_t> alive, step_index t) {
    current_scores(current, alive);
    for (std::size_t i = 0; i < scores.size(); ++i)
      if (std::isnan(scores[i]))
        throw input_error("noise: step " + std::to_string(t + 1) + ": score of position " + std::to_string(i) + " (x_0 position " +
                          std::to_string(alive[i]) + ", token " + std::to_string(current[i]) + ") is NaN");
    return max_feasible_removals<Layout>(std::span<const float>(scores), below);
  };
  auto choose = [&](std::span<const token_id>, std::span<const std::uint32_t> alive, std::size_t k, step_index t,
                    std::vector<std::uint8_t>& mask) -> std::size_t {
    selection_options sel{.below = below, .seed = detail::splitmix64(opts.seed + static_cast<std::uint64_t>(t))};
    if (opts.temperature > 0.0f) {
      detail::perturb_scores(std::span<float>(scores), alive, below, opts.temperature, opts.seed, static_cast<std::uint64_t>(t));
      sel.below = std::numeric_limits<float>::infinity();
    }
    try {
      return select_removals<Layout>(opts.selection, std::span<const float>(scores), k, mask, sel);
    } catch (const error& e) {
      throw input_error("noise: step " + std::to_string(t + 1) + ": " + e.what());
    }
  };
  return detail::noise_loop<Layout>(tokens, opts, budget, choose);
}

}  // namespace slotdiff
