// slotdiff/backends/reference/model.hpp: the reference denoiser's CPU forward pass (Eigen, fp32) on
// packed ragged batches.
//
// The architecture (docs/reference-model.md): token embedding; per layer, pre-norm RMSNorm, rotary
// position embedding (rotate-half pairs (j, j + head_dim/2), positions 0.. within each sequence) on
// q and k, bidirectional multi-head attention, residual, pre-norm RMSNorm, GELU (tanh form) MLP,
// residual; final RMSNorm. Two slot heads per token, tied to the embedding:
//   left_logits(i) = E (W_left h_i),  right_logits(i) = E (W_right h_i).
// Slot 2i (left of token i) reads the left head of token i, slot 2i+1 its right head. An empty
// sequence is fed as the single token ROOT and its one root slot reads ROOT's right head.
//
// Threads: reference_options::threads (0 = all hardware threads). Matrix products are split into
// column or row tiles, attention into (sequence, head) tasks, elementwise work into row blocks,
// over a pool owned by the model. Each tile is one single-threaded Eigen product and the tiles depend
// on the shapes only, so the results are bit-for-bit the same at any thread count. Do not also build
// with Eigen's OpenMP parallelism (-fopenmp), or define EIGEN_DONT_PARALLELIZE if you must.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "slotdiff/backends/reference/config.hpp"
#include "slotdiff/detail/thread_pool.hpp"
#include "slotdiff/backends/reference/weights.hpp"
#include "slotdiff/denoise/ragged_batch.hpp"
#include "slotdiff/slots/layout.hpp"

namespace slotdiff {

/// Knobs of the CPU forward pass.
struct reference_options {
  /// Worker threads, the caller's included; 0: std::thread::hardware_concurrency().
  std::size_t threads = 1;
};

/// The forward pass. Owns scratch buffers and a thread pool, so one object must not be used by two
/// threads at once; share the (immutable) weights between several objects instead.
class reference_model {
public:
  using layout_type = side_layout;
  using matrix = reference_matrix;

  /// Requires: weights != nullptr.
  explicit reference_model(std::shared_ptr<const reference_weights> weights, reference_options opt = {})
      : w_(std::move(weights)),
        pool_(opt.threads ? opt.threads : std::max<std::size_t>(1, std::thread::hardware_concurrency())) {
    if (!w_) throw reference_model_error("reference_model: weights must not be null, got nullptr");
    allowed_.assign(config().vocabulary_size, 1);
    for (token_id t : config().never_insert) allowed_[static_cast<std::size_t>(t)] = 0;
  }

  /// Loads weights from `path`, refusing them unless they were trained with `vocab`.
  static reference_model load(const std::filesystem::path& path, const tokenizer& vocab, reference_options opt = {}) {
    return reference_model(reference_weights::load(path, vocab), opt);
  }

  const reference_config& config() const noexcept { return w_->config; }
  const std::shared_ptr<const reference_weights>& weights() const noexcept { return w_; }
  std::size_t threads() const noexcept { return pool_.size(); }
  /// Whether id may be inserted (false for the never_insert ids, whose log-probability is -inf).
  bool insertable(token_id id) const noexcept { return allowed_[static_cast<std::size_t>(id)] != 0; }

