// slotdiff/eval/ngrams.hpp: the n-grams of a token sequence as sorted views, the counting step that
// BLEU and distinct-n share. Works for any totally ordered token type (ids, std::string, ...).
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <span>
#include <vector>

namespace slotdiff {

/// Lexicographic order on token spans (std::span has no operator<).
struct span_less {
  template <class T>
  bool operator()(std::span<const T> a, std::span<const T> b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  }
};

/// Appends the n-grams of `tokens` (views into it, |tokens| - n + 1 of them, none if shorter) to `out`.
/// Requires: n >= 1. Complexity: O(|tokens|).
template <std::totally_ordered T>
void append_ngrams(std::span<const T> tokens, std::size_t n, std::vector<std::span<const T>>& out) {
  if (n == 0 || tokens.size() < n) return;
  for (std::size_t i = 0; i + n <= tokens.size(); ++i) out.push_back(tokens.subspan(i, n));
}

/// The n-grams of `tokens`, sorted (equal n-grams adjacent, so counts are run lengths).
/// Complexity: O(m log m · n) for m = |tokens| - n + 1.
template <std::totally_ordered T>
std::vector<std::span<const T>> sorted_ngrams(std::span<const T> tokens, std::size_t n) {
  std::vector<std::span<const T>> out;
  append_ngrams(tokens, n, out);
  std::sort(out.begin(), out.end(), span_less{});
  return out;
}

/// How often `g` occurs in the sorted list `sorted`. Complexity: O(log |sorted| · |g|).
template <std::totally_ordered T>
std::size_t count_in_sorted(const std::vector<std::span<const T>>& sorted, std::span<const T> g) {
  const auto [lo, hi] = std::equal_range(sorted.begin(), sorted.end(), g, span_less{});
  return static_cast<std::size_t>(hi - lo);
}

}  // namespace slotdiff
