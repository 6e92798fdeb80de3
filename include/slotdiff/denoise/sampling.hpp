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
#include <utility>

#include "slotdiff/config.hpp"
#include "slotdiff/denoise/limits.hpp"
#include "slotdiff/detail/splitmix.hpp"
#include "slotdiff/error.hpp"

namespace slotdiff {

/// How one slot's token is drawn from its candidates (the backend's best `candidates` tokens).
///
/// First every real token whose model probability is below `min_probability` is struck out (the
/// none id never is: "insert nothing" stays possible), so no draw can ever insert a token the model
/// gave negligible probability; if nothing is left the slot draws none. Then temperature 0 is greedy
/// (argmax of the penalised probabilities); otherwise the candidates kept by top_k (Fan, Lewis and
/// Dauphin 2018) and top_p (nucleus, Holtzman et al. 2020) are renormalised and sampled at the given
/// temperature. Sampling is over the candidates only: a backend asked for 16 candidates cannot
/// produce the 17th token.
struct sampling_options {
  float temperature = 0.0f;          ///< 0: greedy (argmax); > 0: sample from p^(1/T)
  std::size_t top_k = 0;             ///< keep the k best candidates (0: all)
  float top_p = 1.0f;                ///< keep the smallest best-first prefix with mass >= top_p, in (0, 1]
  float repetition_penalty = 1.0f;   ///< >= 1: probability of a token already in the sequence is divided by it
  /// in [0, 1): real tokens whose model probability (before penalty and temperature) is below this
  /// are never drawn; 0 keeps every candidate.
  float min_probability = 0.0f;
  /// Never draw a token equal to a neighbour of its slot (the token just left or right of the gap it
  /// inserts into), so no insertion makes an adjacent repeat ("of of"). Like the n-gram blocking of
  /// beam search (no_repeat_ngram_size = 2, Paulus, Xiong and Socher 2018) restricted to adjacency;
  /// it also blocks the rare legitimate doubling ("that that").
  bool no_adjacent_repeat = false;

  /// Throws: options_error naming the first field out of range ("sampling_options: FIELD ..., got V").
  void validate() const {
    if (!(temperature >= 0.0f) || std::isinf(temperature))
      throw options_error("sampling_options: temperature must be finite and >= 0, got " + std::to_string(temperature));
    if (!(top_p > 0.0f && top_p <= 1.0f))
      throw options_error("sampling_options: top_p must lie in (0, 1], got " + std::to_string(top_p));
    if (!(repetition_penalty >= 1.0f) || std::isinf(repetition_penalty))
      throw options_error("sampling_options: repetition_penalty must be finite and >= 1, got " + std::to_string(repetition_penalty));
    if (!(min_probability >= 0.0f && min_probability < 1.0f))
      throw options_error("sampling_options: min_probability must lie in [0, 1), got " + std::to_string(min_probability));
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
/// the sequence (for the repetition penalty; the none id is never penalised). The returned
/// probability is the model's (before penalty or temperature); a slot where min_probability strikes
/// out every candidate returns {none, 0}.
/// Requires: ids.size() == logp.size() > 0, at most max_candidates (256) candidates, logp sorted descending, at least
/// one finite. Complexity: O(k log k) for k candidates, no allocation.
/// `banned(t)` strikes out real tokens besides the min_probability floor (denoise uses it for
/// no_adjacent_repeat); the overload without it bans nothing.
template <class Present, class Banned>
slot_choice sample_slot(std::span<const token_id> ids, std::span<const float> logp, token_id none,
                        const sampling_options& opt, Present&& already_present, Banned&& banned, sampling_rng& rng) {
  const std::size_t k = std::min(ids.size(), max_candidates);
  auto adjusted = [&](std::size_t j) {
    float l = logp[j];
    if (opt.repetition_penalty != 1.0f && ids[j] != none && already_present(ids[j])) l -= std::log(opt.repetition_penalty);
    return l;
  };
  // The candidates that may be drawn at all, best first by the model (top_k counts these).
  std::array<std::size_t, max_candidates> allowed{};
  std::size_t n = 0;
  for (std::size_t j = 0; j < k; ++j) {
    if (std::isfinite(logp[j]) && (ids[j] == none || (std::exp(logp[j]) >= opt.min_probability && !banned(ids[j]))))
      allowed[n++] = j;
  }
  if (n == 0) return {none, 0.0f};
  if (opt.temperature == 0.0f || n == 1) {
    std::size_t best = allowed[0];
    float best_l = adjusted(best);
    for (std::size_t a = 1; a < n; ++a) {
      const float l = adjusted(allowed[a]);
      if (l > best_l) best = allowed[a], best_l = l;
    }
    return {ids[best], std::exp(logp[best])};
  }
  // Candidates kept by top_k, then by top_p (over the penalised, renormalised distribution).
  std::array<float, max_candidates> w{};
  std::array<std::size_t, max_candidates> order{};
  const std::size_t kk = std::min(n, opt.top_k == 0 ? n : opt.top_k);
  for (std::size_t a = 0; a < kk; ++a) w[a] = adjusted(allowed[a]), order[a] = a;
  std::sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(kk), [&](std::size_t a, std::size_t b) { return w[a] > w[b]; });
  const float top = w[order[0]];
  double total = 0.0;
  for (std::size_t a = 0; a < kk; ++a) total += std::exp(static_cast<double>(w[a] - top));
  std::size_t keep = kk;
  if (opt.top_p < 1.0f) {
    double mass = 0.0;
    for (std::size_t a = 0; a < kk; ++a) {
      mass += std::exp(static_cast<double>(w[order[a]] - top)) / total;
      if (mass >= opt.top_p) {
        keep = a + 1;
        break;
      }
    }
  }
  double z = 0.0;
  for (std::size_t a = 0; a < keep; ++a) z += std::exp(static_cast<double>(w[order[a]] - top) / opt.temperature);
  double u = rng.uniform() * z;
  for (std::size_t a = 0; a < keep; ++a) {
    u -= std::exp(static_cast<double>(w[order[a]] - top) / opt.temperature);
    if (u < 0.0 || a + 1 == keep) return {ids[allowed[order[a]]], std::exp(logp[allowed[order[a]]])};
  }
  return {ids[allowed[order[0]]], std::exp(logp[allowed[order[0]]])};  // unreachable: the loop returns at keep - 1
}

template <class Present>
slot_choice sample_slot(std::span<const token_id> ids, std::span<const float> logp, token_id none,
                        const sampling_options& opt, Present&& already_present, sampling_rng& rng) {
  return sample_slot(ids, logp, none, opt, std::forward<Present>(already_present), [](token_id) { return false; }, rng);
}

}  // namespace slotdiff