  /// Rows the model is fed for a batch: every sequence's length, or 1 (ROOT) if it is empty.
  static std::size_t fed_rows(const ragged_batch& batch) noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) n += std::max<std::size_t>(batch.length(i), 1);
    return n;
  }
  static std::size_t slot_rows(const ragged_batch& batch) noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) n += side_layout::slot_count(batch.length(i));
    return n;
  }

  /// The final hidden states (after the final RMSNorm), one row per fed token (fed_rows(batch) x d).
  /// The reference stays valid until the next call on this object.
  /// Throws: slotdiff::input_error for bad offsets or a token id outside the vocabulary (naming both).
  /// Complexity: O(N L d (d + mlp) + L d sum n_i^2), N fed tokens, L layers.
  const matrix& hidden(const ragged_batch& batch) {
    prepare(batch);
    encode();
    return x_;
  }

  /// Raw slot logits, (slot_rows(batch)) x V row-major into `out`. Returns the rows written.
  /// Throws: slotdiff::input_error if out is too small (naming both sizes), or as hidden().
  std::size_t slot_logits(const ragged_batch& batch, std::span<float> out) { return all_slot_logits(batch, out, "slot_logits"); }

  /// Log-probabilities per slot (never_insert ids -inf), (slot_rows(batch)) x V into `out`.
  /// Throws: as slot_logits.
  std::size_t log_probs(const ragged_batch& batch, std::span<float> out) {
    const std::size_t S = all_slot_logits(batch, out, "log_probs"), V = config().vocabulary_size;
    pool_.run(blocks(S, 16), [&](std::size_t b) {
      for (std::size_t r = b * 16; r < std::min(S, b * 16 + 16); ++r) normalize(out.data() + r * V);
    });
    return S;
  }

  /// The k best (id, log-probability) per slot, best first (ties: smaller id first).
  /// Throws: slotdiff::input_error if k is 0 or above V, or ids/logp hold fewer than slots x k entries.
  std::size_t top_k(const ragged_batch& batch, std::size_t k, std::span<token_id> ids, std::span<float> logp) {
    const std::size_t S = slot_rows(batch), V = config().vocabulary_size;
    if (k == 0 || k > V) throw input_error("reference top_k: k must lie in 1.." + std::to_string(V) + ", got k = " + std::to_string(k));
    check_out("top_k ids", ids.size(), S * k);
    check_out("top_k logp", logp.size(), S * k);
    hidden(batch);
    queries();
    // Logits in slabs of at most 512 slots, so a big batch never holds all S x V floats at once.
    constexpr std::size_t slab = 512;
    logits_.resize(std::min(S, slab) * V);
    for (std::size_t s0 = 0; s0 < S; s0 += slab) {
      const std::size_t n = std::min(slab, S - s0);
      project(s0, n, logits_.data());
      pool_.run(blocks(n, 8), [&](std::size_t b) {
        std::vector<std::pair<float, token_id>> heap;
        for (std::size_t r = b * 8; r < std::min(n, b * 8 + 8); ++r) {
          float* row = logits_.data() + r * V;
          normalize(row);
          select(row, V, k, heap, ids.data() + (s0 + r) * k, logp.data() + (s0 + r) * k);
        }
      });
    }
    return S;
  }

