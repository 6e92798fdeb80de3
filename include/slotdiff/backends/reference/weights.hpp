// slotdiff/backends/reference/weights.hpp: the reference denoiser's weights, loaded from a strict
// safetensors file into Eigen matrices (fp32, row-major, PyTorch's [out, in] layout).
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/backends/reference/config.hpp"
#include "slotdiff/backends/reference/tensors.hpp"
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
    const auto d = static_cast<Eigen::Index>(c.d_model);
    w->layers.resize(c.layers);
    read_reference_tensors(f, c, w->source, [&](const reference_tensor_spec& s, std::span<const float> v) {
      const auto rows = static_cast<Eigen::Index>(s.rows), cols = static_cast<Eigen::Index>(s.cols);
      const auto as_matrix = [&] { return Eigen::Map<const reference_matrix>(v.data(), rows, cols); };
      const auto as_vector = [&] { return Eigen::Map<const reference_vector>(v.data(), rows); };
      if (s.name == "tok_embeddings.weight") w->embedding = as_matrix();
      else if (s.name == "final_norm.weight") w->final_norm = as_vector();
      else if (s.name == "head_left.weight" || s.name == "head_right.weight") {
        w->heads.resize(2 * d, d);
        w->heads.middleRows(s.name == "head_left.weight" ? 0 : d, d) = as_matrix();
      } else {  // layers.<i>.<part>.weight
        const std::size_t dot = s.name.find('.', 7);
        reference_layer& l = w->layers[std::stoul(s.name.substr(7, dot - 7))];
        const std::string part = s.name.substr(dot + 1);
        l.wqkv.resize(3 * d, d);
        if (part == "attn_norm.weight") l.attn_norm = as_vector();
        else if (part == "mlp_norm.weight") l.mlp_norm = as_vector();
        else if (part == "wq.weight") l.wqkv.topRows(d) = as_matrix();
        else if (part == "wk.weight") l.wqkv.middleRows(d, d) = as_matrix();
        else if (part == "wv.weight") l.wqkv.bottomRows(d) = as_matrix();
        else if (part == "wo.weight") l.wo = as_matrix();
        else if (part == "w1.weight") l.w1 = as_matrix();
        else l.w2 = as_matrix();  // the specs list nothing else
      }
    });
    return w;
  }

  /// load(path), then refuses it unless its vocabulary size, fingerprint and special ids equal the
  /// tokenizer's (reference_config::check_vocabulary).
  /// Throws: reference_model_error naming both values.
  static std::shared_ptr<const reference_weights> load(const std::filesystem::path& path, const tokenizer& vocab) {
    auto w = load(path);
    w->config.check_vocabulary(vocab, w->source);
    return w;
  }
};

}  // namespace slotdiff
