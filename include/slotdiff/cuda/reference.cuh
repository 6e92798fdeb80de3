// slotdiff/cuda/reference.cuh: the reference denoiser on an NVIDIA GPU, as a denoiser_backend
// (include from a .cu file; link slotdiff::cuda).
//
//     const slotdiff::tokenizer vocab = slotdiff::tokenizer::load("data/wordnet/vocab.txt");
//     auto model = slotdiff::cuda::gpu_reference_backend::load("models/reference.safetensors", vocab);
//     slotdiff::denoise(model, ...);  // or model.top_k(batch, 16, ids, logp)
//
// Same architecture and weights as the CPU pass (backends/reference/model.hpp), in bf16 with fp32
// accumulation (the q/k/v product in TF32: see docs/cuda.md, "Precision"): cuBLAS products (the MLP's first with GELU in a cuBLASLt epilogue), and kernels for
// embedding + RMSNorm, RoPE + attention (online softmax, one pass over the keys), and the slot heads'
// log-softmax + top-k, so top_k brings
// back only k (id, log-probability) pairs per slot. Buffers live on the device for the backend's
// lifetime and grow only when a bigger bucket of sizes arrives (cuda/plan.hpp); each bucket's whole
// forward pass, uploads and download included, is captured once as a CUDA graph and replayed.
//
// Not for concurrent use; one backend per thread (each holds its own copy of the weights).
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <compare>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "slotdiff/backends/reference/config.hpp"
#include "slotdiff/backends/reference/tensors.hpp"
#include "slotdiff/concepts/denoiser_backend.hpp"
#include "slotdiff/cuda/kernels.cuh"
#include "slotdiff/cuda/options.hpp"
#include "slotdiff/cuda/plan.hpp"
#include "slotdiff/io/safetensors.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff::cuda {

/// Visible CUDA devices (0 when there is no driver or no device; never throws).
inline int device_count() noexcept {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}

namespace detail {

inline void check(cudaError_t e, const char* what) {
  // "CUDA CALL failed: REASON": tests/cuda/test_cuda_weights.cpp checks the start.
  if (e != cudaSuccess) throw cuda_error(std::string("CUDA ") + what + " failed: " + cudaGetErrorString(e));
}
inline void check(cublasStatus_t e, const char* what) {
  if (e != CUBLAS_STATUS_SUCCESS) throw cuda_error(std::string("cuBLAS ") + what + " failed: " + cublasGetStatusString(e));
}

/// `count` T of device memory, or of page-locked host memory (Pinned: what a captured copy reads and
/// writes), released with the object; grows, never shrinks.
template <class T, bool Pinned = false>
class cuda_memory {
public:
  cuda_memory() = default;
  cuda_memory(const cuda_memory&) = delete;
  cuda_memory& operator=(const cuda_memory&) = delete;
  ~cuda_memory() { release(); }

  /// Returns true when it had to reallocate (the old contents are gone).
  bool reserve(std::size_t count) {
    if (count <= n_) return false;
    release();
    void* p = nullptr;
    const std::size_t bytes = std::max<std::size_t>(count, 1) * sizeof(T);
    check(Pinned ? cudaMallocHost(&p, bytes) : cudaMalloc(&p, bytes), Pinned ? "cudaMallocHost" : "cudaMalloc");
    p_ = static_cast<T*>(p);
    n_ = count;
    return true;
  }
  void upload(std::span<const T> host)
    requires(!Pinned)
  {
    reserve(host.size());
    check(cudaMemcpy(p_, host.data(), host.size_bytes(), cudaMemcpyHostToDevice), "cudaMemcpy (weights)");
  }
  T* get() const noexcept { return p_; }
  std::size_t size() const noexcept { return n_; }

private:
  void release() noexcept {
    if (Pinned) cudaFreeHost(p_);
    else cudaFree(p_);
    p_ = nullptr;
    n_ = 0;
  }
  T* p_ = nullptr;
  std::size_t n_ = 0;
};
template <class T>
using device_array = cuda_memory<T>;
using pinned_bytes = cuda_memory<unsigned char, true>;

inline std::vector<__nv_bfloat16> to_bf16(std::span<const float> v) {
  std::vector<__nv_bfloat16> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = __float2bfloat16(v[i]);  // round to nearest even
  return out;
}

}  // namespace detail

// The stream of gpu_reference_options is declared without CUDA headers (options.hpp).
static_assert(std::is_same_v<cudaStream_t, CUstream_st*>);

/// Satisfies full_distribution_backend and top_k_backend. Move-only.
class gpu_reference_backend {
public:
  using layout_type = side_layout;