private:
  using map = Eigen::Map<matrix, Eigen::Unaligned, Eigen::OuterStride<>>;
  using cmap = Eigen::Map<const matrix, Eigen::Unaligned, Eigen::OuterStride<>>;

  static std::size_t blocks(std::size_t n, std::size_t grain) noexcept { return (n + grain - 1) / grain; }

  // slot_logits' body; `what` names the caller in the buffer-size error.
  std::size_t all_slot_logits(const ragged_batch& batch, std::span<float> out, const char* what) {
    const std::size_t S = slot_rows(batch);
    check_out(what, out.size(), S * config().vocabulary_size);
    hidden(batch);
    queries();
    project(0, S, out.data());
    return S;
  }

  static void check_out(const char* what, std::size_t have, std::size_t need) {
    if (have < need)
      throw input_error(std::string("reference ") + what + ": the output buffer holds " + std::to_string(have) +
                        " values, the batch needs " + std::to_string(need));
  }

  void prepare(const ragged_batch& batch) {
    batch.validate();
    const reference_config& c = config();
    const std::size_t N = fed_rows(batch);
    fed_.resize(N);
    pos_.resize(N);
    seq_start_.resize(batch.size());
    seq_len_.resize(batch.size());
    empty_.resize(batch.size());
    std::size_t r = 0, longest = 1;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto s = batch.sequence(i);
      seq_start_[i] = r;
      empty_[i] = s.empty();
      seq_len_[i] = std::max<std::size_t>(s.size(), 1);
      longest = std::max(longest, seq_len_[i]);
      if (s.empty()) {
        fed_[r] = c.root_id;
        pos_[r++] = 0;
        continue;
      }
      for (std::size_t j = 0; j < s.size(); ++j) {
        if (s[j] < 0 || static_cast<std::size_t>(s[j]) >= c.vocabulary_size)
          throw input_error("reference model: sequence " + std::to_string(i) + " position " + std::to_string(j) + " holds id " +
                            std::to_string(s[j]) + ", outside the vocabulary of " + std::to_string(c.vocabulary_size));
        fed_[r] = s[j];
        pos_[r++] = j;
      }
    }
    rope_table(longest);
  }

  // cos/sin of position p times base^(-2j/hd), computed in double and rounded (as the trainer does).
  void rope_table(std::size_t positions) {
    const std::size_t half = config().head_dim() / 2;
    if (rope_positions_ >= positions) return;
    const std::size_t P = std::max(positions, 2 * rope_positions_);
    cos_.resize(P * half);
    sin_.resize(P * half);
    for (std::size_t p = 0; p < P; ++p)
      for (std::size_t j = 0; j < half; ++j) {
        const double inv = std::pow(config().rope_base, -static_cast<double>(2 * j) / static_cast<double>(config().head_dim()));
        const double a = static_cast<double>(p) * inv;
        cos_[p * half + j] = static_cast<float>(std::cos(a));
        sin_[p * half + j] = static_cast<float>(std::sin(a));
      }
    rope_positions_ = P;
  }

  /// y (+)= x w^T, w [out, in]: split over output columns when x is short, over rows when tall.
  /// The tiles depend on the shapes only, never on the thread count: each tile is one single-threaded
  /// Eigen product, whichever thread runs it, so every output element is computed by the same call
  /// at any thread count and the logits are bit-for-bit the same at 1, 2 or 8 threads. Row tiles of
  /// 128 are whole multiples of Eigen's register blocks (12, 24 or 48 rows), column tiles of 32 of
  /// its 4 columns.
  void gemm_nt(const matrix& x, const matrix& w, matrix& y, bool accumulate) {
    const Eigen::Index N = x.rows(), O = w.rows();
    if (N * O * x.cols() < 64 * 1024) {
      if (accumulate) y.noalias() += x * w.transpose();
      else y.noalias() = x * w.transpose();
      return;
    }
    if (N >= 256) {
      constexpr Eigen::Index rows = 128;
      const std::size_t tasks = static_cast<std::size_t>((N + rows - 1) / rows);
      pool_.run(tasks, [&](std::size_t t) {
        const Eigen::Index r0 = static_cast<Eigen::Index>(t) * rows, n = std::min(rows, N - r0);
        if (accumulate) y.middleRows(r0, n).noalias() += x.middleRows(r0, n) * w.transpose();
        else y.middleRows(r0, n).noalias() = x.middleRows(r0, n) * w.transpose();
      });
      return;
    }
    constexpr Eigen::Index cols = 32;
    const std::size_t tasks = static_cast<std::size_t>((O + cols - 1) / cols);
    pool_.run(tasks, [&](std::size_t t) {
      const Eigen::Index c0 = static_cast<Eigen::Index>(t) * cols, n = std::min(cols, O - c0);
      if (accumulate) y.middleCols(c0, n).noalias() += x * w.middleRows(c0, n).transpose();
      else y.middleCols(c0, n).noalias() = x * w.middleRows(c0, n).transpose();
    });
  }

  /// out = rmsnorm(x) * g, row by row (torch: x * rsqrt(mean(x^2) + eps) * g).
  void rmsnorm(const matrix& x, const reference_vector& g, matrix& out) {
    const float eps = config().norm_eps;
    const auto d = static_cast<float>(x.cols());
    out.resize(x.rows(), x.cols());
    pool_.run(blocks(static_cast<std::size_t>(x.rows()), 64), [&](std::size_t b) {
      const auto r1 = std::min<Eigen::Index>(x.rows(), static_cast<Eigen::Index>(b * 64 + 64));
      for (auto r = static_cast<Eigen::Index>(b * 64); r < r1; ++r) {
        const float inv = 1.0f / std::sqrt(x.row(r).squaredNorm() / d + eps);
        out.row(r) = (x.row(r) * inv).cwiseProduct(g);
      }
    });
  }

  void rope(matrix& qkv) {
    const std::size_t d = config().d_model, hd = config().head_dim(), half = hd / 2, H = config().heads;
    pool_.run(blocks(fed_.size(), 64), [&](std::size_t b) {
      for (std::size_t r = b * 64; r < std::min(fed_.size(), b * 64 + 64); ++r) {
        const float* c = cos_.data() + pos_[r] * half;
        const float* s = sin_.data() + pos_[r] * half;
        float* row = qkv.data() + static_cast<std::ptrdiff_t>(r * 3 * d);
        for (std::size_t part = 0; part < 2; ++part)  // q, then k
          for (std::size_t h = 0; h < H; ++h) {
            float* x = row + part * d + h * hd;
            for (std::size_t j = 0; j < half; ++j) {
              const float x1 = x[j], x2 = x[j + half];
              x[j] = x1 * c[j] - x2 * s[j];
              x[j + half] = x2 * c[j] + x1 * s[j];
            }
          }
      }
    });
  }

  void attention() {
    const auto d = static_cast<Eigen::Index>(config().d_model), hd = static_cast<Eigen::Index>(config().head_dim());
    const std::size_t H = config().heads;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    att_.resize(static_cast<Eigen::Index>(fed_.size()), d);
    pool_.run(seq_start_.size() * H, [&](std::size_t task) {
      const std::size_t i = task / H;
      const auto h = static_cast<Eigen::Index>(task % H);
      const auto r0 = static_cast<Eigen::Index>(seq_start_[i]), n = static_cast<Eigen::Index>(seq_len_[i]);
      const auto q = qkv_.block(r0, h * hd, n, hd);
      const auto k = qkv_.block(r0, d + h * hd, n, hd);
      const auto v = qkv_.block(r0, 2 * d + h * hd, n, hd);
      matrix s = (q * k.transpose()) * scale;
      for (Eigen::Index r = 0; r < n; ++r) {
        const float m = s.row(r).maxCoeff();
        s.row(r) = (s.row(r).array() - m).exp().matrix();
        s.row(r) /= s.row(r).sum();
      }
      att_.block(r0, h * hd, n, hd).noalias() = s * v;
    });
  }

  void gelu(matrix& m) {
    const float k0 = 0.7978845608028654f, k1 = 0.044715f;  // sqrt(2/pi)
    pool_.run(blocks(static_cast<std::size_t>(m.rows()), 32), [&](std::size_t b) {
      const auto r0 = static_cast<Eigen::Index>(b * 32), n = std::min<Eigen::Index>(32, m.rows() - r0);
      auto a = m.middleRows(r0, n).array();
      a = 0.5f * a * (1.0f + (k0 * (a + k1 * a.cube())).tanh());
    });
  }

  void encode() {
    const reference_weights& w = *w_;
    const auto N = static_cast<Eigen::Index>(fed_.size()), d = static_cast<Eigen::Index>(config().d_model);
    x_.resize(N, d);
    for (Eigen::Index r = 0; r < N; ++r) x_.row(r) = w.embedding.row(fed_[static_cast<std::size_t>(r)]);
    qkv_.resize(N, 3 * d);
    mlp_.resize(N, static_cast<Eigen::Index>(config().mlp));
    for (const reference_layer& l : w.layers) {
      rmsnorm(x_, l.attn_norm, h_);
      gemm_nt(h_, l.wqkv, qkv_, false);
      rope(qkv_);
      attention();
      gemm_nt(att_, l.wo, x_, true);
      rmsnorm(x_, l.mlp_norm, h_);
      gemm_nt(h_, l.w1, mlp_, false);
      gelu(mlp_);
      gemm_nt(mlp_, l.w2, x_, true);
    }
    rmsnorm(x_, w.final_norm, h_);
    x_.swap(h_);
  }

  /// The slot queries u (slot_rows x d): W_left h_i and W_right h_i interleaved, ROOT's right only.
  void queries() {
    const auto d = static_cast<Eigen::Index>(config().d_model);
    lr_.resize(x_.rows(), 2 * d);
    gemm_nt(x_, w_->heads, lr_, false);  // row i: [W_left h_i, W_right h_i] = slots 2i, 2i+1 back to back
    const bool any_empty = std::find(empty_.begin(), empty_.end(), true) != empty_.end();
    if (!any_empty) {
      slots_ = nullptr;
      return;
    }
    std::size_t S = 0;
    for (std::size_t i = 0; i < seq_len_.size(); ++i) S += empty_[i] ? 1 : 2 * seq_len_[i];
    u_.resize(static_cast<Eigen::Index>(S), d);
    Eigen::Index s = 0;
    for (std::size_t i = 0; i < seq_len_.size(); ++i) {
      const auto r0 = static_cast<Eigen::Index>(seq_start_[i]);
      if (empty_[i]) {
        u_.row(s++) = lr_.block(r0, d, 1, d);
        continue;
      }
      for (Eigen::Index j = 0; j < static_cast<Eigen::Index>(seq_len_[i]); ++j) {
        u_.row(s++) = lr_.block(r0 + j, 0, 1, d);
        u_.row(s++) = lr_.block(r0 + j, d, 1, d);
      }
    }
    slots_ = &u_;
  }

  /// out (n x V, row-major) = logits of slots [s0, s0 + n): u E^T, tiled over the pool.
  void project(std::size_t s0, std::size_t n, float* out) {
    if (n == 0) return;  // an empty batch: no slots (and no tiles to size)
    const auto d = static_cast<Eigen::Index>(config().d_model), V = static_cast<Eigen::Index>(config().vocabulary_size);
    const cmap u = slots_ ? cmap(slots_->data() + static_cast<Eigen::Index>(s0) * d, static_cast<Eigen::Index>(n), d, Eigen::OuterStride<>(d))
                          : cmap(lr_.data() + static_cast<Eigen::Index>(s0) * d, static_cast<Eigen::Index>(n), d, Eigen::OuterStride<>(d));
    map y(out, static_cast<Eigen::Index>(n), V, Eigen::OuterStride<>(V));
    const matrix& e = w_->embedding;
    // Tiles of 96 slots x 1024 words, fixed whatever the thread count (as gemm_nt's): each logit is
    // computed by the same Eigen call at any thread count, so the logits are bit-for-bit the same.
    // Few slots still make several tasks (the vocabulary is split), and each task packs only its
    // 1024 rows of E.
    const Eigen::Index rows = std::min<Eigen::Index>(96, static_cast<Eigen::Index>(n));
    const std::size_t row_tasks = static_cast<std::size_t>((static_cast<Eigen::Index>(n) + rows - 1) / rows);
    const Eigen::Index cols = std::min<Eigen::Index>(1024, V);
    const std::size_t col_tasks = static_cast<std::size_t>((V + cols - 1) / cols);
    pool_.run(row_tasks * col_tasks, [&](std::size_t t) {
      const Eigen::Index r0 = static_cast<Eigen::Index>(t / col_tasks) * rows, c0 = static_cast<Eigen::Index>(t % col_tasks) * cols;
      const Eigen::Index nr = std::min(rows, static_cast<Eigen::Index>(n) - r0), nc = std::min(cols, V - c0);
      y.block(r0, c0, nr, nc).noalias() = u.middleRows(r0, nr) * e.middleRows(c0, nc).transpose();
    });
  }

  /// Logits row -> log-probabilities, never_insert ids -inf. Vectorised (Eigen's exp): the masked
  /// ids enter the sum as exp(-88) ~ 1e-38 each, far below float resolution of the total.
  void normalize(float* row) const {
    const auto V = static_cast<Eigen::Index>(config().vocabulary_size);
    for (token_id t : config().never_insert) row[t] = -std::numeric_limits<float>::infinity();
    Eigen::Map<Eigen::ArrayXf> a(row, V);
    const float m = a.maxCoeff();
    const float lse = m + std::log((a - m).exp().sum());
    a -= lse;
  }

  /// The k largest entries of row[0, V), best first; ties: the smaller id first.
  static void select(const float* row, std::size_t V, std::size_t k, std::vector<std::pair<float, token_id>>& heap,
                     token_id* ids, float* logp) {
    // "less" means "better", so the heap's top is the worst candidate kept.
    const auto better = [](const std::pair<float, token_id>& a, const std::pair<float, token_id>& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    heap.clear();
    for (std::size_t v = 0; v < k; ++v) heap.emplace_back(row[v], static_cast<token_id>(v));
    std::make_heap(heap.begin(), heap.end(), better);
    for (std::size_t v = k; v < V; ++v) {
      if (row[v] > heap.front().first) {  // equal values keep the earlier (smaller) id
        std::pop_heap(heap.begin(), heap.end(), better);
        heap.back() = {row[v], static_cast<token_id>(v)};
        std::push_heap(heap.begin(), heap.end(), better);
      }
    }
    std::sort_heap(heap.begin(), heap.end(), better);
    for (std::size_t j = 0; j < k; ++j) {
      ids[j] = heap[j].second;
      logp[j] = heap[j].first;
    }
  }

  std::shared_ptr<const reference_weights> w_;
  detail::thread_pool pool_;
  std::vector<char> allowed_;
  std::vector<token_id> fed_;
  std::vector<std::size_t> pos_, seq_start_, seq_len_;
  std::vector<bool> empty_;
  std::vector<float> cos_, sin_;
  std::size_t rope_positions_ = 0;
  matrix x_, h_, qkv_, att_, mlp_, lr_, u_;
  const matrix* slots_ = nullptr;
  std::vector<float> logits_;
};

}  // namespace slotdiff
