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

namespace detail {

using ppmi_index = std::int64_t;
using ppmi_triplet = Eigen::Triplet<double, ppmi_index>;
using ppmi_sparse = Eigen::SparseMatrix<double, Eigen::RowMajor, ppmi_index>;

/// Step 1a: the corpus as one id sequence, -1 standing for every sentence end and every special id
/// (ids below `first_word_id`), so a context window stops at both.
/// Throws: embed_error naming the sentence and an id outside [0, V).
template <class Corpus>
std::vector<token_id> ppmi_flatten(const Corpus& corpus, std::size_t V, token_id first_word_id) {
  std::vector<token_id> flat;
  std::size_t sentence = 0;
  for (const auto& s : corpus) {
    for (token_id t : s) {
      if (t < 0 || static_cast<std::size_t>(t) >= V)
        detail::throw_embed("build_ppmi_svd: sentence ", sentence, " has id ", t, " outside [0, ", V, ")");
      flat.push_back(t < first_word_id ? -1 : t);
    }
    flat.push_back(-1);
    ++sentence;
  }
  return flat;
}

/// Step 1b: an inverted index of `flat`: the positions of id i are pos[start[i] .. start[i + 1]).
struct ppmi_positions {
  std::vector<std::size_t> start, pos;
};

inline ppmi_positions ppmi_index_positions(const std::vector<token_id>& flat, std::size_t V) {
  ppmi_positions ix;
  ix.start.assign(V + 1, 0);
  for (token_id t : flat)
    if (t >= 0) ++ix.start[static_cast<std::size_t>(t) + 1];
  for (std::size_t i = 0; i < V; ++i) ix.start[i + 1] += ix.start[i];
  ix.pos.resize(ix.start[V]);
  std::vector<std::size_t> fill(ix.start.begin(), ix.start.end() - 1);
  for (std::size_t p = 0; p < flat.size(); ++p)
    if (flat[p] >= 0) ix.pos[fill[static_cast<std::size_t>(flat[p])]++] = p;
  return ix;
}

/// The weighted co-occurrence counts c(i, j) as triplets (row-major order), with their row and
/// column sums c(i) and c(j).
struct ppmi_counts {
  std::vector<ppmi_triplet> cells;
  std::vector<double> rowsum, colsum;
};

/// Step 1c: counts row by row into a dense scratch row, each neighbour at distance k weighted
/// (window + 1 - k) / window. O(corpus tokens * window) time.
inline ppmi_counts ppmi_count_cooccurrences(const std::vector<token_id>& flat, const ppmi_positions& ix, std::size_t V,
                                            std::size_t window) {
  ppmi_counts c;
  c.rowsum.assign(V, 0.0);
  c.colsum.assign(V, 0.0);
  std::vector<double> row(V, 0.0);
  std::vector<std::size_t> touched;
  const auto w = static_cast<std::ptrdiff_t>(window);
  for (std::size_t i = 0; i < V; ++i) {
    touched.clear();
    for (std::size_t q = ix.start[i]; q < ix.start[i + 1]; ++q) {
      const auto p = static_cast<std::ptrdiff_t>(ix.pos[q]);
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
      c.cells.emplace_back(static_cast<ppmi_index>(i), static_cast<ppmi_index>(j), row[j]);
      c.rowsum[i] += row[j];
      c.colsum[j] += row[j];
      row[j] = 0;
    }
  }
  return c;
}

/// Step 2: the shifted PPMI matrix (V x V, sparse) from the counts, which it consumes.
/// PMI - log shift = log c(i,j) - log c(i) - (alpha log c(j) - log sum c^alpha) - log shift (the
/// corpus totals D cancel); the row and column terms are computed once, not per nonzero.
inline ppmi_sparse ppmi_matrix(ppmi_counts& c, std::size_t V, double context_smoothing, double shift) {
  double alpha_total = 0;
  for (std::size_t j = 0; j < V; ++j) alpha_total += std::pow(c.colsum[j], context_smoothing);
  std::vector<ppmi_triplet> ppmi;
  ppmi.reserve(c.cells.size());
  std::vector<double> lrow(V), lcol(V);
  for (std::size_t i = 0; i < V; ++i) {
    lrow[i] = c.rowsum[i] > 0 ? std::log(c.rowsum[i]) : 0.0;
    lcol[i] = c.colsum[i] > 0 ? context_smoothing * std::log(c.colsum[i]) - std::log(alpha_total) : 0.0;
  }
  const double log_shift = std::log(shift);
  for (const auto& t : c.cells) {
    const auto i = static_cast<std::size_t>(t.row()), j = static_cast<std::size_t>(t.col());
    const double pmi = std::log(t.value()) - lrow[i] - lcol[j] - log_shift;
    if (pmi > 0) ppmi.emplace_back(t.row(), t.col(), pmi);
  }
  c.cells.clear();
  c.cells.shrink_to_fit();
  ppmi_sparse A(static_cast<ppmi_index>(V), static_cast<ppmi_index>(V));
  A.setFromTriplets(ppmi.begin(), ppmi.end());
  return A;
}

/// The leading left singular vectors (columns of U, V x d) and singular values of a matrix.
struct ppmi_singular {
  Eigen::MatrixXd U;
  Eigen::VectorXd sigma;
};

/// Step 3: the top `d` singular triplets of A by randomised range finding with `k` >= d Gaussian
/// columns and `power_iterations` QR-orthonormalised rounds of A A^T (Halko, Martinsson & Tropp 2011).
inline ppmi_singular ppmi_randomized_svd(const ppmi_sparse& A, ppmi_index d, ppmi_index k, int power_iterations,
                                         std::uint64_t seed) {
  const ppmi_sparse At = A.transpose();
  const ppmi_index V = A.rows();
  std::mt19937_64 g(seed);
  std::normal_distribution<double> nd;
  Eigen::MatrixXd omega(V, k);
  for (ppmi_index c = 0; c < k; ++c)
    for (ppmi_index r = 0; r < V; ++r) omega(r, c) = nd(g);
  auto orth = [](const Eigen::MatrixXd& m) {
    Eigen::HouseholderQR<Eigen::MatrixXd> qr(m);
    return Eigen::MatrixXd(qr.householderQ() * Eigen::MatrixXd::Identity(m.rows(), m.cols()));
  };
  Eigen::MatrixXd Q = orth(A * omega);
  for (int it = 0; it < power_iterations; ++it) {
    const Eigen::MatrixXd Z = orth(At * Q);
    Q = orth(A * Z);
  }
  const Eigen::MatrixXd B = (At * Q).transpose();  // k x V  (= Q^T A)
  const Eigen::MatrixXd BBt = B * B.transpose();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(BBt);
  // Eigenvalues ascending: take the top d.
  ppmi_singular s{Eigen::MatrixXd(V, d), Eigen::VectorXd(d)};
  const Eigen::MatrixXd Ub = es.eigenvectors();
  for (ppmi_index c = 0; c < d; ++c) {
    const ppmi_index src = k - 1 - c;
    s.sigma(c) = std::sqrt(std::max(0.0, es.eigenvalues()(src)));
    s.U.col(c) = Q * Ub.col(src);
  }
  return s;
}

/// Step 4: rows U Sigma^weight, L2-normalised; ids with no context (rowsum 0) or a zero row are unknown.
inline token_vectors ppmi_word_vectors(const ppmi_singular& s, const std::vector<double>& rowsum, double eigenvalue_weight,
                                       unknown_word unknown) {
  const std::size_t V = rowsum.size();
  const auto d = static_cast<ppmi_index>(s.sigma.size());
  const auto dim = static_cast<std::size_t>(d);
  std::vector<float> data(V * dim, 0.0f);
  std::vector<std::uint8_t> known(V, 0);
  for (std::size_t i = 0; i < V; ++i) {
    if (rowsum[i] <= 0) continue;
    Eigen::VectorXd v(d);
    for (ppmi_index c = 0; c < d; ++c) v(c) = s.U(static_cast<ppmi_index>(i), c) * std::pow(s.sigma(c), eigenvalue_weight);
    const double nrm = v.norm();
    if (!(nrm > 0)) continue;
    known[i] = 1;
    for (ppmi_index c = 0; c < d; ++c) data[i * dim + static_cast<std::size_t>(c)] = static_cast<float>(v(c) / nrm);
  }
  return token_vectors(dim, std::move(data), std::move(known), unknown);
}

}  // namespace detail

