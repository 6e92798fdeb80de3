// slotdiff/eval/bleu.hpp: corpus-level BLEU (Papineni, Roukos, Ward and Zhu, ACL 2002) with the
// smoothing of Chen and Cherry (WMT 2014), method 1.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/eval/eval_error.hpp"
#include "slotdiff/eval/ngrams.hpp"

namespace slotdiff {

/// What to do with an n-gram order whose corpus-wide clipped match count is 0 (log 0 would make
/// the whole score 0).
enum class bleu_smoothing : std::uint8_t {
  none,     ///< Papineni et al.: the score is then 0
  epsilon,  ///< Chen and Cherry 2014, method 1: a zero numerator becomes epsilon (0.1), so p_n = epsilon / (n-grams)
};

struct bleu_options {
  std::size_t max_order = 4;  ///< N: BLEU-N, uniform weights 1/N over orders 1..N; 1..16
  bleu_smoothing smoothing = bleu_smoothing::epsilon;
  double epsilon = 0.1;       ///< the numerator that replaces 0 under bleu_smoothing::epsilon, > 0
};

/// The parts of a BLEU score, for reports and tests.
struct bleu_result {
  double score = 0;                          ///< BP · exp(Σ_n (1/N) log p_n), in [0, 1]
  double brevity_penalty = 0;                ///< 1 if c > r, else exp(1 - r/c) (0 when c = 0)
  std::vector<std::size_t> matches, totals;  ///< per order n = 1..N: Σ clipped counts and Σ hypothesis n-grams
  std::size_t hypothesis_length = 0;         ///< c: Σ |hypothesis|
  std::size_t reference_length = 0;          ///< r: Σ length of the reference closest to each hypothesis

