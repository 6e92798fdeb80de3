// slotdiff/embed/sif_train.hpp: builds a sif_model (embed/sif_model.hpp) from a corpus alone:
// PPMI-SVD word vectors (Levy & Goldberg 2014, "Neural Word Embedding as Implicit Matrix
// Factorization"; embed/ppmi_svd.hpp), unigram probabilities and the SIF common component (Arora,
// Liang & Ma 2017; fit_sif in embed/pooling.hpp), all from the same token-id sentences.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "slotdiff/embed/pooling.hpp"
#include "slotdiff/embed/ppmi_svd.hpp"
#include "slotdiff/embed/sif_model.hpp"
#include "slotdiff/embed/word_vectors.hpp"

namespace slotdiff {

struct sif_train_options {
  ppmi_svd_options vectors{};     ///< dimension, window, ... of the word vectors (vectors.first_word_id: ids below are specials)
  double a = 1e-3;                ///< SIF smoothing
  bool remove_component = true;   ///< fit and remove the first principal component
  int power_iterations = 50;      ///< for the component
  std::uint64_t min_count = 2;    ///< words seen fewer times are left out of the file (they are OOV there)
  std::size_t max_words = 0;      ///< keep at most this many words, the most frequent first (0: no cap)
};

/// Trains on `corpus` (any range of ranges of token ids; id i is the word words[i]) and returns the
/// model with the kept words (count >= min_count, at most max_words, ids >= first_word_id, with a
/// vector). The vectors and the component are learned from every word; only the file is trimmed.
/// Complexity: build_ppmi_svd's, plus O(T d power_iterations) for the component (T corpus tokens).
/// Throws: embed_error from build_ppmi_svd (ids outside words, a corpus too small for the dimension).
template <class Corpus>
sif_model train_sif_model(const Corpus& corpus, const std::vector<std::string>& words, const sif_train_options& o = {}) {
  const std::size_t V = words.size();
  auto table = std::make_shared<const token_vectors>(build_ppmi_svd(corpus, V, o.vectors));
  std::vector<std::uint64_t> count(V, 0);
  for (const auto& s : corpus)
    for (token_id t : s) ++count[static_cast<std::size_t>(t)];
  const sif_embedder sif = fit_sif(table, corpus, {.a = o.a, .power_iterations = o.remove_component ? o.power_iterations : 0});
  std::uint64_t total = 0;
  for (auto c : count) total += c;
  std::vector<std::size_t> keep;
  for (std::size_t i = static_cast<std::size_t>(std::max<token_id>(0, o.vectors.first_word_id)); i < V; ++i)
    if (count[i] >= o.min_count && table->known(static_cast<token_id>(i))) keep.push_back(i);
  std::stable_sort(keep.begin(), keep.end(), [&](std::size_t x, std::size_t y) { return count[x] > count[y]; });
  if (o.max_words && keep.size() > o.max_words) keep.resize(o.max_words);
  std::vector<std::string> kept_words;
  std::vector<float> p, data;
  for (std::size_t i : keep) {
    kept_words.push_back(words[i]);
    p.push_back(static_cast<float>(static_cast<double>(count[i]) / static_cast<double>(std::max<std::uint64_t>(1, total))));
    const auto r = table->row(static_cast<token_id>(i));
    data.insert(data.end(), r.begin(), r.end());
  }
  std::vector<float> u;
  if (o.remove_component) u.assign(sif.component().begin(), sif.component().end());
  return sif_model(std::move(kept_words), std::move(p), table->dimension(), std::move(data), std::move(u), o.a);
}

}  // namespace slotdiff
