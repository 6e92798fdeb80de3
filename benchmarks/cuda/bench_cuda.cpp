// bench_cuda: the CUDA reference denoiser, one forward pass to the top 16 (id, log-probability) per
// slot on the host (upload, all kernels, download), at batch 1 x 32 tokens and at 512 sequences of
// 32..64 tokens (ragged). Each shape runs with CUDA graphs (the default) and launch by launch.
// The peer is tools/peers/reference_torch_cuda.py: the same architecture, weights and token ids in
// PyTorch 2 on the same GPU (eager, torch.compile, torch.compile mode="reduce-overhead");
// scripts/device-cuda runs both in one go (docs/benchmarks.md, "bench_cuda").
//
// Knobs measured one at a time against the defaults: graphs off, the GELU product unfused, logits
// slabs of 512 and 4096 slots. Counters: tokens/s and slots/s; TFLOP/s of the matrix products (real tokens only, padding to the
// shape bucket not counted) and, on an H100/H200, the fraction of the 989 TFLOP/s dense bf16 peak.
// Without a CUDA device every benchmark reports an error and the program exits 0.
//
//     bench_cuda --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <cstdlib>
#include <map>
#include <tuple>
#include <memory>
#include <string>
#include <vector>

#include "slotdiff/cuda/handle.hpp"

using namespace slotdiff;

namespace {

constexpr std::size_t top = 16;

std::string weights_path() {
  const char* env = std::getenv("SLOTDIFF_REFERENCE_WEIGHTS");
  return env && *env ? env : SLOTDIFF_SOURCE_DIR "/models/reference.safetensors";
}

cuda::reference_handle& model(const cuda::handle_options& o) {
  static std::map<std::tuple<bool, std::size_t, bool>, std::unique_ptr<cuda::reference_handle>> models;
  auto& m = models[{o.graphs, o.logits_slab, o.fused_gelu}];
  if (!m) m = std::make_unique<cuda::reference_handle>(weights_path(), o);
  return *m;
}

// The peer's inputs exactly: sequence i has length len(i); token j of it is 4 + (131 i + 31 j) mod (V - 4).
ragged_buffer inputs(std::size_t batch, bool ragged, std::size_t V) {
  ragged_buffer b;
  for (std::size_t i = 0; i < batch; ++i) {
    const std::size_t len = ragged ? 32 + (37 * i) % 33 : 32;  // 32..64
    auto s = b.append(len);
    for (std::size_t j = 0; j < len; ++j) s[j] = static_cast<token_id>(4 + (131 * i + 31 * j) % (V - 4));
  }
  return b;
}

/// Multiply-adds x 2 of the forward pass's matrix products for this batch (d 256, 4 layers, ...).
double forward_flops(const ragged_batch& x, std::size_t d, std::size_t layers, std::size_t mlp, std::size_t V) {
  double tokens = 0, attention = 0, slots = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double n = static_cast<double>(std::max<std::size_t>(x.length(i), 1));
    tokens += n;
    attention += 2.0 * 2.0 * n * n * static_cast<double>(d);  // q k^T and p v over all heads
    slots += static_cast<double>(side_slots::slot_count(x.length(i)));
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
  const std::size_t batch = static_cast<std::size_t>(st.range(0));
  const bool ragged = st.range(1) != 0;
  const cuda::handle_options opt{
      .logits_slab = static_cast<std::size_t>(st.range(3)), .graphs = st.range(2) != 0, .fused_gelu = st.range(4) != 0};
  if (cuda::visible_devices() == 0) {
    st.SkipWithError("no CUDA device");
    for (auto _ : st) {
    }
    return;
  }
  cuda::reference_handle& m = model(opt);
  const std::size_t V = m.vocabulary_size();
  const ragged_buffer in = inputs(batch, ragged, V);
  const ragged_batch x = in.view();
  std::size_t slots = 0;
  for (std::size_t i = 0; i < x.size(); ++i) slots += side_slots::slot_count(x.length(i));
  std::vector<token_id> ids(slots * top);
  std::vector<float> logp(slots * top);
  m.top_k(x, top, ids, logp);  // warm-up: buffers, cuBLAS heuristics, graph capture
  for (auto _ : st) {
    benchmark::DoNotOptimize(m.top_k(x, top, ids, logp));
    benchmark::ClobberMemory();
  }
  cudaDeviceProp p{};
  cudaGetDeviceProperties(&p, 0);
  st.SetLabel(p.name);
  const double flops = forward_flops(x, 256, 4, 1024, V);
  st.counters["tokens/s"] = benchmark::Counter(static_cast<double>(in.tokens.size()), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["slots/s"] = benchmark::Counter(static_cast<double>(slots), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["TFLOP/s"] = benchmark::Counter(flops * 1e-12, benchmark::Counter::kIsIterationInvariantRate);
  if (const double peak = peak_bf16_flops(); peak > 0)
    st.counters["roofline"] = benchmark::Counter(flops / peak, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

// {batch, ragged 32..64, graphs, logits slab, fused GELU}: the defaults, then one knob changed at a time.
BENCHMARK(BM_cuda_top_k)
    ->ArgNames({"batch", "ragged", "graphs", "slab", "fused_gelu"})
    ->Args({1, 0, 1, 1024, 1})
    ->Args({1, 0, 0, 1024, 1})
    ->Args({1, 0, 1, 1024, 0})
    ->Args({512, 1, 1, 1024, 1})
    ->Args({512, 1, 0, 1024, 1})
    ->Args({512, 1, 1, 1024, 0})
    ->Args({512, 1, 1, 512, 1})
    ->Args({512, 1, 1, 4096, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