  /// The modified n-gram precision p_n (n = 1..N) before smoothing: matches / max(1, totals).
  double precision(std::size_t n) const {
    if (n == 0 || n > matches.size()) throw eval_error("bleu_result::precision: order " + std::to_string(n) + " outside 1.." + std::to_string(matches.size()));
    return static_cast<double>(matches[n - 1]) / static_cast<double>(std::max<std::size_t>(1, totals[n - 1]));
  }
};

/// Clipped n-gram matches of one hypothesis against its references (Papineni et al. 2002, section
/// 2.1): every hypothesis n-gram counts at most as often as it occurs in the single reference that
/// has it most often. Returns {clipped matches, hypothesis n-grams}.
/// Complexity: O((h + Σ r) log(h + Σ r) · n) for lengths h and r.
template <std::totally_ordered T>
std::pair<std::size_t, std::size_t> modified_precision_counts(std::span<const T> hypothesis,
                                                              std::span<const std::vector<T>> references, std::size_t n) {
  const auto hyp = sorted_ngrams(hypothesis, n);
  std::vector<std::vector<std::span<const T>>> refs;
  refs.reserve(references.size());
  for (const auto& r : references) refs.push_back(sorted_ngrams(std::span<const T>(r), n));
  std::size_t clipped = 0;
  for (std::size_t i = 0; i < hyp.size();) {
    std::size_t j = i + 1;
    while (j < hyp.size() && !span_less{}(hyp[i], hyp[j])) ++j;  // a run of equal n-grams
    std::size_t most = 0;
    for (const auto& r : refs) most = std::max(most, count_in_sorted(r, hyp[i]));
    clipped += std::min(j - i, most);
    i = j;
  }
  return {clipped, hyp.size()};
}

/// Corpus-level BLEU-N of `hypotheses[i]` against its references `references[i]` (one or more
/// token sequences each). p_n sums clipped matches and hypothesis n-grams over the whole corpus
/// before dividing (Papineni et al. 2002, section 2.1.1, not an average of sentence scores); r sums,
/// per hypothesis, the length of the reference closest in length to it (the shorter on a tie);
/// BP = 1 if c > r else exp(1 - r/c); BLEU = BP · exp(Σ_{n=1..N} (1/N) log p_n).
///
/// Conventions shared with nltk.translate.bleu_score.corpus_bleu (nltk 3.8): a corpus with no
/// matching unigram scores 0 whatever the smoothing; under bleu_smoothing::epsilon only a zero
/// numerator is replaced (Chen and Cherry 2014, method 1). One difference: p_n's denominator here is
/// the corpus's number of hypothesis n-grams (at least 1), as in the paper, while nltk counts at least
/// one n-gram per hypothesis; the two agree whenever every hypothesis has at least N tokens (tested).
///
/// Throws: eval_error if the lists differ in length, a hypothesis has no reference, max_order is
/// outside 1..16 or epsilon <= 0.
/// Complexity: O(N · Σ (h + Σ r) log(h + Σ r)).
template <std::totally_ordered T>
bleu_result corpus_bleu(const std::vector<std::vector<T>>& hypotheses, const std::vector<std::vector<std::vector<T>>>& references,
                        const bleu_options& opt = {}) {
  if (opt.max_order == 0 || opt.max_order > 16)
    throw eval_error("corpus_bleu: max_order must lie in 1..16, got " + std::to_string(opt.max_order));
  if (opt.smoothing == bleu_smoothing::epsilon && !(opt.epsilon > 0))
    throw eval_error("corpus_bleu: epsilon must be > 0, got " + std::to_string(opt.epsilon));
  if (hypotheses.size() != references.size())
    throw eval_error("corpus_bleu: " + std::to_string(hypotheses.size()) + " hypotheses but " +
                     std::to_string(references.size()) + " reference lists");
  bleu_result r;
  r.matches.assign(opt.max_order, 0);
  r.totals.assign(opt.max_order, 0);
  for (std::size_t i = 0; i < hypotheses.size(); ++i) {
    const auto& refs = references[i];
    if (refs.empty()) throw eval_error("corpus_bleu: hypothesis " + std::to_string(i) + " has no reference");
    const std::size_t h = hypotheses[i].size();
    std::size_t closest = refs[0].size();
    for (const auto& ref : refs) {
      const auto d = [&](std::size_t len) { return len > h ? len - h : h - len; };
      if (d(ref.size()) < d(closest) || (d(ref.size()) == d(closest) && ref.size() < closest)) closest = ref.size();
    }
    r.hypothesis_length += h;
    r.reference_length += closest;
    for (std::size_t n = 1; n <= opt.max_order; ++n) {
      const auto [m, t] = modified_precision_counts(std::span<const T>(hypotheses[i]), std::span<const std::vector<T>>(refs), n);
      r.matches[n - 1] += m;
      r.totals[n - 1] += t;
    }
  }
  const double c = static_cast<double>(r.hypothesis_length), ref = static_cast<double>(r.reference_length);
  r.brevity_penalty = c == 0 ? 0.0 : (c > ref ? 1.0 : std::exp(1.0 - ref / c));
  if (r.matches[0] == 0) return r;  // score 0
  double log_sum = 0;
  for (std::size_t n = 1; n <= opt.max_order; ++n) {
    double num = static_cast<double>(r.matches[n - 1]);
    const double den = static_cast<double>(std::max<std::size_t>(1, r.totals[n - 1]));
    if (num == 0) {
      if (opt.smoothing == bleu_smoothing::none) return r;  // score 0
      num = opt.epsilon;
    }
    log_sum += std::log(num / den) / static_cast<double>(opt.max_order);
  }
  r.score = r.brevity_penalty * std::exp(log_sum);
  return r;
}

/// Single-reference corpus BLEU: references[i] is the one reference of hypotheses[i].
template <std::totally_ordered T>
bleu_result corpus_bleu(const std::vector<std::vector<T>>& hypotheses, const std::vector<std::vector<T>>& references,
                        const bleu_options& opt = {}) {
  std::vector<std::vector<std::vector<T>>> refs;
  refs.reserve(references.size());
  for (const auto& r : references) refs.push_back({r});
  return corpus_bleu(hypotheses, refs, opt);
}

}  // namespace slotdiff
