// slotdiff/noise/schedule.hpp: how many tokens each noising step removes.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "slotdiff/error.hpp"

namespace slotdiff {

/// A noising schedule: the number of tokens a step removes, as a function of the current length n
/// and of the most that the layout lets one step remove. Build one with the named constructors:
///
///     noise_schedule::per_step(2)          // k = 2 tokens a step: about n / 2 steps
///     noise_schedule::fraction(0.3f)       // ceil(0.3 n) a step: O(log n) steps
///     noise_schedule::fraction(0.2f, 0.6f) // ceil(f n), f drawn uniformly in [0.2, 0.6] each step
///     noise_schedule::maximum()            // as many as the layout allows: fewest steps
///     noise_schedule::threshold(4.0f)      // all it can of the tokens scoring below 4.0; then stop
///
/// Every schedule is capped by feasibility and by keep_keywords (noise_options); noising stops at
/// the empty sequence, at keep_keywords tokens, or when a step can remove nothing.
struct noise_schedule {
  enum class kind : std::uint8_t { per_step, fraction, maximum, threshold };

  kind type = kind::fraction;
  std::size_t count = 1;     ///< per_step: tokens a step
  float share = 0.5f;        ///< fraction: of the current length, in (0, 1]
  float share_high = 0.0f;   ///< fraction: if > share, each step draws f uniformly in [share, share_high]
  float below = 0.0f;        ///< threshold: only tokens scoring < below are removed

  static constexpr noise_schedule per_step(std::size_t k) noexcept { return {.type = kind::per_step, .count = k}; }
  static constexpr noise_schedule fraction(float f) noexcept { return {.type = kind::fraction, .share = f}; }
  /// A random schedule: each step removes ceil(f n) with f uniform in [low, high], drawn from the
  /// noiser's seed and the step number (so a seed still fixes the trajectory). Data augmentation: the
  /// same sentence passes through differently sized states on different trajectories.
  static constexpr noise_schedule fraction(float low, float high) noexcept {
    return {.type = kind::fraction, .share = low, .share_high = high};
  }
  static constexpr noise_schedule maximum() noexcept { return {.type = kind::maximum}; }
  static constexpr noise_schedule threshold(float tau) noexcept { return {.type = kind::threshold, .below = tau}; }

  /// Throws: error naming the value if count is 0, share outside (0, 1] or below is NaN.
  void validate() const {
    if (type == kind::per_step && count == 0) throw options_error("noise_schedule: per_step count must be positive, got 0");
    if (type == kind::fraction && !(share > 0.0f && share <= 1.0f))
      throw options_error("noise_schedule: fraction must lie in (0, 1], got " + std::to_string(share));
    if (type == kind::fraction && share_high != 0.0f && !(share_high >= share && share_high <= 1.0f))
      throw options_error("noise_schedule: fraction range " + std::to_string(share) + ".." + std::to_string(share_high) +
                          " must satisfy 0 < low <= high <= 1");
    if (type == kind::threshold && std::isnan(below)) throw options_error("noise_schedule: threshold is NaN");
  }

  /// The score bound for removable tokens this schedule imposes (+infinity unless threshold).
  float removable_below() const noexcept {
    return type == kind::threshold ? below : std::numeric_limits<float>::infinity();
  }

  /// Whether removals() depends on its random draw `u` (a fraction range).
  constexpr bool is_random() const noexcept { return type == kind::fraction && share_high > share; }

  /// Tokens to remove from n, given that at most `feasible` can go in one step. `u` in [0, 1) picks
  /// the fraction of a random schedule (f = low + u (high - low)); other schedules ignore it.
  std::size_t removals(std::size_t n, std::size_t feasible, float u = 0.0f) const noexcept {
    std::size_t k = feasible;
    if (type == kind::per_step) k = count;
    if (type == kind::fraction) {
      const double f = is_random() ? static_cast<double>(share) + static_cast<double>(u) * static_cast<double>(share_high - share)
                                   : static_cast<double>(share);
      // The relative 1e-6 keeps a float share's rounding (0.2f is 0.2000000030) from turning an exact
      // product such as 0.2 x 10 into 3.
      k = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(f * static_cast<double>(n) * (1.0 - 1e-6))));
    }
    return std::min(k, feasible);
  }

  /// Parses the command-line spelling: "count:K", "fraction:F", "fraction:LOW..HIGH", "max", "threshold:T".
  /// Throws: error naming the text.
  static noise_schedule parse(std::string_view text) {
    const auto colon = text.find(':');
    const std::string_view name = text.substr(0, colon);
    const std::string value(colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1));
    auto bad = [&] {
      return error("noise_schedule: cannot parse \"" + std::string(text) +
                   "\" (expected count:K, fraction:F, fraction:LOW..HIGH, max or threshold:T)");
    };
    noise_schedule s;
    try {
      std::size_t used = 0;
      if (name == "max" && colon == std::string_view::npos) {
        s = maximum();
      } else if (name == "count" && !value.empty() && value[0] != '-') {
        s = per_step(std::stoull(value, &used));
      } else if (name == "fraction" && !value.empty() && value.find("..") != std::string::npos) {
        const auto dots = value.find("..");
        const std::string low = value.substr(0, dots), high = value.substr(dots + 2);
        std::size_t used_high = 0;
        if (low.empty() || high.empty()) throw bad();
        s = fraction(std::stof(low, &used), std::stof(high, &used_high));
        if (used != low.size() || used_high != high.size()) throw bad();
        used = value.size();
      } else if (name == "fraction" && !value.empty()) {
        s = fraction(std::stof(value, &used));
      } else if (name == "threshold" && !value.empty()) {
        s = threshold(std::stof(value, &used));
      } else {
        throw bad();
      }
      if (s.type != kind::maximum && used != value.size()) throw bad();
    } catch (const std::logic_error&) {  // stoull / stof: invalid_argument, out_of_range
      throw bad();
    }
    s.validate();
    return s;
  }

  std::string to_string() const {
    switch (type) {
      case kind::per_step: return "count:" + std::to_string(count);
      case kind::fraction:
        return "fraction:" + std::to_string(share) + (share_high != 0.0f ? ".." + std::to_string(share_high) : std::string());
      case kind::maximum: return "max";
      case kind::threshold: return "threshold:" + std::to_string(below);
    }
    return "?";
  }
};

}  // namespace slotdiff
