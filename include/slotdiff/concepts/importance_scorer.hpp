// slotdiff/concepts/importance_scorer.hpp: how important each token of a sequence is.
//
// Two layers: an importance_scorer gives every token of a sequence a score (low = remove first); a
// dynamic_importance_scorer is one whose scores depend on the rest of the sequence, so the noiser
// rescores it after every step. A static scorer is scored once on x_0 and its scores ride along.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>

#include "slotdiff/types/token.hpp"

namespace slotdiff {

/// A scorer writes one score per token: out.size() == tokens.size(). Low scores are removed first.
/// +infinity means "never remove" (keyword protection); NaN is an error the noiser reports.
/// `score` is const and must be safe to call from several threads at once.
///
///     struct by_id { void score(std::span<const token_id> t, std::span<float> out) const {
///       for (std::size_t i = 0; i < t.size(); ++i) out[i] = float(t[i]); } };
///     static_assert(importance_scorer<by_id>);
template <class S>
concept importance_scorer = requires(const S& s, std::span<const token_id> tokens, std::span<float> out) {
  s.score(tokens, out);
};

/// Opt-in: whether a scorer must be rescored after every step (its scores depend on the context).
/// Syntax cannot tell this apart, so a scorer says it with `static constexpr bool dynamic = true;`.
template <class S>
inline constexpr bool is_dynamic_scorer_v = [] {
  if constexpr (requires { S::dynamic; })
    return static_cast<bool>(S::dynamic);
  else
    return false;
}();

/// A scorer the noiser rescores on x_t before every step.
template <class S>
concept dynamic_importance_scorer = importance_scorer<S> && is_dynamic_scorer_v<S>;

/// The diagnostic twin of importance_scorer: true, or a compile-time message naming what is missing.
template <class S>
consteval bool check_importance_scorer() {
  static_assert(importance_scorer<S>, "slotdiff: not an importance_scorer: score(std::span<const token_id> tokens, "
                                      "std::span<float> out) const is missing");
  return importance_scorer<S>;
}

}  // namespace slotdiff
