// slotdiff/denoise/sampling.hpp: choosing one token per slot from the model's candidates.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>

#include "slotdiff/config.hpp"
#include "slotdiff/detail/splitmix.hpp"
#include "slotdiff/error.hpp"

namespace slotdiff {

/// How one slot's token is drawn from its candidates (the backend's best `candidates` tokens).
/// temperature 0 is greedy; otherwise the candidates kept by top_k and top_p are renormalised and
/// sampled at the given temperature. Sampling is over the candidates only: a backend asked for 16
/// candidates cannot produce the 17th token.
struct sampling_options {
  float temperature = 0.0f;          ///< 0: greedy (argmax); > 0: sample from p^(1/T)
  std::size_t top_k = 0;             ///< keep the k best candidates (0: all)
  float top_p = 1.0f;                ///< keep the smallest best-first prefix with mass >= top_p, in (0, 1]
  float repetition_penalty = 1.0f;   ///< >= 1: probability of a token already in the sequence is divided by it

  void validate() const {
    if (!(temperature >= 0.0f) || std::isinf(temperature))
      throw error("slotdiff: sampling temperature must be finite and >= 0, got " + std::to_string(temperature));
    if (!(top_p > 0.0f && top_p <= 1.0f))
      throw error("slotdiff: sampling top_p must lie in (0, 1], got " + std::to_string(top_p));
    if (!(repetition_penalty >= 1.0f) || std::isinf(repetition_penalty))
      throw error("slotdiff: repetition_penalty must be finite and >= 1, got " + std::to_string(repetition_penalty));
  }
};

/// A small, fast, portable generator (splitmix64): the same seed gives the same generation on every
/// platform, which std::uniform_real_distribution does not promise.
class sampling_rng {
public:
  explicit constexpr sampling_rng(std::uint64_t seed) noexcept : state_(seed) {}
  constexpr std::uint64_t next() noexcept {
    const std::uint64_t r = detail::splitmix64(state_);
    state_ += 0x9E3779B97F4A7C15ull;
    return r;
  }
  /// Uniform in [0, 1).
  constexpr double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
  std::uint64_t state_;
};

/// The token chosen for one slot and the model's probability of it (before penalty or temperature).
struct slot_choice {
  token_id token;
  float probability;
};

/// Draws one token from a slot's candidates (best first). `already_present(t)` says whether t is in
/// the sequence (for the repetition penalty; the none id is never penalised).
/// Requires: ids.size() == logp.size() > 0, logp sorted descending, at least one finite.
template <class Present>
slot_choice sample_slot(std::span<const token_id> ids, std::span<const float> logp, token_id none,
                        const sampling_options& opt, Present&& already_present, sampling_rng& rng) {
  const std::size_t k = ids.size();
  auto adjusted = [&](std::size_t j) {
    float l = logp[j];
    if (opt.repetition_penalty != 1.0f && ids[j] != none && already_present(ids[j])) l -= std::log(opt.repetition_penalty);
    return l;
  };
  if (opt.temperature == 0.0f || k == 1) {
    std::size_t best = 0;
    float best_l = adjusted(0);
    for (std::size_t j = 1; j < k; ++j) {
      const float l = adjusted(j);
      if (l > best_l) best = j, best_l = l;
    }
    return {ids[best], std::exp(logp[best])};
  }
  // Candidates kept by top_k, then by top_p (over the penalised, renormalised distribution).
  constexpr std::size_t stack_max = 256;
  std::array<float, stack_max> w{};
  std::array<std::size_t, stack_max> order{};
  const std::size_t kk = std::min({k, opt.top_k == 0 ? k : opt.top_k, stack_max});
  for (std::size_t j = 0; j < kk; ++j) w[j] = adjusted(j), order[j] = j;
  std::sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(kk), [&](std::size_t a, std::size_t b) { return w[a] > w[b]; });
  const float top = w[order[0]];
  double total = 0.0;
  for (std::size_t j = 0; j < kk; ++j) total += std::exp(static_cast<double>(w[j] - top));
  std::size_t keep = kk;
  if (opt.top_p < 1.0f) {
    double mass = 0.0;
    for (std::size_t j = 0; j < kk; ++j) {
      mass += std::exp(static_cast<double>(w[order[j]] - top)) / total;
      if (mass >= opt.top_p) {
        keep = j + 1;
        break;
      }
    }
  }
  double z = 0.0;
  for (std::size_t j = 0; j < keep; ++j) z += std::exp(static_cast<double>(w[order[j]] - top) / opt.temperature);
  double u = rng.uniform() * z;
  for (std::size_t j = 0; j < keep; ++j) {
    u -= std::exp(static_cast<double>(w[order[j]] - top) / opt.temperature);
    if (u < 0.0 || j + 1 == keep) return {ids[order[j]], std::exp(logp[order[j]])};
  }
  return {ids[order[0]], std::exp(logp[order[0]])};  // unreachable: the loop returns at keep - 1
}

}  // namespace slotdiff
