// slotdiff/embed/pooling.hpp: sentence embeddings pooled from token vectors, with the leave-one-out
// fast path (every "sentence without token i" in O(n d) total).
//
// mean_embedder  v(s) = (1/c) sum_{known i} x_i                       (c = number of known tokens)
// sif_embedder   Arora, Liang & Ma 2017 ("A simple but tough-to-beat baseline"):
//                v(s) = (1/c) sum_{known i} w_i x_i,  w_i = a / (a + p(t_i)),   then v <- v - (u.v) u
//                with p the unigram probability and u the first principal component of the sentence
//                vectors of a reference corpus (fit by fit_sif, power iteration).
// Unknown tokens (token_vectors::known false, unknown_word::skip) are left out of sums and counts.
// A sentence with no known token embeds as the zero vector.
//
// Leave-one-out, with S = sum of the (weighted) known vectors: without known token i,
//   v_{-i} = (S - w_i x_i) / (c - 1)   [SIF: minus its projection on u, from u.S and u.x_i: O(d)]
// and without an unknown token the sentence vector is unchanged. O(n d) for all i.
// Both embedders hold the table through std::shared_ptr (cheap to copy, thread-safe const calls).
#pragma once

#include <cmath>
#include <cstddef>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "slotdiff/concepts/embedder.hpp"
#include "slotdiff/embed/word_vectors.hpp"

namespace slotdiff {
namespace detail {
inline void check_out(const char* who, std::size_t got, std::size_t want) {
  if (got != want) throw_embed(who, ": out has ", got, " floats, expected ", want);
}

/// s += weight(t) * vector(t) for every known token t (unknown ones are left out); returns how many
/// were known. Both pooling embedders sum this way (mean: weight 1). Complexity O(n d).
template <class Weight>
std::size_t sum_known_vectors(const token_vectors& v, std::span<const token_id> tokens, std::vector<double>& s, Weight weight) {
  std::size_t c = 0;
  for (token_id t : tokens) {
    if (!v.known(t)) continue;
    ++c;
    const auto r = v.row(t);
    const double w = weight(t);
    for (std::size_t k = 0; k < s.size(); ++k) s[k] += w * r[k];
  }
  return c;
}
}  // namespace detail

class mean_embedder {
public:
  explicit mean_embedder(std::shared_ptr<const token_vectors> v) : v_(std::move(v)) {
    if (!v_) detail::throw_embed("mean_embedder: no token vectors");
  }
  std::size_t dimension() const noexcept { return v_->dimension(); }

  /// Requires out.size() == dimension(). Throws embed_error for ids outside the vocabulary.
  /// Complexity O(n d).
  void embed(std::span<const token_id> tokens, std::span<float> out) const {
    const std::size_t d = dimension();
    detail::check_out("mean_embedder::embed", out.size(), d);
    std::vector<double> s(d, 0.0);
    const std::size_t c = sum(tokens, s);
    for (std::size_t k = 0; k < d; ++k) out[k] = c ? static_cast<float>(s[k] / double(c)) : 0.0f;
  }
  /// Row i = the vector of token i (zero for unknown tokens). out.size() == n d.
  void embed_tokens(std::span<const token_id> tokens, std::span<float> out) const {
    const std::size_t d = dimension();
    detail::check_out("mean_embedder::embed_tokens", out.size(), tokens.size() * d);
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const auto r = v_->row(tokens[i]);
      for (std::size_t k = 0; k < d; ++k) out[i * d + k] = r[k];
    }
  }
  /// Row i = the sentence vector without token i. out.size() == n d. Complexity O(n d).
  void embed_leave_one_out(std::span<const token_id> tokens, std::span<float> out) const {
    const std::size_t d = dimension(), n = tokens.size();
    detail::check_out("mean_embedder::embed_leave_one_out", out.size(), n * d);
    std::vector<double> s(d, 0.0);
    const std::size_t c = sum(tokens, s);
    for (std::size_t i = 0; i < n; ++i) {
      float* o = out.data() + i * d;
      if (!v_->known(tokens[i])) {
        for (std::size_t k = 0; k < d; ++k) o[k] = c ? static_cast<float>(s[k] / double(c)) : 0.0f;
      } else if (c == 1) {
        for (std::size_t k = 0; k < d; ++k) o[k] = 0.0f;
      } else {
        const auto r = v_->row(tokens[i]);
        for (std::size_t k = 0; k < d; ++k) o[k] = static_cast<float>((s[k] - r[k]) / double(c - 1));
      }
    }
  }
  const token_vectors& vectors() const noexcept { return *v_; }

private:
  std::size_t sum(std::span<const token_id> tokens, std::vector<double>& s) const {
    return detail::sum_known_vectors(*v_, tokens, s, [](token_id) { return 1.0; });
  }
  std::shared_ptr<const token_vectors> v_;
};