  /// Reads and checks the whole file (reference_config, every tensor's shape, finite values) and the
  /// device's limits before anything is allocated on the device.
  /// Throws: safetensors_error / reference_model_error naming the file and the tensor or key;
  /// model_error for a model this pass does not support (head dim other than 64, d_model or mlp not
  /// a multiple of 8); options_error for max_sequence_length or logits_slab out of range;
  /// backend_error for a vocabulary too big for one block's shared memory; cuda_error.
  explicit gpu_reference_backend(const std::filesystem::path& path, gpu_reference_options opt = {})
      : gpu_reference_backend(path, nullptr, opt) {}

  /// As above, and refuses weights trained with another vocabulary (reference_model_error naming both
  /// sizes, both fingerprints or both sets of special ids: reference_config::check_vocabulary).
  static gpu_reference_backend load(const std::filesystem::path& path, const tokenizer& vocab, gpu_reference_options opt = {}) {
    return gpu_reference_backend(path, &vocab, opt);
  }

  std::size_t vocabulary_size() const noexcept { return s_->config.vocabulary_size; }
  token_id none_id() const noexcept { return s_->config.none_id; }
  const reference_config& config() const noexcept { return s_->config; }
  cudaStream_t stream() const noexcept { return s_->stream; }
  /// Graphs captured so far (one per bucket of sizes, k and number of logits slabs).
  std::size_t graphs() const noexcept { return s_->graphs.size(); }

  /// See top_k_backend: the k best (id, log-probability) per slot, best first, ties to the smaller id.
  /// Throws: input_error (before any kernel) for k outside 1..V, buffers too small, or a bad batch
  /// (cuda/plan.hpp); cuda_error.
  std::size_t top_k(const ragged_batch& batch, std::size_t k, std::span<token_id> ids, std::span<float> logp) {
    const std::size_t V = vocabulary_size();
    if (k == 0 || k > V)
      throw input_error("CUDA reference top_k: k must lie in 1.." + std::to_string(V) + ", got k = " + std::to_string(k));
    const reference_plan plan = make_reference_plan(batch, V, s_->opt.max_sequence_length, s_->config.root_id);
    check_out("top_k ids", ids.size(), plan.slots * k);
    check_out("top_k logp", logp.size(), plan.slots * k);
    if (plan.slots == 0) return 0;
    s_->run(plan, k, nullptr);
    const unsigned char* out = s_->pinned_out.get();
    std::memcpy(ids.data(), out, plan.slots * k * sizeof(token_id));
    std::memcpy(logp.data(), out + plan.slot_bucket * k * sizeof(token_id), plan.slots * k * sizeof(float));
    return plan.slots;
  }

  /// See full_distribution_backend: (slots x V) log-probabilities, never_insert ids -inf.
  std::size_t log_probs(const ragged_batch& batch, std::span<float> out) {
    const std::size_t V = vocabulary_size();
    const reference_plan plan = make_reference_plan(batch, V, s_->opt.max_sequence_length, s_->config.root_id);
    check_out("log_probs", out.size(), plan.slots * V);
    if (plan.slots == 0) return 0;
    s_->run(plan, 0, out.data());
    return plan.slots;
  }

private:
  gpu_reference_backend(const std::filesystem::path& path, const tokenizer* vocab, gpu_reference_options opt)
      : s_(std::make_unique<state>()) {
    const auto f = safetensors_file::open(path);
    s_->source = path.string();
    s_->config = reference_config::from_metadata(f.metadata(), s_->source);
    if (vocab) s_->config.check_vocabulary(*vocab, s_->source);
    s_->opt = opt;
    s_->init(f);
  }

  static void check_out(const char* what, std::size_t have, std::size_t need) {
    if (have < need)
      throw input_error(std::string("CUDA reference ") + what + ": the output buffer holds " + std::to_string(have) +
                        " values, the batch needs " + std::to_string(need));
  }

  using bf16 = __nv_bfloat16;

  struct layer {
    detail::device_array<float> attn_norm, mlp_norm;
    detail::device_array<float> wqkv;  ///< fp32: the q/k/v product runs in TF32
    detail::device_array<bf16> wo, w1, w2;
  };

  struct graph_key {
    std::size_t rows, slots, tiles, k, slabs;
    auto operator<=>(const graph_key&) const = default;
  };
  struct graph {
    cudaGraphExec_t exec = nullptr;
  };

