// slotdiff/stop/policies.hpp: the stop policies and their combinators.
//
// Each policy is a small value type whose call operator reads a step_report, so they compose
// statically: stop::any_of(stop::max_steps{64}, stop::probability_below{0.3f}).
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>

#include "slotdiff/concepts/stop_policy.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/stop/step_report.hpp"

namespace slotdiff::stop {

namespace detail {
/// A threshold that is NaN compares false with everything and would silently never (or always) stop.
inline float threshold(float v, const char* policy, const char* field) {
  if (std::isnan(v)) throw options_error(std::string("stop::") + policy + " has a NaN " + field);
  return v;
}
inline float measured(float v, const char* policy, const char* field) {
  if (std::isnan(v)) {
    throw input_error(std::string("stop::") + policy + " needs " + field +
                      ", which this generation does not measure (give denoise a semantic measure), got NaN");
  }
  return v;
}
}  // namespace detail

/// Done after `limit` steps.
struct max_steps {
  std::size_t limit;
  bool operator()(const step_report& r) const noexcept { return r.steps >= limit; }
};

/// Done once the sequence has `limit` tokens or more, and a hard limit: denoise trims a step's
/// insertions (the most confident kept) so that the text never grows beyond `limit` tokens, whatever
/// the step would have inserted. Inside any_of it stays hard (the smallest limit wins); inside
/// all_of it is hard only when every part has one (the largest wins). See stop::length_cap.
struct max_length {
  std::size_t limit;
  bool operator()(const step_report& r) const noexcept { return r.length >= limit; }
  std::size_t length_cap() const noexcept { return limit; }
};

/// True once the sequence has `limit` tokens or more: the same test as max_length, named for its use
/// as a guard, all_of(length_at_least{8}, probability_below{0.05f}): "stop when the model offers
/// nothing likely, but not before 8 tokens".
struct length_at_least {
  std::size_t limit;
  bool operator()(const step_report& r) const noexcept { return r.length >= limit; }
};

/// Done when no slot's most likely real token (not "none") has probability above tau: the model no
/// longer wants to insert anything (the notes' probability threshold). It reads the best insertion
/// over all slots, so it does not need any single slot to be confident: a state whose every slot
/// most likely stays empty but offers a word above tau somewhere goes on (with the fill's progress
/// rule, fill_options::min_insertions, that word is inserted).
///
/// An empty sequence is never stopped by it: the root slot spreads its mass over every word that can
/// end a noising trajectory, so its best word is usually far below any useful tau, and an empty text
/// is no answer. (denoise also draws an empty sequence's first word without min_probability.)
struct probability_below {
  float tau;
  /// Throws: options_error if tau is NaN.
  bool operator()(const step_report& r) const {
    return r.best_insertion <= detail::threshold(tau, "probability_below", "tau") && r.length > 0;
  }
};

/// Done when the last step changed the meaning by less than epsilon (the notes' semantic threshold).
/// Before the first step nothing has changed yet, so it does not fire.
struct change_below {
  float epsilon;
  bool operator()(const step_report& r) const {
    detail::threshold(epsilon, "change_below", "epsilon");
    if (r.steps == 0) return false;
    return detail::measured(r.change_last, "change_below", "the semantic change of a step") < epsilon;
  }
};

/// Done when the text is at least theta similar to a target embedding.
struct similarity_above {
  float theta;
  bool operator()(const step_report& r) const {
    detail::threshold(theta, "similarity_above", "theta");
    return detail::measured(r.target_similarity, "similarity_above", "a target embedding") >= theta;
  }
};

/// Done when the last step inserted nothing. Note that a sampled step may insert nothing by chance
/// (every slot drew none, possible with fill_options::min_insertions = 0) although the model offers
/// words: this policy then ends the run. denoise itself already ends a sequence that cannot change
/// (stop_reason::nothing_admissible), so decoding_preset does not use no_change.
struct no_change {
  bool operator()(const step_report& r) const noexcept { return r.steps > 0 && r.inserted_last == 0; }
};

/// Never done (the loop's own step cap still applies).
struct never {
  bool operator()(const step_report&) const noexcept { return false; }
};

/// No hard length limit (what length_cap returns for a policy without one).
inline constexpr std::size_t no_length_cap = static_cast<std::size_t>(-1);

/// The hard length limit a policy implies: its length_cap() member when it has one (max_length,
/// any_of, all_of), else no_length_cap. denoise never lets a text grow beyond it.
template <class P>
constexpr std::size_t length_cap(const P& p) noexcept {
  if constexpr (requires { { p.length_cap() } -> std::convertible_to<std::size_t>; }) return p.length_cap();
  else return no_length_cap;
}

template <stop_policy... P>
struct any_of_t {
  std::tuple<P...> parts;
  bool operator()(const step_report& r) const {
    return std::apply([&](const auto&... p) { return (static_cast<bool>(p(r)) || ...); }, parts);
  }
  /// Done as soon as any part is, so the smallest part's limit holds.
  std::size_t length_cap() const noexcept {
    return std::apply([](const auto&... p) { return std::min({no_length_cap, stop::length_cap(p)...}); }, parts);
  }
};

template <stop_policy... P>
struct all_of_t {
  std::tuple<P...> parts;
  bool operator()(const step_report& r) const {
    return std::apply([&](const auto&... p) { return (static_cast<bool>(p(r)) && ...); }, parts);
  }
  /// Done only when every part is: a limit holds only if every part has one (the largest).
  std::size_t length_cap() const noexcept {
    return std::apply([](const auto&... p) { return std::max({std::size_t{0}, stop::length_cap(p)...}); }, parts);
  }
};

/// Done when any of the policies says so.
template <stop_policy... P>
any_of_t<P...> any_of(P... p) {
  return {std::tuple<P...>(std::move(p)...)};
}

/// Done when all of the policies say so.
template <stop_policy... P>
all_of_t<P...> all_of(P... p) {
  return {std::tuple<P...>(std::move(p)...)};
}

}  // namespace slotdiff::stop