struct sif_options {
  /// The SIF smoothing a (the paper's default range is 1e-4 .. 1e-3).
  double a = 1e-3;
  /// Power-iteration steps for the principal component.
  int power_iterations = 50;
  std::uint64_t seed = 1;
};

class sif_embedder {
public:
  /// probabilities: unigram p(id) for ids 0 .. vectors.size()-1 (>= 0). component: unit vector u of
  /// the dimension, or empty for none. Throws embed_error on size mismatches or bad values.
  sif_embedder(std::shared_ptr<const token_vectors> v, std::vector<double> probabilities, std::vector<float> component,
               double a = 1e-3)
      : v_(std::move(v)), u_(std::move(component)) {
    if (!v_) detail::throw_embed("sif_embedder: no token vectors");
    if (probabilities.size() != v_->size())
      detail::throw_embed("sif_embedder: ", probabilities.size(), " probabilities for a vocabulary of ", v_->size());
    if (!(a > 0)) detail::throw_embed("sif_embedder: a = ", a, " must be > 0");
    if (!u_.empty() && u_.size() != v_->dimension())
      detail::throw_embed("sif_embedder: component of dimension ", u_.size(), ", vectors have ", v_->dimension());
    w_.resize(probabilities.size());
    for (std::size_t i = 0; i < w_.size(); ++i) {
      if (!(probabilities[i] >= 0) || !std::isfinite(probabilities[i]))
        detail::throw_embed("sif_embedder: p[", i, "] = ", probabilities[i], " is not a probability");
      w_[i] = a / (a + probabilities[i]);
    }
  }
  std::size_t dimension() const noexcept { return v_->dimension(); }
  std::span<const float> component() const noexcept { return u_; }
  double weight(token_id id) const { return w_[v_->check(id)]; }

  void embed(std::span<const token_id> tokens, std::span<float> out) const {
    const std::size_t d = dimension();
    detail::check_out("sif_embedder::embed", out.size(), d);
    std::vector<double> s(d, 0.0);
    const std::size_t c = sum(tokens, s);
    finish(s, c, out.data());
  }
  /// Row i = w_i x_i (the weighted token vector; zero for unknown tokens).
  void embed_tokens(std::span<const token_id> tokens, std::span<float> out) const {
    const std::size_t d = dimension();
    detail::check_out("sif_embedder::embed_tokens", out.size(), tokens.size() * d);
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const auto r = v_->row(tokens[i]);
      const double w = v_->known(tokens[i]) ? weight(tokens[i]) : 0.0;
      for (std::size_t k = 0; k < d; ++k) out[i * d + k] = static_cast<float>(w * r[k]);
    }
  }
  void embed_leave_one_out(std::span<const token_id> tokens, std::span<float> out) const {
    const std::size_t d = dimension(), n = tokens.size();
    detail::check_out("sif_embedder::embed_leave_one_out", out.size(), n * d);
    std::vector<double> s(d, 0.0), t(d);
    const std::size_t c = sum(tokens, s);
    for (std::size_t i = 0; i < n; ++i) {
      if (!v_->known(tokens[i])) {
        finish(s, c, out.data() + i * d);
        continue;
      }
      const auto r = v_->row(tokens[i]);
      const double w = weight(tokens[i]);
      for (std::size_t k = 0; k < d; ++k) t[k] = s[k] - w * r[k];
      finish(t, c - 1, out.data() + i * d);
    }
  }