  struct state {
    reference_config config;
    gpu_reference_options opt;
    std::string source;
    bool own_stream = false;
    cudaStream_t stream = nullptr;
    cublasHandle_t blas = nullptr;
    cublasLtHandle_t lt = nullptr;
    std::vector<layer> layers;
    detail::device_array<float> embedding, final_norm, cos_t, sin_t;
    detail::device_array<bf16> embedding_bf16, heads;
    detail::device_array<unsigned char> never, blas_workspace;
    // Activations (sized by the largest buckets seen).
    detail::device_array<unsigned char> inputs, outputs;
    detail::device_array<float> x, h32, qkv, mlp, logits;
    detail::device_array<bf16> h, att, act, lr, u;
    detail::pinned_bytes pinned_in, pinned_out;
    std::map<graph_key, graph> graphs;
    // cuBLASLt descriptors and the chosen algorithm of the fused w1 + GELU product, per row count.
    struct gelu_plan {
      cublasLtMatmulDesc_t op = nullptr;
      cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
      cublasLtMatmulAlgo_t algo{};
      bool usable = false;
    };
    std::map<std::size_t, gelu_plan> gelu_plans;

    state() = default;
    state(const state&) = delete;
    state& operator=(const state&) = delete;
    ~state() {
      drop_graphs();
      for (auto& [rows, g] : gelu_plans) {
        if (g.a) cublasLtMatrixLayoutDestroy(g.a);
        if (g.b) cublasLtMatrixLayoutDestroy(g.b);
        if (g.d) cublasLtMatrixLayoutDestroy(g.d);
        if (g.op) cublasLtMatmulDescDestroy(g.op);
      }
      if (lt) cublasLtDestroy(lt);
      if (blas) cublasDestroy(blas);
      if (own_stream && stream) cudaStreamDestroy(stream);
    }

    void drop_graphs() noexcept {
      for (auto& [key, g] : graphs) cudaGraphExecDestroy(g.exec);
      graphs.clear();
    }

    std::size_t d() const noexcept { return config.d_model; }

    /// Everything the constructor does after reading the metadata, in order: refuse what this pass
    /// cannot run, read and check every tensor on the host (nothing reaches the device from a bad
    /// file), check the device, upload, then create the stream and the cuBLAS handles.
    void init(const safetensors_file& f) {
      check_supported();
      const auto host = read_host_tensors(f);
      check_shared_memory();
      upload_weights(host);
      upload_tables();
      create_stream_and_blas();
    }

    /// Throws: model_error for a shape the kernels do not handle, options_error for bad knobs.
    void check_supported() const {
      const reference_config& c = config;
      if (c.head_dim() != 64)
        throw model_error("CUDA reference denoiser: " + source + ": needs a head dim of 64, got d_model " + std::to_string(c.d_model) +
                          " / heads " + std::to_string(c.heads) + " = " + std::to_string(c.head_dim()));
      if (c.d_model % 8 != 0 || c.mlp % 8 != 0)
        throw model_error("CUDA reference denoiser: " + source + ": needs d_model and mlp multiples of 8, got " +
                          std::to_string(c.d_model) + " and " + std::to_string(c.mlp));
      if (opt.max_sequence_length == 0 || opt.max_sequence_length > (std::size_t{1} << 20))
        throw options_error("CUDA reference denoiser: max_sequence_length must lie in 1..1048576, got " +
                            std::to_string(opt.max_sequence_length));
      if (opt.logits_slab == 0) throw options_error("CUDA reference denoiser: logits_slab must be at least 1, got 0");
    }

    using host_tensors = std::vector<std::pair<reference_tensor_spec, std::vector<float>>>;

    /// Every tensor of the file as fp32, checked (read_reference_tensors), in the specs' order.
    host_tensors read_host_tensors(const safetensors_file& f) const {
      host_tensors host;
      read_reference_tensors(f, config, source, [&](const reference_tensor_spec& s, std::span<const float> v) {
        host.emplace_back(s, std::vector<float>(v.begin(), v.end()));
      });
      return host;
    }

    /// The top-k kernel holds one slot's V logits in shared memory.
    /// Throws: backend_error when the device offers less; cuda_error.
    void check_shared_memory() const {
      const std::size_t V = config.vocabulary_size;
      int device = 0;
      detail::check(cudaGetDevice(&device), "cudaGetDevice");
      int smem = 0;
      detail::check(cudaDeviceGetAttribute(&smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, device), "cudaDeviceGetAttribute");
      const std::size_t row_bytes = V * sizeof(float) + 4096;  // + the kernel's static arrays (3.3 KB)
      if (row_bytes > static_cast<std::size_t>(smem))
        throw backend_error("CUDA reference denoiser: a vocabulary of " + std::to_string(V) + " ids needs " + std::to_string(row_bytes) +
                            " bytes of shared memory per block, got a device limit of " + std::to_string(smem));
      detail::check(cudaFuncSetAttribute(kernels::slot_softmax_top_k<threads>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         static_cast<int>(V * sizeof(float))),
                    "cudaFuncSetAttribute");
    }

