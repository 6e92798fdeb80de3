// slotdiff/scoring/protect.hpp: a wrapper that never lets given tokens be removed.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "slotdiff/concepts/importance_scorer.hpp"
#include "slotdiff/config.hpp"

namespace slotdiff {

/// Scores the given keyword ids +infinity (the selection never removes such a token) and everything
/// else as the wrapped scorer does. Dynamic exactly when the wrapped scorer is.
///
///     keyword_protect protected_idf(idf, {fox_id, dog_id});
///
/// Complexity: the wrapped scorer's, plus O(n log K) for K keywords.
template <importance_scorer S>
class keyword_protect {
public:
  static constexpr bool dynamic = is_dynamic_scorer_v<S>;

  keyword_protect(S scorer, std::vector<token_id> keywords) : scorer_(std::move(scorer)), keywords_(std::move(keywords)) {
    std::sort(keywords_.begin(), keywords_.end());
    keywords_.erase(std::unique(keywords_.begin(), keywords_.end()), keywords_.end());
  }

  void score(std::span<const token_id> tokens, std::span<float> out) const {
    scorer_.score(tokens, out);
    for (std::size_t i = 0; i < tokens.size(); ++i)
      if (std::binary_search(keywords_.begin(), keywords_.end(), tokens[i]))
        out[i] = std::numeric_limits<float>::infinity();
  }

  const S& inner() const noexcept { return scorer_; }
  std::span<const token_id> keywords() const noexcept { return keywords_; }

private:
  S scorer_;
  std::vector<token_id> keywords_;
};

}  // namespace slotdiff
