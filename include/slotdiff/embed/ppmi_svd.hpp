// slotdiff/embed/ppmi_svd.hpp: word vectors from a corpus with no download: PPMI co-occurrence and a
// truncated SVD (Eigen). Tokenizer-agnostic: it reads token-id sequences.
//
// 1. Co-occurrence: c(i, j) = sum over occurrences of i of (window + 1 - distance) / window for every
//    j within `window` positions in the same sentence (harmonic-like linear decay, as in GloVe/word2vec
//    dynamic windows). Ids below .first_word_id (special tokens: pad, unk, root, none) are skipped and
//    do not count as context. Counted row by row through an inverted index into a dense scratch row:
//    O(corpus tokens * window) time, O(nnz) memory.
// 2. PPMI with context-distribution smoothing (Levy, Goldberg & Dagan 2015):
//    PPMI(i, j) = max(0, log(c(i, j) D / (c(i) c_alpha(j))) - log(.shift)),  c_alpha(j) = c(j)^alpha D / sum c^alpha.
// 3. Truncated SVD by randomised range finding (Halko, Martinsson & Tropp 2011): Y = A Omega with
//    d + oversampling Gaussian columns, .power_iterations rounds of A A^T with QR re-orthonormalisation,
//    B = Q^T A, eigen-decomposition of B B^T. Vectors: U Sigma^.eigenvalue_weight, rows L2-normalised.
//    Rows of ids that never occur (or only with specials) are unknown in the returned token_vectors.
// Deterministic for a given corpus and seed.
#pragma once

#include <Eigen/Dense>
#include <Eigen/SparseCore>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "slotdiff/config.hpp"
#include "slotdiff/embed/word_vectors.hpp"

