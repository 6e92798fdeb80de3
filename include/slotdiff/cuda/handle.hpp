// slotdiff/cuda/handle.hpp: the CUDA reference denoiser behind a plain C++ face, for programs whose
// other files are compiled by the C++ compiler (no CUDA headers here).
//
// Include this header anywhere; include "slotdiff/cuda/handle.cuh" in exactly one .cu file of the
// program, which defines the members (compiled by nvcc; link slotdiff::cuda):
//
//     // model.cu
//     #include "slotdiff/cuda/handle.cuh"
//     // main.cpp
//     #include "slotdiff/cuda/handle.hpp"
//     auto model = slotdiff::cuda::reference_handle::load("models/reference.safetensors", vocab);
//     slotdiff::denoise(model, ...);
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>

#include "slotdiff/concepts/denoiser_backend.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/cuda/options.hpp"
#include "slotdiff/denoise/ragged_batch.hpp"
#include "slotdiff/slots/layout.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff::cuda {

/// Visible CUDA devices (0 without a driver or a device). Defined in handle.cuh.
int visible_devices() noexcept;

/// A cuda::gpu_reference_backend held by pointer: same behaviour, same options, same errors
/// (reference.cuh).
class reference_handle {
public:
  using layout_type = side_layout;

  explicit reference_handle(const std::filesystem::path& path, handle_options opt = {});
  static reference_handle load(const std::filesystem::path& path, const tokenizer& vocab, handle_options opt = {});
  ~reference_handle();
  reference_handle(reference_handle&&) noexcept;
  reference_handle& operator=(reference_handle&&) noexcept;

  std::size_t vocabulary_size() const noexcept;
  token_id none_id() const noexcept;
  std::size_t graphs() const noexcept;
  std::size_t top_k(const ragged_batch& batch, std::size_t k, std::span<token_id> ids, std::span<float> logp);
  std::size_t log_probs(const ragged_batch& batch, std::span<float> out);

private:
  struct impl;
  explicit reference_handle(std::unique_ptr<impl> p) noexcept;
  std::unique_ptr<impl> p_;
};

static_assert(full_distribution_backend<reference_handle> && top_k_backend<reference_handle>);

}  // namespace slotdiff::cuda