    /// The weights in the device's layouts: q/k/v stacked in fp32 (TF32 product), the two heads
    /// stacked, the other matrices in bf16; the embedding in both (fp32 rows, bf16 for the logits).
    void upload_weights(const host_tensors& host) {
      layers = std::vector<layer>(config.layers);
      std::vector<float> stacked;  // wq, wk, wv (or head_left, head_right) until the last arrives
      for (const auto& [s, v] : host) {
        const std::span<const float> data(v);
        if (s.name == "tok_embeddings.weight") {
          embedding.upload(data);
          embedding_bf16.upload(std::span<const bf16>(detail::to_bf16(data)));
        } else if (s.name == "final_norm.weight") {
          final_norm.upload(data);
        } else if (s.name == "head_left.weight") {
          stacked = v;  // held until head_right arrives (the specs list them in that order)
        } else if (s.name == "head_right.weight") {
          stacked.insert(stacked.end(), v.begin(), v.end());
          heads.upload(std::span<const bf16>(detail::to_bf16(stacked)));
          stacked.clear();
        } else {
          upload_layer_tensor(s.name, v, stacked);
        }
      }
    }

    /// One "layers.<i>.<part>.weight" tensor (the specs list nothing else under layers.).
    void upload_layer_tensor(const std::string& name, const std::vector<float>& v, std::vector<float>& stacked) {
      const std::size_t dot = name.find('.', 7);
      layer& l = layers[std::stoul(name.substr(7, dot - 7))];
      const std::string part = name.substr(dot + 1);
      const std::span<const float> data(v);
      if (part == "attn_norm.weight") l.attn_norm.upload(data);
      else if (part == "mlp_norm.weight") l.mlp_norm.upload(data);
      else if (part == "wq.weight" || part == "wk.weight") stacked.insert(stacked.end(), v.begin(), v.end());
      else if (part == "wv.weight") {
        stacked.insert(stacked.end(), v.begin(), v.end());
        l.wqkv.upload(std::span<const float>(stacked));
        stacked.clear();
      } else if (part == "wo.weight") l.wo.upload(std::span<const bf16>(detail::to_bf16(data)));
      else if (part == "w1.weight") l.w1.upload(std::span<const bf16>(detail::to_bf16(data)));
      else l.w2.upload(std::span<const bf16>(detail::to_bf16(data)));
    }

    /// The never_insert mask and the RoPE tables: cos/sin of position p times base^(-2j/hd), in
    /// double then rounded (as the CPU pass and the trainer), for max_sequence_length positions.
    void upload_tables() {
      const reference_config& c = config;
      std::vector<unsigned char> mask(c.vocabulary_size, 0);
      for (token_id t : c.never_insert) mask[static_cast<std::size_t>(t)] = 1;
      never.upload(std::span<const unsigned char>(mask));
      const std::size_t half = c.head_dim() / 2, P = opt.max_sequence_length;
      std::vector<float> cs(P * half), sn(P * half);
      for (std::size_t p = 0; p < P; ++p)
        for (std::size_t j = 0; j < half; ++j) {
          const double a = static_cast<double>(p) * std::pow(c.rope_base, -static_cast<double>(2 * j) / static_cast<double>(c.head_dim()));
          cs[p * half + j] = static_cast<float>(std::cos(a));
          sn[p * half + j] = static_cast<float>(std::sin(a));
        }
      cos_t.upload(std::span<const float>(cs));
      sin_t.upload(std::span<const float>(sn));
    }

    /// The caller's stream or one of our own, cuBLAS and cuBLASLt on it with a workspace of our own
    /// (cuBLAS then allocates nothing while a graph is being captured).
    void create_stream_and_blas() {
      if (opt.stream) {
        stream = opt.stream;
      } else {
        detail::check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
        own_stream = true;
      }
      detail::check(cublasCreate(&blas), "cublasCreate");
      detail::check(cublasLtCreate(&lt), "cublasLtCreate");
      detail::check(cublasSetStream(blas, stream), "cublasSetStream");
      blas_workspace.reserve(std::size_t{32} << 20);
      detail::check(cublasSetWorkspace(blas, blas_workspace.get(), blas_workspace.size()), "cublasSetWorkspace");
      // The uploads ran on the legacy stream, which a non-blocking stream does not wait for.
      detail::check(cudaDeviceSynchronize(), "cudaDeviceSynchronize (weights)");
    }

    static constexpr int threads = 256;  // slot_softmax_top_k block size

    // Byte layout of the packed inputs for a bucket: counts | ids | slot rows | tiles.
    struct input_layout {
      std::size_t ids, slot_rows, tiles, bytes;
    };
    static input_layout layout_of(std::size_t rows, std::size_t slots, std::size_t tiles) noexcept {
      input_layout l{};
      l.ids = sizeof(kernels::batch_counts);
      l.slot_rows = l.ids + rows * 4;
      l.tiles = (l.slot_rows + slots * 4 + 15) / 16 * 16;
      l.bytes = l.tiles + tiles * sizeof(attention_tile_desc);
      return l;
    }

