// slotdiff/backends/reference/tensors.hpp: the tensors a reference-model file must hold, checked
// once for every backend (the Eigen CPU pass and the CUDA pass read the same file the same way).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/backends/reference/config.hpp"
#include "slotdiff/io/safetensors.hpp"

namespace slotdiff {

/// One tensor of a reference model: its name in the file and its [rows, cols] shape (cols == 0: a
/// vector of `rows` entries).
struct reference_tensor_spec {
  std::string name;
  std::size_t rows = 0, cols = 0;

  std::size_t size() const noexcept { return cols ? rows * cols : rows; }
};

/// Every tensor of a model with configuration `c`, in a fixed order: tok_embeddings; per layer
/// attn_norm, wq, wk, wv, wo, mlp_norm, w1, w2; final_norm; head_left; head_right.
inline std::vector<reference_tensor_spec> reference_tensor_specs(const reference_config& c) {
  const std::size_t d = c.d_model;
  std::vector<reference_tensor_spec> s;
  s.push_back({"tok_embeddings.weight", c.vocabulary_size, d});
  for (std::size_t i = 0; i < c.layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    s.push_back({p + "attn_norm.weight", d, 0});
    s.push_back({p + "wq.weight", d, d});
    s.push_back({p + "wk.weight", d, d});
    s.push_back({p + "wv.weight", d, d});
    s.push_back({p + "wo.weight", d, d});
    s.push_back({p + "mlp_norm.weight", d, 0});
    s.push_back({p + "w1.weight", c.mlp, d});
    s.push_back({p + "w2.weight", d, c.mlp});
  }
  s.push_back({"final_norm.weight", d, 0});
  s.push_back({"head_left.weight", d, d});
  s.push_back({"head_right.weight", d, d});
  return s;
}

/// Reads every tensor of reference_tensor_specs(c) from `f` as fp32 and calls
/// visit(spec, std::span<const float>) for each, in that order. Checks everything before the first
/// call: each tensor present with dtype F32 or BF16 and its shape, every value finite, no other
/// tensor. BF16 (the upper 16 bits of an IEEE-754 binary32, as PyTorch's torch.bfloat16 stores it)
/// widens exactly to fp32, so a BF16 file gives the same forward pass as the fp32 file of the same
/// rounded weights.
/// Throws: safetensors_error (missing tensor, wrong dtype or shape) or reference_model_error
/// (NaN/infinity, an unexpected tensor), naming `source` and the tensor.
template <class Visit>
void read_reference_tensors(const safetensors_file& f, const reference_config& c, const std::string& source, Visit&& visit) {
  const std::vector<reference_tensor_spec> specs = reference_tensor_specs(c);
  std::set<std::string> expected;
  for (const auto& s : specs) expected.insert(s.name);
  for (const auto& t : f.tensors())
    if (!expected.count(t.name))
      throw reference_model_error("reference model " + source + ": tensor \"" + t.name + "\" is not part of a " +
                                  std::to_string(c.layers) + "-layer reference model");
  std::vector<const st_tensor*> found;
  for (const auto& s : specs) {
    const std::vector<std::size_t> shape = s.cols ? std::vector<std::size_t>{s.rows, s.cols} : std::vector<std::size_t>{s.rows};
    const st_tensor* t = f.find(s.name);
    found.push_back(&f.at(s.name, t && t->dtype == st_dtype::bf16 ? st_dtype::bf16 : st_dtype::f32, shape));
  }
  std::vector<float> values;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    values.resize(specs[i].size());
    if (found[i]->dtype == st_dtype::bf16) {
      const auto* b = reinterpret_cast<const unsigned char*>(found[i]->bytes.data());
      for (std::size_t j = 0; j < values.size(); ++j) {  // little-endian; bytes may be unaligned
        const std::uint32_t bits = (std::uint32_t{b[2 * j + 1]} << 24) | (std::uint32_t{b[2 * j]} << 16);
        std::memcpy(&values[j], &bits, sizeof(float));
      }
    } else {
      std::memcpy(values.data(), found[i]->bytes.data(), values.size() * sizeof(float));  // bytes may be unaligned
    }
    for (float v : values)
      if (!std::isfinite(v))
        throw reference_model_error("reference model " + source + ": tensor \"" + specs[i].name + "\" holds NaN or infinity");
    visit(specs[i], std::span<const float>(values));
  }
}

}  // namespace slotdiff
