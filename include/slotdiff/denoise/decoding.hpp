// slotdiff/denoise/decoding.hpp: the recommended decoding settings, in one place.
//
// `slotdiff generate`, the README's demo and the benchmark read their defaults from
// decoding_preset{}, so changing a number here changes all of them. The library's own option
// structs (sampling_options, fill_options, denoise_options) keep plain defaults (greedy, no
// probability floor) so that a caller who sets nothing gets the simplest decoder; the two rules
// that fix stuttering, one insertion per gap and the progress rule, are on in both.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "slotdiff/denoise/denoise.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/stop/policies.hpp"

namespace slotdiff {

/// Decoding options plus the stop rule that goes with them.
///
///     const decoding_preset preset;                        // the recommended values
///     auto gens = denoise(model, starts, preset.stop(), preset.options(seed));
///
/// The stop rule: done after max_steps steps, at max_length tokens (a hard limit: the last step is
/// trimmed to fit), or, once the text has min_length tokens, when the best insertion over all slots
/// has probability <= stop_probability. denoise adds its own rules: a sequence that no slot can
/// grow any more (no candidate reaches min_probability anywhere) is done, and an empty start always
/// gets a first word (docs/denoising.md, "Stop rules").
///
/// The numbers were chosen with `slotdiff eval` on the validation split (300 sentences, the n-gram
/// model trained on the fluent corpus): docs/denoising.md has the sweep and the command.
struct decoding_preset {
  // Sampling (sampling_options).
  float temperature = 0.7f;         ///< 0: greedy
  std::size_t top_k = 0;            ///< 0: all candidates
  float top_p = 0.9f;               ///< nucleus mass
  float repetition_penalty = 1.5f;  ///< divides the probability of a word already present
  float min_probability = 0.01f;    ///< no word below this probability is ever drawn
  bool no_adjacent_repeat = true;   ///< no word is drawn next to an equal word
  std::size_t candidates = 32;      ///< asked of the model per slot
  // Filling (fill_options).
  gap_policy gaps = gap_policy::one_per_gap;
  std::size_t min_insertions = 1;   ///< the progress rule
  std::size_t max_insertions = 4;   ///< per step
  float min_confidence = 0.0f;
  // Stopping.
  float stop_probability = 0.2f;    ///< stop when no slot offers a word above this...
  std::size_t min_length = 6;       ///< ...once the text has at least this many tokens
  std::size_t max_length = 22;      ///< tokens (the validation references average 21.4)
  std::size_t max_steps = 12;

  /// Throws: options_error naming the first bad field.
  void validate() const {
    options().sampling.validate();
    options().fill.validate();
    if (!(stop_probability >= 0.0f && stop_probability < 1.0f))
      throw options_error("decoding_preset: stop_probability must lie in [0, 1), got " + std::to_string(stop_probability));
    if (max_length == 0) throw options_error("decoding_preset: max_length must be at least 1, got 0");
  }

  /// The denoise options, each sequence i drawing from its own generator seeded from (seed, i).
  denoise_options options(std::uint64_t seed = 0) const {
    denoise_options o;
    o.sampling = {.temperature = temperature, .top_k = top_k, .top_p = top_p, .repetition_penalty = repetition_penalty,
                  .min_probability = min_probability, .no_adjacent_repeat = no_adjacent_repeat};
    o.fill = {.min_confidence = min_confidence, .max_insertions = max_insertions, .gaps = gaps,
              .min_insertions = min_insertions};
    o.candidates = candidates;
    o.seed = seed;
    return o;
  }

  /// The stop rule described above (a composable stop_policy value).
  auto stop() const {
    return stop::any_of(stop::max_steps{max_steps}, stop::max_length{max_length},
                        stop::all_of(stop::length_at_least{min_length}, stop::probability_below{stop_probability}));
  }
};

}  // namespace slotdiff
