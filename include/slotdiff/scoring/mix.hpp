// slotdiff/scoring/mix.hpp: weighted sums of importance scorers.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "slotdiff/concepts/importance_scorer.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/error.hpp"

namespace slotdiff {

namespace detail {
/// Rewrites part[i] as its rank among the n = part.size() scores divided by n - 1, in [0, 1] (ties in
/// position order; +infinity stays +infinity, after every finite score). Requires: n > 1 and no NaN.
/// `order` is scratch space. Complexity: O(n log n).
inline void rank_normalize(std::vector<float>& part, std::vector<std::size_t>& order) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  const std::size_t n = part.size();
  order.resize(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return part[a] < part[b]; });
  thread_local std::vector<float> r;
  r.resize(n);
  for (std::size_t k = 0; k < n; ++k) r[order[k]] = part[order[k]] == inf ? inf : static_cast<float>(k) / static_cast<float>(n - 1);
  part.assign(r.begin(), r.end());
}

/// out[i] += w * part[i], where a token either side scores +infinity stays +infinity (protected).
inline void add_weighted(std::span<const float> part, std::span<float> out, float w) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  for (std::size_t i = 0; i < part.size(); ++i) out[i] = (out[i] == inf || part[i] == inf) ? inf : out[i] + w * part[i];
}

/// Throws input_error naming `who`, the part and the position if a part scored NaN (a NaN has no
/// rank: sorting it with < is undefined behaviour).
inline void check_part_scores(std::span<const float> part, std::size_t j, const char* who) {
  for (std::size_t i = 0; i < part.size(); ++i)
    if (std::isnan(part[i]))
      throw input_error(std::string(who) + ": part " + std::to_string(j) + " scored position " + std::to_string(i) + " of " +
                        std::to_string(part.size()) + " NaN");
}
}  // namespace detail

/// One term of a weighted_mix.
template <importance_scorer S>
struct weighted {
  float weight = 1.0f;
  S scorer;
};
template <class S>
weighted(float, S) -> weighted<S>;

/// How a weighted_mix puts its parts on one scale before adding them.
enum class mix_normalize : std::uint8_t {
  none,  ///< add the raw scores (the caller knows their scales agree)
  rank,  ///< each part's scores become their rank in the sentence, divided by n - 1, in [0, 1]
};

/// sum_j weight_j * score_j, per token. A token that any part scores +infinity stays +infinity
/// (protected). Dynamic if any part is.
///
///     weighted_mix mix(mix_normalize::rank, weighted{0.8f, idf}, weighted{0.2f, random_scorer{7}});
///
/// Complexity: the parts' costs, plus O(n log n) per part with rank normalisation.
/// Throws: input_error naming the part and the position when a part scores NaN.
template <importance_scorer... S>
class weighted_mix {
public:
  static_assert(sizeof...(S) > 0, "a weighted_mix needs at least one scorer");
  static constexpr bool dynamic = (is_dynamic_scorer_v<S> || ...);

  /// Throws: options_error if a weight is not finite.
  explicit weighted_mix(mix_normalize normalize, weighted<S>... parts)
      : normalize_(normalize), weights_{parts.weight...}, parts_(std::move(parts.scorer)...) {
    for (std::size_t j = 0; j < weights_.size(); ++j)
      if (!std::isfinite(weights_[j]))
        throw options_error("weighted_mix: the weight of part " + std::to_string(j) + " is " +
                            std::to_string(weights_[j]) + ", not a finite number");  // quoted by tests/denoise
  }

  void score(std::span<const token_id> tokens, std::span<float> out) const {
    const std::size_t n = tokens.size();
    thread_local std::vector<float> part;
    thread_local std::vector<std::size_t> order;
    part.resize(n);
    std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), 0.0f);
    std::size_t j = 0;
    std::apply(
        [&](const auto&... scorer) {
          ((scorer.score(tokens, std::span<float>(part)), check(part, j), add(part, out, weights_[j++], order)), ...);
        },
        parts_);
  }

private:
  static void check(const std::vector<float>& part, std::size_t j) { detail::check_part_scores(part, j, "weighted_mix"); }
  void add(std::vector<float>& part, std::span<float> out, float w, std::vector<std::size_t>& order) const {
    if (normalize_ == mix_normalize::rank && part.size() > 1) detail::rank_normalize(part, order);
    detail::add_weighted(part, out, w);
  }

  mix_normalize normalize_;
  std::array<float, sizeof...(S)> weights_;
  std::tuple<S...> parts_;
};

}  // namespace slotdiff
