// bench_cuda: the CUDA reference denoiser, one forward pass to the top 16 (id, log-probability) per
// slot on the host (upload, all kernels, download), for two model configurations:
//   model 0, "shipped": the file SLOTDIFF_REFERENCE_WEIGHTS names, or models/reference.safetensors
//            (its d_model, layers, heads, MLP and vocabulary are read from the file);
//   model 1, "5.4M": the issue-16 continuity configuration (d 256, 4 layers, 4 heads, MLP 1024,
//            vocabulary 8192), from SLOTDIFF_BENCH_SMALL_WEIGHTS; skipped when that is unset and the
//            shipped file already has this configuration (then model 0 is it).
// Shapes (batch x tokens per sequence; ragged: sequence i has lo + (37 i) mod (hi - lo + 1) tokens):
// 1 x 32, 8 x 64, 64 x 64, 512 ragged 32-64, 64 ragged 256-1024.
// The peer is tools/peers/reference_torch_cuda.py: the same architecture, weights, shapes and token
// ids in PyTorch 2 on the same GPU (eager, torch.compile, torch.compile mode="reduce-overhead");
// scripts/device-cuda runs both in one go (docs/cuda.md, "On a GPU: one call").
//
// Knobs measured one at a time against the defaults: graphs off, the GELU product unfused, logits
// slabs of 512, 2048 and 4096 slots, the plain fp32 attention kernel instead of the tensor-core one, and
// (at batch 1) norm kernels + cuBLAS instead of the small-batch products.
// Counters: tokens/s and slots/s; TFLOP/s of the matrix products (real tokens only, padding to the
// shape bucket not counted) and, on an H100/H200, the fraction of the 989 TFLOP/s dense bf16 peak.
// Without a CUDA device every benchmark reports an error and the program exits 0.
//
//     bench_cuda --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "slotdiff/backends/reference/config.hpp"
#include "slotdiff/cuda/handle.hpp"
#include "slotdiff/io/safetensors.hpp"

using namespace slotdiff;

namespace {

constexpr std::size_t top = 16;

std::string weights_path(int which) {
  if (which == 1) {
    const char* env = std::getenv("SLOTDIFF_BENCH_SMALL_WEIGHTS");
    return env && *env ? env : "";
  }
  const char* env = std::getenv("SLOTDIFF_REFERENCE_WEIGHTS");
  return env && *env ? env : SLOTDIFF_SOURCE_DIR "/models/reference.safetensors";
}

/// The configuration stored in a weights file (metadata only; the tensors are checked by the model).
reference_config config_of(const std::string& path) {
  return reference_config::from_metadata(safetensors_file::open(path).metadata(), path);
}

bool is_small(const reference_config& c) {
  return c.d_model == 256 && c.layers == 4 && c.heads == 4 && c.mlp == 1024 && c.vocabulary_size == 8192;
}

cuda::reference_handle& model(const std::string& path, const cuda::gpu_reference_options& o) {
  static std::map<std::tuple<std::string, bool, std::size_t, bool, bool, bool>, std::unique_ptr<cuda::reference_handle>> models;
  auto& m = models[{path, o.graphs, o.logits_slab, o.fused_gelu, o.mma_attention, o.small_batch_kernels}];
  if (!m) m = std::make_unique<cuda::reference_handle>(path, o);
  return *m;
}

// The peer's inputs exactly: sequence i has lo + (37 i) mod (hi - lo + 1) tokens; token j of it is
// 4 + (131 i + 31 j) mod (V - 4).
ragged_buffer inputs(std::size_t batch, std::size_t lo, std::size_t hi, std::size_t V) {
  ragged_buffer b;
  for (std::size_t i = 0; i < batch; ++i) {
    const std::size_t len = lo + (37 * i) % (hi - lo + 1);
    auto s = b.append(len);
    for (std::size_t j = 0; j < len; ++j) s[j] = static_cast<token_id>(4 + (131 * i + 31 * j) % (V - 4));
  }
  return b;
}

/// Multiply-adds x 2 of the forward pass's matrix products for this batch.
double forward_flops(const ragged_batch& x, std::size_t d, std::size_t layers, std::size_t mlp, std::size_t V) {
  double tokens = 0, attention = 0, slots = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double n = static_cast<double>(std::max<std::size_t>(x.length(i), 1));
    tokens += n;
    attention += 2.0 * 2.0 * n * n * static_cast<double>(d);  // q k^T and p v over all heads
    slots += static_cast<double>(side_layout::slot_count(x.length(i)));
  }
  const double dd = static_cast<double>(d);
  const double per_layer = 2.0 * tokens * (4.0 * dd * dd + 2.0 * dd * static_cast<double>(mlp)) + attention;
  return static_cast<double>(layers) * per_layer + 2.0 * tokens * 2.0 * dd * dd + 2.0 * slots * dd * static_cast<double>(V);
}

