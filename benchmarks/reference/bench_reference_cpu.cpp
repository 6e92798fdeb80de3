// bench_reference_cpu: the reference denoiser's CPU forward pass (full log-probabilities per slot, and
// top-8), batch 1 x 32 tokens and 64 x 32, at 1 thread and at SLOTDIFF_BENCH_THREADS (default 2).
// The peer is tools/peers/reference_torch_cpu.py: PyTorch on the CPU, same weights, same token ids,
// same thread count (docs/benchmarks/reference.md).
//
// Weights: $SLOTDIFF_REFERENCE_WEIGHTS, else models/reference.safetensors. Speed depends on the sizes
// only; benchmark the default architecture (d 256, 4 layers, MLP 1024, vocabulary 8192).
//
//     bench_reference_cpu --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "slotdiff/backends/reference/backend.hpp"

using namespace slotdiff;

namespace {

std::shared_ptr<const reference_weights> weights() {
  static const auto w = [] {
    const char* env = std::getenv("SLOTDIFF_REFERENCE_WEIGHTS");
    return reference_weights::load(env && *env ? env : SLOTDIFF_SOURCE_DIR "/models/reference.safetensors");
  }();
  return w;
}

std::size_t bench_threads() {
  const char* env = std::getenv("SLOTDIFF_BENCH_THREADS");
  return env && *env ? std::stoul(env) : 2;
}

// The peer's inputs exactly: token j of sequence i is 4 + (131 i + 31 j) mod (V - 4).
ragged_buffer inputs(std::size_t batch, std::size_t len, std::size_t V) {
  ragged_buffer b;
  for (std::size_t i = 0; i < batch; ++i) {
    auto s = b.append(len);
    for (std::size_t j = 0; j < len; ++j) s[j] = static_cast<token_id>(4 + (131 * i + 31 * j) % (V - 4));
  }
  return b;
}

void set_counters(benchmark::State& st, std::size_t batch, std::size_t len, std::size_t threads) {
  st.counters["tokens/s"] = benchmark::Counter(static_cast<double>(batch * len), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["slots/s"] = benchmark::Counter(static_cast<double>(2 * batch * len), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["threads"] = static_cast<double>(threads);
  st.counters["d_model"] = static_cast<double>(weights()->config.d_model);
}

// args: batch, length, threads (0: SLOTDIFF_BENCH_THREADS)
void BM_reference_log_probs(benchmark::State& st) {
  const auto batch = static_cast<std::size_t>(st.range(0)), len = static_cast<std::size_t>(st.range(1));
  const std::size_t threads = st.range(2) ? static_cast<std::size_t>(st.range(2)) : bench_threads();
  reference_backend m(weights(), {.threads = threads});
  const auto in = inputs(batch, len, m.vocabulary_size());
  std::vector<float> out(2 * batch * len * m.vocabulary_size());
  for (auto _ : st) {
    m.log_probs(in.view(), out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(st, batch, len, threads);
}

void BM_reference_top8(benchmark::State& st) {
  const auto batch = static_cast<std::size_t>(st.range(0)), len = static_cast<std::size_t>(st.range(1));
  const std::size_t threads = st.range(2) ? static_cast<std::size_t>(st.range(2)) : bench_threads();
  reference_backend m(weights(), {.threads = threads});
  const auto in = inputs(batch, len, m.vocabulary_size());
  std::vector<token_id> ids(2 * batch * len * 8);
  std::vector<float> lp(ids.size());
  for (auto _ : st) {
    m.top_k(in.view(), 8, ids, lp);
    benchmark::DoNotOptimize(ids.data());
    benchmark::ClobberMemory();
  }
  set_counters(st, batch, len, threads);
}

// Baseline in the same binary: the vocabulary projection alone (one Eigen product, one thread),
// the largest single piece of arithmetic of the pass.
void BM_vocab_projection_only(benchmark::State& st) {
  const auto slots = static_cast<Eigen::Index>(2 * st.range(0) * st.range(1));
  const auto& e = weights()->embedding;
  reference_matrix u = reference_matrix::Random(slots, e.cols());
  reference_matrix y(slots, e.rows());
  for (auto _ : st) {
    y.noalias() = u * e.transpose();
    benchmark::DoNotOptimize(y.data());
  }
  st.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(slots * e.rows() * e.cols()) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(BM_reference_log_probs)->ArgNames({"batch", "len", "threads"})->Args({1, 32, 1})->Args({1, 32, 0})->Args({64, 32, 1})->Args({64, 32, 0})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_reference_top8)->ArgNames({"batch", "len", "threads"})->Args({1, 32, 0})->Args({64, 32, 0})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_vocab_projection_only)->ArgNames({"batch", "len"})->Args({1, 32})->Args({64, 32})->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