private:
  std::size_t sum(std::span<const token_id> tokens, std::vector<double>& s) const {
    return detail::sum_known_vectors(*v_, tokens, s, [this](token_id t) { return weight(t); });
  }
  // out = s / c minus its projection on u (O(d)).
  void finish(const std::vector<double>& s, std::size_t c, float* out) const {
    const std::size_t d = s.size();
    if (c == 0) {
      for (std::size_t k = 0; k < d; ++k) out[k] = 0.0f;
      return;
    }
    double proj = 0;
    if (!u_.empty())
      for (std::size_t k = 0; k < d; ++k) proj += u_[k] * s[k];
    for (std::size_t k = 0; k < d; ++k)
      out[k] = static_cast<float>((s[k] - (u_.empty() ? 0.0 : proj * u_[k])) / double(c));
  }
  std::shared_ptr<const token_vectors> v_;
  std::vector<double> w_;
  std::vector<float> u_;
};

/// Builds a SIF embedder from a corpus (any range of token-id ranges): unigram probabilities from the
/// counts, then u = the first principal component (uncentred, as in the paper) of the corpus's
/// weighted-average sentence vectors, by power iteration. Complexity O(corpus tokens * d * iterations)
/// for the component (sentence vectors are computed once). Throws embed_error on an empty corpus.
template <class Corpus>
sif_embedder fit_sif(std::shared_ptr<const token_vectors> v, const Corpus& corpus, const sif_options& o = {}) {
  if (!v) detail::throw_embed("fit_sif: no token vectors");
  std::vector<double> p(v->size(), 0.0);
  double total = 0;
  for (const auto& sentence : corpus)
    for (token_id t : sentence) {
      p[v->check(t)] += 1;
      total += 1;
    }
  if (total == 0) detail::throw_embed("fit_sif: the corpus has no tokens");
  for (double& x : p) x /= total;
  const sif_embedder plain(v, p, {}, o.a);
  const std::size_t d = v->dimension();
  std::vector<float> rows;
  std::vector<float> e(d);
  for (const auto& sentence : corpus) {
    std::vector<token_id> ids(std::begin(sentence), std::end(sentence));
    plain.embed(ids, e);
    rows.insert(rows.end(), e.begin(), e.end());
  }
  const std::size_t m = rows.size() / d;
  std::vector<double> u(d), w(d);
  std::mt19937_64 g(o.seed);
  std::normal_distribution<double> nd;
  for (double& x : u) x = nd(g);
  for (int it = 0; it < o.power_iterations; ++it) {  // u <- X^T X u / |.|
    std::fill(w.begin(), w.end(), 0.0);
    for (std::size_t r = 0; r < m; ++r) {
      double dotp = 0;
      for (std::size_t k = 0; k < d; ++k) dotp += rows[r * d + k] * u[k];
      for (std::size_t k = 0; k < d; ++k) w[k] += dotp * rows[r * d + k];
    }
    double nrm = 0;
    for (double x : w) nrm += x * x;
    nrm = std::sqrt(nrm);
    if (nrm == 0) break;
    for (std::size_t k = 0; k < d; ++k) u[k] = w[k] / nrm;
  }
  std::vector<float> uf(u.begin(), u.end());
  return sif_embedder(std::move(v), std::move(p), std::move(uf), o.a);
}

static_assert(leave_one_out_embedder<mean_embedder> && token_embedder<mean_embedder>);
static_assert(leave_one_out_embedder<sif_embedder> && token_embedder<sif_embedder>);

}  // namespace slotdiff