double peak_bf16_flops() {
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, 0) != cudaSuccess) return 0;
  const std::string name = p.name;
  // NVIDIA's dense bf16 tensor-core peak of the SXM parts (H100 SXM5 and H200 alike).
  if (name.find("H100") != std::string::npos || name.find("H200") != std::string::npos) return 989.4e12;
  return 0;
}

void BM_cuda_top_k(benchmark::State& st) {
  const int which = static_cast<int>(st.range(0));
  const std::size_t batch = static_cast<std::size_t>(st.range(1)), lo = static_cast<std::size_t>(st.range(2)),
                    hi = static_cast<std::size_t>(st.range(3));
  const cuda::gpu_reference_options opt{.logits_slab = static_cast<std::size_t>(st.range(5)),
                                 .graphs = st.range(4) != 0,
                                 .fused_gelu = st.range(6) != 0,
                                 .mma_attention = st.range(7) != 0,
                                 .small_batch_kernels = st.range(8) != 0};
  if (cuda::visible_devices() == 0) {
    st.SkipWithError("no CUDA device");
    for (auto _ : st) {
    }
    return;
  }
  const std::string path = weights_path(which);
  if (path.empty() || !std::filesystem::exists(path)) {
    st.SkipWithError(which == 1 ? "SLOTDIFF_BENCH_SMALL_WEIGHTS unset (the shipped model is the 5.4M one)" : "no weights file");
    for (auto _ : st) {
    }
    return;
  }
  const reference_config c = config_of(path);
  if (which == 1 && !is_small(c)) {
    st.SkipWithError("SLOTDIFF_BENCH_SMALL_WEIGHTS is not the 5.4M configuration");
    for (auto _ : st) {
    }
    return;
  }
  cuda::reference_handle& m = model(path, opt);
  const std::size_t V = m.vocabulary_size();
  const ragged_buffer in = inputs(batch, lo, hi, V);
  const ragged_batch x = in.view();
  std::size_t slots = 0;
  for (std::size_t i = 0; i < x.size(); ++i) slots += side_layout::slot_count(x.length(i));
  std::vector<token_id> ids(slots * top);
  std::vector<float> logp(slots * top);
  m.top_k(x, top, ids, logp);  // warm-up: buffers, cuBLAS heuristics, graph capture
  for (auto _ : st) {
    benchmark::DoNotOptimize(m.top_k(x, top, ids, logp));
    benchmark::ClobberMemory();
  }
  cudaDeviceProp p{};
  cudaGetDeviceProperties(&p, 0);
  st.SetLabel(std::string(p.name) + " d" + std::to_string(c.d_model) + " L" + std::to_string(c.layers) + " H" +
              std::to_string(c.heads) + " mlp" + std::to_string(c.mlp) + " V" + std::to_string(c.vocabulary_size));
  const double flops = forward_flops(x, c.d_model, c.layers, c.mlp, V);
  st.counters["tokens/s"] = benchmark::Counter(static_cast<double>(in.tokens.size()), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["slots/s"] = benchmark::Counter(static_cast<double>(slots), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["TFLOP/s"] = benchmark::Counter(flops * 1e-12, benchmark::Counter::kIsIterationInvariantRate);
  if (const double peak = peak_bf16_flops(); peak > 0)
    st.counters["roofline"] = benchmark::Counter(flops / peak, benchmark::Counter::kIsIterationInvariantRate);
}

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"model", "batch", "lo", "hi", "graphs", "slab", "fused_gelu", "mma", "small"});
  const std::vector<std::vector<std::int64_t>> shapes{{1, 32, 32}, {8, 64, 64}, {64, 64, 64}, {512, 32, 64}, {64, 256, 1024}};
  for (std::int64_t model : {0, 1})
    for (const auto& s : shapes) b->Args({model, s[0], s[1], s[2], 1, 1024, 1, 1, 1});  // the defaults
  // One knob at a time, on the shipped model.
  b->Args({0, 1, 32, 32, 0, 1024, 1, 1, 1});       // graphs off
  b->Args({0, 1, 32, 32, 1, 1024, 1, 1, 0});       // norm kernels + cuBLAS at batch 1
  b->Args({0, 1, 32, 32, 1, 1024, 1, 0, 1});       // plain attention at batch 1
  b->Args({0, 512, 32, 64, 0, 1024, 1, 1, 1});     // graphs off
  b->Args({0, 512, 32, 64, 1, 1024, 0, 1, 1});     // GELU unfused
  b->Args({0, 512, 32, 64, 1, 2048, 1, 1, 1});     // slab 2048
  b->Args({0, 512, 32, 64, 1, 4096, 1, 1, 1});     // slab 4096
  b->Args({0, 512, 32, 64, 1, 512, 1, 1, 1});      // slab 512
  b->Args({0, 512, 32, 64, 1, 1024, 1, 0, 1});     // plain attention
  b->Args({0, 64, 256, 1024, 1, 1024, 1, 0, 1});   // plain attention
  b->Args({0, 64, 256, 1024, 1, 4096, 1, 1, 1});   // slab 4096
}

}  // namespace

BENCHMARK(BM_cuda_top_k)->Apply(shapes)->UseRealTime()->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