namespace slotdiff {

struct ppmi_svd_options {
  std::size_t dimension = 100;
  std::size_t window = 5;
  token_id first_word_id = 4;
  double context_smoothing = 0.75;
  double shift = 1.0;
  double eigenvalue_weight = 0.5;
  std::size_t oversampling = 20;
  int power_iterations = 3;
  std::uint64_t seed = 7;
  unknown_word unknown = unknown_word::skip;
};

/// Builds d-dimensional vectors for ids 0 .. vocabulary_size-1 from `corpus` (any range of ranges of
/// token_id, e.g. std::vector<std::vector<token_id>>).
/// Requires: every id in [0, vocabulary_size); dimension <= the number of distinct words seen.
/// Complexity: O(T w) counting (T corpus tokens) + O(nnz (d + p) (2 q + 2)) for the SVD.
/// Throws: embed_error naming the sentence and id out of range, or a corpus too small for `dimension`.
template <class Corpus>
token_vectors build_ppmi_svd(const Corpus& corpus, std::size_t vocabulary_size, const ppmi_svd_options& o = {}) {
  using index = std::int64_t;
  const std::size_t V = vocabulary_size;
  if (V == 0 || o.dimension == 0 || o.window == 0) detail::throw_embed("build_ppmi_svd: vocabulary, dimension and window must be > 0");
  // Flatten, with -1 separating sentences.
  std::vector<token_id> flat;
  std::size_t sentence = 0;
  for (const auto& s : corpus) {
    for (token_id t : s) {
      if (t < 0 || static_cast<std::size_t>(t) >= V)
        detail::throw_embed("build_ppmi_svd: sentence ", sentence, " has id ", t, " outside [0, ", V, ")");
      flat.push_back(t < o.first_word_id ? -1 : t);
    }
    flat.push_back(-1);
    ++sentence;
  }
  // Inverted index: positions of each id.
  std::vector<std::size_t> start(V + 1, 0);
  for (token_id t : flat)
    if (t >= 0) ++start[static_cast<std::size_t>(t) + 1];
  for (std::size_t i = 0; i < V; ++i) start[i + 1] += start[i];
  std::vector<std::size_t> pos(start[V]), fill(start.begin(), start.end() - 1);
  for (std::size_t p = 0; p < flat.size(); ++p)
    if (flat[p] >= 0) pos[fill[static_cast<std::size_t>(flat[p])]++] = p;
  // Co-occurrence rows into CSR triplets.
  std::vector<Eigen::Triplet<double, index>> trip;
  std::vector<double> row(V, 0.0), rowsum(V, 0.0), colsum(V, 0.0);
  std::vector<std::size_t> touched;
  const auto w = static_cast<std::ptrdiff_t>(o.window);
  for (std::size_t i = 0; i < V; ++i) {
    touched.clear();
    for (std::size_t q = start[i]; q < start[i + 1]; ++q) {
      const auto p = static_cast<std::ptrdiff_t>(pos[q]);
      for (int dir = -1; dir <= 1; dir += 2)
        for (std::ptrdiff_t k = 1; k <= w; ++k) {
          const std::ptrdiff_t r = p + dir * k;
          if (r < 0 || r >= static_cast<std::ptrdiff_t>(flat.size()) || flat[static_cast<std::size_t>(r)] < 0) break;
          const auto j = static_cast<std::size_t>(flat[static_cast<std::size_t>(r)]);
          if (row[j] == 0) touched.push_back(j);
          row[j] += double(w + 1 - k) / double(w);
        }
    }
    for (std::size_t j : touched) {
      trip.emplace_back(static_cast<index>(i), static_cast<index>(j), row[j]);
      rowsum[i] += row[j];
      colsum[j] += row[j];
      row[j] = 0;
    }
  }
  double alpha_total = 0;
  for (std::size_t j = 0; j < V; ++j) alpha_total += std::pow(colsum[j], o.context_smoothing);
  std::size_t words = 0;
  for (std::size_t i = 0; i < V; ++i) words += rowsum[i] > 0;
  if (words < o.dimension + 1)
    detail::throw_embed("build_ppmi_svd: the corpus has ", words, " words with contexts, too few for dimension ", o.dimension);
  // PPMI in place.
  std::vector<Eigen::Triplet<double, index>> ppmi;
  ppmi.reserve(trip.size());
  // PMI - log shift = log c(i,j) - log c(i) - (alpha log c(j) - log sum c^alpha) - log shift
  // (the D's cancel); the row and column terms are computed once, not per nonzero.
  std::vector<double> lrow(V), lcol(V);
  for (std::size_t i = 0; i < V; ++i) {
    lrow[i] = rowsum[i] > 0 ? std::log(rowsum[i]) : 0.0;
    lcol[i] = colsum[i] > 0 ? o.context_smoothing * std::log(colsum[i]) - std::log(alpha_total) : 0.0;
  }
  const double log_shift = std::log(o.shift);
  for (const auto& t : trip) {
    const auto i = static_cast<std::size_t>(t.row()), j = static_cast<std::size_t>(t.col());
    const double pmi = std::log(t.value()) - lrow[i] - lcol[j] - log_shift;
    if (pmi > 0) ppmi.emplace_back(t.row(), t.col(), pmi);
  }
  trip.clear();
  trip.shrink_to_fit();
  Eigen::SparseMatrix<double, Eigen::RowMajor, index> A(static_cast<index>(V), static_cast<index>(V));
  A.setFromTriplets(ppmi.begin(), ppmi.end());
  ppmi.clear();
  ppmi.shrink_to_fit();
  const Eigen::SparseMatrix<double, Eigen::RowMajor, index> At = A.transpose();
  // Randomised SVD.
  const auto k = static_cast<index>(std::min<std::size_t>(o.dimension + o.oversampling, words));
  std::mt19937_64 g(o.seed);
  std::normal_distribution<double> nd;
  Eigen::MatrixXd omega(static_cast<index>(V), k);
  for (index c = 0; c < k; ++c)
    for (index r = 0; r < static_cast<index>(V); ++r) omega(r, c) = nd(g);
  auto orth = [](const Eigen::MatrixXd& m) {
    Eigen::HouseholderQR<Eigen::MatrixXd> qr(m);
    return Eigen::MatrixXd(qr.householderQ() * Eigen::MatrixXd::Identity(m.rows(), m.cols()));
  };
  Eigen::MatrixXd Q = orth(A * omega);
  for (int it = 0; it < o.power_iterations; ++it) {
    const Eigen::MatrixXd Z = orth(At * Q);
    Q = orth(A * Z);
  }
  const Eigen::MatrixXd B = (At * Q).transpose();  // k x V  (= Q^T A)
  const Eigen::MatrixXd BBt = B * B.transpose();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(BBt);
  // Eigenvalues ascending: take the top `dimension`.
  const auto d = static_cast<index>(o.dimension);
  Eigen::MatrixXd U(static_cast<index>(V), d);
  const Eigen::MatrixXd Ub = es.eigenvectors();
  Eigen::VectorXd sig(d);
  for (index c = 0; c < d; ++c) {
    const index src = k - 1 - c;
    sig(c) = std::sqrt(std::max(0.0, es.eigenvalues()(src)));
    U.col(c) = Q * Ub.col(src);
  }
  std::vector<float> data(V * o.dimension, 0.0f);
  std::vector<std::uint8_t> known(V, 0);
  for (std::size_t i = 0; i < V; ++i) {
    if (rowsum[i] <= 0) continue;
    Eigen::VectorXd v(d);
    for (index c = 0; c < d; ++c) v(c) = U(static_cast<index>(i), c) * std::pow(sig(c), o.eigenvalue_weight);
    const double nrm = v.norm();
    if (!(nrm > 0)) continue;
    known[i] = 1;
    for (index c = 0; c < d; ++c) data[i * o.dimension + static_cast<std::size_t>(c)] = static_cast<float>(v(c) / nrm);
  }
  return token_vectors(o.dimension, std::move(data), std::move(known), o.unknown);
}

}  // namespace slotdiff