/// Builds d-dimensional vectors for ids 0 .. vocabulary_size-1 from `corpus` (any range of ranges of
/// token_id, e.g. std::vector<std::vector<token_id>>).
/// Requires: every id in [0, vocabulary_size); dimension <= the number of distinct words seen.
/// Complexity: O(T w) counting (T corpus tokens) + O(nnz (d + p) (2 q + 2)) for the SVD.
/// Throws: embed_error naming the sentence and id out of range, or a corpus too small for `dimension`.
template <class Corpus>
token_vectors build_ppmi_svd(const Corpus& corpus, std::size_t vocabulary_size, const ppmi_svd_options& o = {}) {
  const std::size_t V = vocabulary_size;
  if (V == 0 || o.dimension == 0 || o.window == 0) detail::throw_embed("build_ppmi_svd: vocabulary, dimension and window must be > 0");
  const std::vector<token_id> flat = detail::ppmi_flatten(corpus, V, o.first_word_id);
  detail::ppmi_counts counts = detail::ppmi_count_cooccurrences(flat, detail::ppmi_index_positions(flat, V), V, o.window);
  std::size_t words = 0;
  for (std::size_t i = 0; i < V; ++i) words += counts.rowsum[i] > 0;
  if (words < o.dimension + 1)
    detail::throw_embed("build_ppmi_svd: the corpus has ", words, " words with contexts, too few for dimension ", o.dimension);
  const detail::ppmi_sparse A = detail::ppmi_matrix(counts, V, o.context_smoothing, o.shift);
  const auto k = static_cast<detail::ppmi_index>(std::min<std::size_t>(o.dimension + o.oversampling, words));
  const detail::ppmi_singular s =
      detail::ppmi_randomized_svd(A, static_cast<detail::ppmi_index>(o.dimension), k, o.power_iterations, o.seed);
  return detail::ppmi_word_vectors(s, counts.rowsum, o.eigenvalue_weight, o.unknown);
}

}  // namespace slotdiff
