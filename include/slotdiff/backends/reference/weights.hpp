// slotdiff/backends/reference/weights.hpp: the reference denoiser's weights, loaded from a strict
// safetensors file into Eigen matrices (fp32, row-major, PyTorch's [out, in] layout).
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "slotdiff/backends/reference/config.hpp"
#include "slotdiff/io/safetensors.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff {

/// Row-major fp32 matrix, the layout of every reference weight.
using reference_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using reference_vector = Eigen::Matrix<float, 1, Eigen::Dynamic>;

/// One encoder block. Tensor names in the file: layers.<i>.{attn_norm, wq, wk, wv, wo, mlp_norm, w1, w2}.weight
struct reference_layer {
  reference_vector attn_norm;  ///< [d]
  reference_matrix wqkv;       ///< [3d, d]: wq, wk, wv stacked (one product for all three)
  reference_matrix wo;         ///< [d, d]
  reference_vector mlp_norm;   ///< [d]
  reference_matrix w1;         ///< [mlp, d]
  reference_matrix w2;         ///< [d, mlp]
};

/// Everything a forward pass needs; immutable once loaded, so models on several threads can share one.
struct reference_weights {
  reference_config config;
  std::string source;              ///< the file it came from (for messages)
  reference_matrix embedding;      ///< [V, d] tok_embeddings.weight; also the tied output matrix
  std::vector<reference_layer> layers;
  reference_vector final_norm;     ///< [d]
  reference_matrix heads;          ///< [2d, d]: head_left.weight rows, then head_right.weight rows

  /// Loads and validates `path` (every tensor present with its dtype F32 and shape, no other tensor).
  /// Throws: safetensors_error for a malformed file, reference_model_error for a bad configuration.
  static std::shared_ptr<const reference_weights> load(const std::filesystem::path& path) {
    const auto f = safetensors_file::open(path);
    auto w = std::make_shared<reference_weights>();
    w->source = path.string();
    w->config = reference_config::from_metadata(f.metadata(), w->source);
    const reference_config& c = w->config;
    const std::size_t d = c.d_model, V = c.vocabulary_size;
    std::set<std::string> used;
    auto finite = [&](const std::string& name, const auto& m) {
      if (!m.allFinite()) throw reference_model_error("slotdiff: reference model " + w->source + ": tensor \"" + name + "\" holds NaN or infinity");
      used.insert(name);
    };
    auto mat = [&](const std::string& name, std::size_t rows, std::size_t cols, auto&& block) {
      const st_tensor& t = f.at(name, st_dtype::f32, std::vector<std::size_t>{rows, cols});
      std::memcpy(block.data(), t.bytes.data(), t.bytes.size());
      finite(name, block);
    };
    auto vec = [&](const std::string& name, reference_vector& out) {
      const st_tensor& t = f.at(name, st_dtype::f32, std::vector<std::size_t>{d});
      out.resize(static_cast<Eigen::Index>(d));
      std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
      finite(name, out);
    };
    const auto di = static_cast<Eigen::Index>(d);
    w->embedding.resize(static_cast<Eigen::Index>(V), di);
    mat("tok_embeddings.weight", V, d, w->embedding);
    w->layers.resize(c.layers);
    for (std::size_t i = 0; i < c.layers; ++i) {
      reference_layer& l = w->layers[i];
      const std::string p = "layers." + std::to_string(i) + ".";
      vec(p + "attn_norm.weight", l.attn_norm);
      vec(p + "mlp_norm.weight", l.mlp_norm);
      l.wqkv.resize(3 * di, di);
      // Copy through temporaries: the rows of a row-major block are contiguous, so memcpy is exact.
      reference_matrix tmp(di, di);
      mat(p + "wq.weight", d, d, tmp);
      l.wqkv.topRows(di) = tmp;
      mat(p + "wk.weight", d, d, tmp);
      l.wqkv.middleRows(di, di) = tmp;
      mat(p + "wv.weight", d, d, tmp);
      l.wqkv.bottomRows(di) = tmp;
      l.wo.resize(di, di);
      mat(p + "wo.weight", d, d, l.wo);
      l.w1.resize(static_cast<Eigen::Index>(c.mlp), di);
      mat(p + "w1.weight", c.mlp, d, l.w1);
      l.w2.resize(di, static_cast<Eigen::Index>(c.mlp));
      mat(p + "w2.weight", d, c.mlp, l.w2);
    }
    vec("final_norm.weight", w->final_norm);
    w->heads.resize(2 * di, di);
    reference_matrix tmp(di, di);
    mat("head_left.weight", d, d, tmp);
    w->heads.topRows(di) = tmp;
    mat("head_right.weight", d, d, tmp);
    w->heads.bottomRows(di) = tmp;
    for (const auto& t : f.tensors())
      if (!used.count(t.name))
        throw reference_model_error("slotdiff: reference model " + w->source + ": tensor \"" + t.name +
                                    "\" is not part of a " + std::to_string(c.layers) + "-layer reference model");
    return w;
  }

  /// load(path), then refuses it unless its vocabulary size and fingerprint equal the tokenizer's.
  /// Throws: reference_model_error naming both values.
  static std::shared_ptr<const reference_weights> load(const std::filesystem::path& path, const tokenizer& vocab) {
    auto w = load(path);
    w->config.check_vocabulary(vocab.size(), vocabulary_fingerprint(vocab), w->source);
    return w;
  }
};

}  // namespace slotdiff