    /// Sizes every buffer for the plan's buckets; a reallocation invalidates the captured graphs.
    void reserve(const reference_plan& p, std::size_t k) {
      const reference_config& c = config;
      const std::size_t R = p.row_bucket, S = p.slot_bucket, slab = std::min(S, opt.logits_slab);
      bool moved = false;
      moved |= inputs.reserve(layout_of(R, S, p.tile_bucket).bytes);
      moved |= pinned_in.reserve(layout_of(R, S, p.tile_bucket).bytes);
      moved |= outputs.reserve(S * std::max<std::size_t>(k, 1) * 8);
      moved |= pinned_out.reserve(S * std::max<std::size_t>(k, 1) * 8);
      moved |= x.reserve(R * c.d_model);
      moved |= h.reserve(R * c.d_model);
      moved |= h32.reserve(R * c.d_model);
      moved |= qkv.reserve(R * 3 * c.d_model);
      moved |= att.reserve(R * c.d_model);
      // The fp32 MLP pre-activations exist only on the unfused path (no cuBLASLt algorithm, or off).
      if (!opt.fused_gelu || !plan_gelu(R, c.mlp, c.d_model).usable) moved |= mlp.reserve(R * c.mlp);
      moved |= act.reserve(R * c.mlp);
      moved |= lr.reserve(R * 2 * c.d_model);
      moved |= u.reserve(S * c.d_model);
      moved |= logits.reserve(slab * c.vocabulary_size);
      if (moved) {
        drop_graphs();
        // Rows that no kernel writes for a smaller batch must still hold finite values.
        detail::check(cudaMemsetAsync(att.get(), 0, att.size() * sizeof(bf16), stream), "cudaMemsetAsync");
      }
    }

    /// y[N, O] (+)= x[N, K] w[O, K]^T, row-major, fp32 accumulation: bf16 inputs, or fp32 inputs
    /// multiplied in TF32 (`in_type` CUDA_R_32F); y is fp32 or bf16.
    void gemm(const void* xin, const void* w, void* y, cudaDataType y_type, std::size_t N, std::size_t O, std::size_t K, float beta,
              cudaDataType in_type = CUDA_R_16BF) {
      const float alpha = 1.0f;
      const cublasComputeType_t compute = in_type == CUDA_R_32F ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
      // Row-major Y = X W^T is column-major Y^T = W X^T: (O x K, transposed from K x O) times (K x N).
      detail::check(cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(O), static_cast<int>(N), static_cast<int>(K), &alpha,
                                 w, in_type, static_cast<int>(K), xin, in_type, static_cast<int>(K), &beta, y, y_type,
                                 static_cast<int>(O), compute, CUBLAS_GEMM_DEFAULT),
                    "cublasGemmEx");
    }

    /// act[N, mlp] = bf16(gelu(h[N, d] w1[mlp, d]^T)) in one cuBLASLt product (GELU epilogue). Returns
    /// false, enqueuing nothing, when cuBLASLt offers no algorithm for the shape.
    bool gemm_gelu(const bf16* xin, const bf16* w, bf16* y, std::size_t N, std::size_t O, std::size_t K) {
      const gelu_plan& g = plan_gelu(N, O, K);
      if (!g.usable) return false;
      const float alpha = 1.0f, beta = 0.0f;
      detail::check(cublasLtMatmul(lt, g.op, &alpha, w, g.a, xin, g.b, &beta, y, g.d, y, g.d, &g.algo, blas_workspace.get(),
                                   blas_workspace.size(), stream),
                    "cublasLtMatmul (w1 + GELU)");
      return true;
    }

