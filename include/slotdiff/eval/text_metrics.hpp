// slotdiff/eval/text_metrics.hpp: the corpus-level text statistics of the keyword-to-sentence
// benchmark: distinct-n (Li, Galley, Brockett, Gao and Dolan, NAACL 2016), the adjacent-repeat rate,
// and keyword coverage. Every function takes whole corpora (one token sequence per generation) of
// any totally ordered token type.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/eval/eval_error.hpp"
#include "slotdiff/eval/ngrams.hpp"

namespace slotdiff {

/// distinct-n (Li et al. 2016): the number of distinct n-grams over all outputs divided by the total
/// number of n-grams over all outputs (an n-gram never spans two outputs). 0 when there is no n-gram.
/// Requires: n >= 1 (eval_error otherwise). Complexity: O(M log M · n), M = Σ |output|.
template <std::totally_ordered T>
double distinct_n(const std::vector<std::vector<T>>& outputs, std::size_t n) {
  if (n == 0) throw eval_error("distinct_n: n must be at least 1, got 0");
  std::vector<std::span<const T>> all;
  for (const auto& o : outputs) append_ngrams(std::span<const T>(o), n, all);
  if (all.empty()) return 0.0;
  std::sort(all.begin(), all.end(), span_less{});
  std::size_t distinct = 1;
  for (std::size_t i = 1; i < all.size(); ++i) distinct += span_less{}(all[i - 1], all[i]) ? 1 : 0;
  return static_cast<double>(distinct) / static_cast<double>(all.size());
}

/// The share of all tokens that equal their left neighbour in the same output ("of of" counts one
/// repeat among two tokens): Σ_i #{j >= 1 : o_i[j] == o_i[j-1]} / Σ_i |o_i|. 0 for no tokens.
/// Complexity: O(M).
template <std::totally_ordered T>
double adjacent_repeat_rate(const std::vector<std::vector<T>>& outputs) {
  std::size_t repeats = 0, tokens = 0;
  for (const auto& o : outputs) {
    tokens += o.size();
    for (std::size_t j = 1; j < o.size(); ++j) repeats += o[j] == o[j - 1] ? 1 : 0;
  }
  return tokens == 0 ? 0.0 : static_cast<double>(repeats) / static_cast<double>(tokens);
}

/// Whether `keywords` occur in `output` in their order (as a subsequence; other tokens may lie
/// between them). An empty keyword list is always covered. Complexity: O(|output|).
template <std::totally_ordered T>
bool keywords_in_order(std::span<const T> keywords, std::span<const T> output) {
  std::size_t k = 0;
  for (std::size_t j = 0; j < output.size() && k < keywords.size(); ++j) k += output[j] == keywords[k] ? 1 : 0;
  return k == keywords.size();
}

/// The fraction of `keywords` present in `output` in any order, counted with multiplicity (a
/// keyword given twice needs two occurrences). 1 for an empty keyword list.
/// Complexity: O((k + m) log(k + m)).
template <std::totally_ordered T>
double keyword_fraction(std::span<const T> keywords, std::span<const T> output) {
  if (keywords.empty()) return 1.0;
  std::vector<T> want(keywords.begin(), keywords.end()), have(output.begin(), output.end());
  std::sort(want.begin(), want.end());
  std::sort(have.begin(), have.end());
  std::vector<T> common;
  std::set_intersection(want.begin(), want.end(), have.begin(), have.end(), std::back_inserter(common));
  return static_cast<double>(common.size()) / static_cast<double>(keywords.size());
}

/// Coverage of a whole run: the share of keyword sets found in order in their output, and the mean
/// of keyword_fraction over the sets.
struct keyword_coverage {
  double in_order = 0;       ///< in [0, 1]
  double mean_fraction = 0;  ///< in [0, 1]
};

/// Throws: eval_error if the two lists differ in length. 0 / 0 for an empty run.
template <std::totally_ordered T>
keyword_coverage coverage(const std::vector<std::vector<T>>& keywords, const std::vector<std::vector<T>>& outputs) {
  if (keywords.size() != outputs.size())
    throw eval_error("coverage: " + std::to_string(keywords.size()) + " keyword sets but " + std::to_string(outputs.size()) +
                     " outputs");
  keyword_coverage c;
  if (keywords.empty()) return c;
  for (std::size_t i = 0; i < keywords.size(); ++i) {
    const std::span<const T> k(keywords[i]), o(outputs[i]);
    c.in_order += keywords_in_order(k, o) ? 1.0 : 0.0;
    c.mean_fraction += keyword_fraction(k, o);
  }
  c.in_order /= static_cast<double>(keywords.size());
  c.mean_fraction /= static_cast<double>(keywords.size());
  return c;
}

}  // namespace slotdiff
