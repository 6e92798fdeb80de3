// slotdiff/cuda/options.hpp: the knobs of the CUDA reference denoiser, in plain C++ (no CUDA headers),
// so that the nvcc face (gpu_reference_backend, reference.cuh) and the plain C++ face
// (reference_handle, handle.hpp) take the same struct.
#pragma once

#include <cstddef>

// The CUDA runtime's stream type is `typedef struct CUstream_st* cudaStream_t` (driver_types.h):
// naming the incomplete struct lets a header without CUDA hold a cudaStream_t.
struct CUstream_st;

namespace slotdiff::cuda {

/// Knobs of the CUDA pass. Every field has a working default; set them with designated
/// initializers (`{.logits_slab = 256, .graphs = false}`).
struct gpu_reference_options {
  /// Longest sequence accepted, 1..2^20 (the RoPE tables are built for it once).
  std::size_t max_sequence_length = 1024;
  /// Slot rows per logits product, at least 1: the fp32 logits of one slab (slab x V floats, 32 MB
  /// for 1024 x 8192) are written by cuBLAS and read once by the top-k kernel; small enough to stay
  /// in an H100's 50 MB L2 between the two.
  std::size_t logits_slab = 1024;
  /// Capture each bucket's forward pass as a CUDA graph and replay it (false: launch kernel by kernel).
  bool graphs = true;
  /// The MLP's first product with GELU in its epilogue (cuBLASLt), writing bf16 directly; false (or
  /// no cuBLASLt algorithm for the shape): an fp32 product and a separate GELU kernel.
  bool fused_gelu = true;
  /// Attention on the tensor cores (kernels::rope_attention_mma: tf32 scores, bf16 p v); false: the
  /// plain fp32 kernel (kernels::rope_attention).
  bool mma_attention = true;
  /// Row buckets of at most kernels::small_rows_max (64) take kernels::small_product for every
  /// product but the slot logits, each RMSNorm folded into the product that reads it (about 24
  /// kernels per forward instead of about 40 at batch 1); false: norm kernels and cuBLAS throughout.
  bool small_batch_kernels = true;
  /// The stream everything runs on (a cudaStream_t); nullptr: the backend creates and owns a
  /// non-blocking one (the legacy default stream cannot be captured into a graph).
  CUstream_st* stream = nullptr;
};

/// The options of reference_handle: the same struct (the handle creates its stream when `stream`
/// is nullptr, the default).
using handle_options = gpu_reference_options;

/// Deprecated: the name of the CPU model's options in another namespace; kept for one release.
using reference_options [[deprecated("use slotdiff::cuda::gpu_reference_options")]] = gpu_reference_options;

}  // namespace slotdiff::cuda