    /// The descriptors and algorithm of the fused product for N rows, chosen once (host calls only;
    /// reserve() asks before any capture begins, so no heuristic query happens inside one).
    const gelu_plan& plan_gelu(std::size_t N, std::size_t O, std::size_t K) {
      auto [it, fresh] = gelu_plans.try_emplace(N);
      gelu_plan& g = it->second;
      if (fresh) {
        // Column-major, as in gemm(): D^T (O x N) = op_T(W: K x O) * X^T (K x N).
        const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
        const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_GELU;
        detail::check(cublasLtMatmulDescCreate(&g.op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
        detail::check(cublasLtMatmulDescSetAttribute(g.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta), "cublasLtMatmulDescSetAttribute");
        detail::check(cublasLtMatmulDescSetAttribute(g.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb), "cublasLtMatmulDescSetAttribute");
        detail::check(cublasLtMatmulDescSetAttribute(g.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue),
                      "cublasLtMatmulDescSetAttribute");
        detail::check(cublasLtMatrixLayoutCreate(&g.a, CUDA_R_16BF, K, O, static_cast<std::int64_t>(K)), "cublasLtMatrixLayoutCreate");
        detail::check(cublasLtMatrixLayoutCreate(&g.b, CUDA_R_16BF, K, N, static_cast<std::int64_t>(K)), "cublasLtMatrixLayoutCreate");
        detail::check(cublasLtMatrixLayoutCreate(&g.d, CUDA_R_16BF, O, N, static_cast<std::int64_t>(O)), "cublasLtMatrixLayoutCreate");
        cublasLtMatmulPreference_t pref = nullptr;
        detail::check(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
        const std::size_t bytes = blas_workspace.size();
        cublasLtMatmulHeuristicResult_t result{};
        int found = 0;
        cublasStatus_t st = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &bytes, sizeof bytes);
        if (st == CUBLAS_STATUS_SUCCESS) st = cublasLtMatmulAlgoGetHeuristic(lt, g.op, g.a, g.b, g.d, g.d, pref, 1, &result, &found);
        cublasLtMatmulPreferenceDestroy(pref);
        g.usable = st == CUBLAS_STATUS_SUCCESS && found > 0 && result.state == CUBLAS_STATUS_SUCCESS;
        if (g.usable) g.algo = result.algo;
      }
      return g;
    }

    /// What every kernel of one forward pass reads: the packed inputs on the device, the buckets'
    /// sizes and the per-pass constants.
    struct pass_inputs {
      const kernels::batch_counts* counts;
      const std::int32_t* ids;
      const std::int32_t* slot_rows;
      const attention_tile_desc* tiles;
      std::size_t R, S, tile_bucket;
      int rows_grid;  // rows / 8: 8 warps of 256 threads, one row each
      bool small;     // our own products with the norms folded in (small_batch_kernels)
      float eps, scale;
    };

    pass_inputs bind(const reference_plan& p) const {
      const std::size_t R = p.row_bucket, S = p.slot_bucket;
      const input_layout in = layout_of(R, S, p.tile_bucket);
      const unsigned char* dev = inputs.get();
      return {reinterpret_cast<const kernels::batch_counts*>(dev),
              reinterpret_cast<const std::int32_t*>(dev + in.ids),
              reinterpret_cast<const std::int32_t*>(dev + in.slot_rows),
              reinterpret_cast<const attention_tile_desc*>(dev + in.tiles),
              R,
              S,
              p.tile_bucket,
              static_cast<int>((R + 7) / 8),
              opt.small_batch_kernels && R <= static_cast<std::size_t>(kernels::small_rows_max),
              config.norm_eps,
              1.0f / std::sqrt(static_cast<float>(config.head_dim()))};
    }

    static unsigned col_blocks(std::size_t n) noexcept { return static_cast<unsigned>((n + 31) / 32); }
    static unsigned k_splits(std::size_t k) noexcept { return static_cast<unsigned>((k + 255) / 256); }  // residual products split K in 256s

    /// Everything from the upload to the download, enqueued on the stream. k == 0: log-probabilities
    /// into `full` (slots x V, host memory; not capturable) instead of top-k.
    void enqueue(const reference_plan& p, std::size_t k, float* full) {
      const pass_inputs in = bind(p);
      const std::size_t d = config.d_model;
      detail::check(cudaMemcpyAsync(inputs.get(), pinned_in.get(), layout_of(in.R, in.S, in.tile_bucket).bytes, cudaMemcpyHostToDevice, stream),
                    "cudaMemcpyAsync (inputs)");
      kernels::rmsnorm_rows<true><<<in.rows_grid, 256, 0, stream>>>(in.counts, in.ids, embedding.get(), x.get(), layers[0].attn_norm.get(),
                                                                    h32.get(), static_cast<int>(in.R), static_cast<int>(d), in.eps);
      for (std::size_t i = 0; i < layers.size(); ++i) enqueue_layer(in, layers[i], i == 0);
      enqueue_slot_queries(in);
      enqueue_slot_outputs(in, p.slots, k, full);
    }

    /// One encoder block on x: attention, then the MLP, each with its residual. Small buckets take
    /// our own products with the norms folded in (cuBLAS cannot fill the GPU there and every kernel
    /// is a node of latency); the first block's attention norm ran with the embedding lookup.
    void enqueue_layer(const pass_inputs& in, const layer& l, bool first) {
      using kernels::small_epilogue;
      const reference_config& c = config;
      const std::size_t R = in.R, d = c.d_model;
      const int Ri = static_cast<int>(R), di = static_cast<int>(d), mlpi = static_cast<int>(c.mlp);
      if (in.small) {
        kernels::small_product<true, small_epilogue::store, float, float, float><<<dim3(col_blocks(3 * d), 1), 256, 0, stream>>>(
            in.counts, x.get(), l.attn_norm.get(), in.eps, l.wqkv.get(), qkv.get(), Ri, 3 * di, di, di);
      } else {
        if (!first)
          kernels::rmsnorm_rows<false><<<in.rows_grid, 256, 0, stream>>>(in.counts, nullptr, nullptr, x.get(), l.attn_norm.get(), h32.get(),
                                                                         Ri, di, in.eps);
        gemm(h32.get(), l.wqkv.get(), qkv.get(), CUDA_R_32F, R, 3 * d, d, 0.0f, CUDA_R_32F);  // TF32
      }
      const dim3 attention_grid(static_cast<unsigned>(in.tile_bucket), static_cast<unsigned>(c.heads));
      if (opt.mma_attention)
        kernels::rope_attention_mma<64><<<attention_grid, 128, 0, stream>>>(in.counts, in.tiles, qkv.get(), cos_t.get(), sin_t.get(),
                                                                            att.get(), di, in.scale);
      else
        kernels::rope_attention<64><<<attention_grid, 128, 0, stream>>>(in.counts, in.tiles, qkv.get(), cos_t.get(), sin_t.get(), att.get(),
                                                                        di, in.scale);
      if (in.small) {
        kernels::small_product<false, small_epilogue::accumulate, bf16, bf16, float><<<dim3(col_blocks(d), k_splits(d)), 256, 0, stream>>>(
            in.counts, att.get(), nullptr, in.eps, l.wo.get(), x.get(), Ri, di, di, 256);
        kernels::small_product<true, small_epilogue::gelu, float, bf16, bf16><<<dim3(col_blocks(c.mlp), 1), 256, 0, stream>>>(
            in.counts, x.get(), l.mlp_norm.get(), in.eps, l.w1.get(), act.get(), Ri, mlpi, di, di);
        kernels::small_product<false, small_epilogue::accumulate, bf16, bf16, float><<<dim3(col_blocks(d), k_splits(c.mlp)), 256, 0, stream>>>(
            in.counts, act.get(), nullptr, in.eps, l.w2.get(), x.get(), Ri, di, mlpi, 256);
        return;
      }
      gemm(att.get(), l.wo.get(), x.get(), CUDA_R_32F, R, d, d, 1.0f);
      kernels::rmsnorm_rows<false><<<in.rows_grid, 256, 0, stream>>>(in.counts, nullptr, nullptr, x.get(), l.mlp_norm.get(), h.get(), Ri, di,
                                                                     in.eps);
      if (!opt.fused_gelu || !gemm_gelu(h.get(), l.w1.get(), act.get(), R, c.mlp, d)) {
        gemm(h.get(), l.w1.get(), mlp.get(), CUDA_R_32F, R, c.mlp, d, 0.0f);
        const std::size_t n = R * c.mlp;
        kernels::gelu_to_bf16<<<static_cast<unsigned>(std::min<std::size_t>((n + 255) / 256, 4096)), 256, 0, stream>>>(mlp.get(), act.get(), n);
      }
      gemm(act.get(), l.w2.get(), x.get(), CUDA_R_32F, R, d, c.mlp, 1.0f);
    }

    /// Final norm, both slot heads (row r of lr: [left query, right query]), then each slot's query
    /// gathered into u (slot order of side_layout).
    void enqueue_slot_queries(const pass_inputs& in) {
      using kernels::small_epilogue;
      const std::size_t d = config.d_model;
      const int Ri = static_cast<int>(in.R), di = static_cast<int>(d);
      if (in.small) {
        kernels::small_product<true, small_epilogue::store, float, bf16, bf16><<<dim3(col_blocks(2 * d), 1), 256, 0, stream>>>(
            in.counts, x.get(), final_norm.get(), in.eps, heads.get(), lr.get(), Ri, 2 * di, di, di);
      } else {
        kernels::rmsnorm_rows<false><<<in.rows_grid, 256, 0, stream>>>(in.counts, nullptr, nullptr, x.get(), final_norm.get(), h.get(), Ri, di,
                                                                       in.eps);
        gemm(h.get(), heads.get(), lr.get(), CUDA_R_16BF, in.R, 2 * d, d, 0.0f);
      }
      kernels::gather_slot_queries<<<static_cast<unsigned>((in.S + 7) / 8), 256, 0, stream>>>(in.counts, in.slot_rows, lr.get(), u.get(),
                                                                                              static_cast<int>(in.S), di);
    }

    /// Slot logits slab by slab (u E^T), then per slot either its top k into the pinned output
    /// buffer or (full != nullptr) its log-probabilities copied to the host.
    void enqueue_slot_outputs(const pass_inputs& in, std::size_t slots, std::size_t k, float* full) {
      const std::size_t S = in.S, d = config.d_model, V = config.vocabulary_size;
      const std::size_t slab = std::min(S, opt.logits_slab);
      auto* out_ids = reinterpret_cast<std::int32_t*>(outputs.get());
      auto* out_logp = reinterpret_cast<float*>(outputs.get() + S * std::max<std::size_t>(k, 1) * sizeof(std::int32_t));
      // top-k: the slabs that hold real slots (part of the graph's key: a graph replays only for
      // batches that need as many), not the whole bucket, whose last slabs would be products of zeros.
      const std::size_t last = full ? slots : std::min(S, (slots + slab - 1) / slab * slab);
      for (std::size_t s0 = 0; s0 < last; s0 += slab) {
        const std::size_t n = std::min(slab, last - s0);
        gemm(u.get() + s0 * d, embedding_bf16.get(), logits.get(), CUDA_R_32F, n, V, d, 0.0f);
        if (!full && k <= static_cast<std::size_t>(kernels::sweep_top_k_max))  // one read of each logit
          kernels::slot_top_k_sweep<threads><<<static_cast<unsigned>(n), threads, 0, stream>>>(
              in.counts, static_cast<int>(s0), logits.get(), static_cast<int>(V), never.get(), static_cast<int>(k), out_ids, out_logp);
        else
          kernels::slot_softmax_top_k<threads><<<static_cast<unsigned>(n), threads, V * sizeof(float), stream>>>(
              in.counts, static_cast<int>(s0), logits.get(), static_cast<int>(V), never.get(), static_cast<int>(k), out_ids, out_logp);
        if (full)
          detail::check(cudaMemcpyAsync(full + s0 * V, logits.get(), n * V * sizeof(float), cudaMemcpyDeviceToHost, stream),
                        "cudaMemcpyAsync (log-probabilities)");
      }
      detail::check(cudaGetLastError(), "kernel launch");
      if (!full)
        detail::check(cudaMemcpyAsync(pinned_out.get(), outputs.get(), S * k * 8, cudaMemcpyDeviceToHost, stream),
                      "cudaMemcpyAsync (top-k)");
    }

    void run(const reference_plan& p, std::size_t k, float* full) {
      reserve(p, k);  // also chooses the fused product's algorithm: nothing is chosen inside a capture
      // Pack the inputs into the page-locked staging buffer (the captured copy reads it from there).
      const input_layout in = layout_of(p.row_bucket, p.slot_bucket, p.tile_bucket);
      unsigned char* h_in = pinned_in.get();
      const kernels::batch_counts counts{static_cast<std::int32_t>(p.rows), static_cast<std::int32_t>(p.slots),
                                         static_cast<std::int32_t>(p.tiles.size()), 0};
      std::memcpy(h_in, &counts, sizeof counts);
      std::memcpy(h_in + in.ids, p.ids.data(), p.ids.size() * 4);
      std::memcpy(h_in + in.slot_rows, p.slot_rows.data(), p.slot_rows.size() * 4);
      std::memcpy(h_in + in.tiles, p.tiles.data(), p.tiles.size() * sizeof(attention_tile_desc));
      if (full || !opt.graphs) {
        enqueue(p, k, full);
      } else {
        const std::size_t slab = std::min(p.slot_bucket, opt.logits_slab);
        const graph_key key{p.row_bucket, p.slot_bucket, p.tile_bucket, k, (p.slots + slab - 1) / slab};
        auto it = graphs.find(key);
        if (it == graphs.end()) {
          cudaGraph_t g = nullptr;
          detail::check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
          try {
            enqueue(p, k, nullptr);
          } catch (...) {
            cudaStreamEndCapture(stream, &g);
            if (g) cudaGraphDestroy(g);
            throw;
          }
          const cudaError_t ended = cudaStreamEndCapture(stream, &g);
          if (ended != cudaSuccess && g) cudaGraphDestroy(g);
          detail::check(ended, "cudaStreamEndCapture");
          graph made;
          const cudaError_t e = cudaGraphInstantiate(&made.exec, g, 0);
          cudaGraphDestroy(g);
          detail::check(e, "cudaGraphInstantiate");
          it = graphs.emplace(key, made).first;
        }
        detail::check(cudaGraphLaunch(it->second.exec, stream), "cudaGraphLaunch");
      }
      detail::check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    }
  };

  std::unique_ptr<state> s_;
};

static_assert(full_distribution_backend<gpu_reference_backend> && top_k_backend<gpu_reference_backend>);

/// Deprecated: the CPU backend's name in another namespace; kept for one release.
using reference_backend [[deprecated("use slotdiff::cuda::gpu_reference_backend")]] = gpu_reference_backend;

}  // namespace slotdiff::cuda
