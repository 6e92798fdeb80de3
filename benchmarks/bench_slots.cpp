// bench_slots: one denoising step of k insertions into n tokens, for every slot sequence, against
// two baselines in the same binary: repeated std::vector::insert, and one memmove of the resulting
// array (the physical floor of any layout that keeps the tokens contiguous).
//
// Every timed step starts from a freshly built sequence of n tokens with room reserved for the
// result (built outside the timed region, so page faults of fresh allocations are not timed; one
// Google Benchmark iteration times `steps_per_iter` such steps with manual timing). Counters:
// items_per_second = inserted tokens/s, bytes_per_second = bytes of the resulting token+birth arrays/s.
#include <slotdiff/slotdiff.hpp>

#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

using namespace slotdiff;

namespace {

// The machine is shared: wall time counts the time this thread waits for a core, so steps are timed
// with the thread's own CPU clock (which still sees cache and memory interference, but not waiting).
double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

enum class pattern : int { uniform, clustered, single_point };

constexpr const char* pattern_name(pattern p) {
  return p == pattern::uniform ? "uniform" : p == pattern::clustered ? "clustered" : "single_point";
}

// k distinct slots of side_layout over n tokens, sorted (a denoiser emits them in slot order).
//   uniform:      anywhere
//   clustered:    inside one window of 2k slots
//   single_point: the k consecutive slots starting at one place
std::vector<insertion> make_batch(std::size_t n, std::size_t k, pattern p, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::size_t slots = side_layout::slot_count(n);
  k = std::min(k, slots);
  std::vector<std::size_t> chosen;
  if (p == pattern::single_point) {
    const std::size_t start = std::uniform_int_distribution<std::size_t>(0, slots - k)(rng);
    chosen.resize(k);
    std::iota(chosen.begin(), chosen.end(), start);
  } else {
    const std::size_t width = p == pattern::uniform ? slots : std::min(slots, 2 * k);
    const std::size_t lo = std::uniform_int_distribution<std::size_t>(0, slots - width)(rng);
    // Floyd's sampling of k distinct values from [lo, lo + width).
    std::vector<char> taken(width, 0);
    for (std::size_t j = width - k; j < width; ++j) {
      std::size_t t = std::uniform_int_distribution<std::size_t>(0, j)(rng);
      if (taken[t]) t = j;
      taken[t] = 1;
    }
    for (std::size_t s = 0; s < width; ++s)
      if (taken[s]) chosen.push_back(lo + s);
  }
  std::vector<insertion> batch;
  batch.reserve(chosen.size());
  for (std::size_t s : chosen) batch.push_back({s, static_cast<token_id>(s & 0x7fff)});
  return batch;
}

std::vector<token_id> make_tokens(std::size_t n) {
  std::vector<token_id> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = static_cast<token_id>((i * 2654435761u) & 0x7fff);
  return t;
}

std::size_t steps_per_iter(std::size_t n) { return std::max<std::size_t>(1, (std::size_t{1} << 18) / n); }

std::size_t batch_size(std::size_t n, int code) {  // the k axis: 1, n/8, n/2, max (every slot)
  switch (code) {
    case 0: return 1;
    case 1: return std::max<std::size_t>(1, n / 8);
    case 2: return std::max<std::size_t>(1, n / 2);
    default: return side_layout::slot_count(n);
  }
}

void set_counters(benchmark::State& state, std::size_t n, std::size_t k, std::size_t reps) {
  const auto steps = static_cast<double>(state.iterations()) * static_cast<double>(reps);
  state.SetItemsProcessed(static_cast<std::int64_t>(steps * static_cast<double>(k)));
  state.SetBytesProcessed(static_cast<std::int64_t>(steps * static_cast<double>(n + k) * 8.0));
  state.counters["steps_per_iter"] = static_cast<double>(reps);
  state.counters["n"] = static_cast<double>(n);
  state.counters["k"] = static_cast<double>(k);
}

template <class Seq>
void bm_step(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto p = static_cast<pattern>(state.range(2));
  const auto batch = make_batch(n, batch_size(n, static_cast<int>(state.range(1))), p, 42 + n);
  Seq prototype(make_tokens(n));
  prototype.reserve(n + batch.size());  // copies keep gapped_slots' cell layout: no rebuild per copy
  const std::size_t reps = steps_per_iter(n);
  std::vector<Seq> copies;
  for (auto _ : state) {
    copies.assign(reps, prototype);
    for (Seq& s : copies) s.reserve(n + batch.size());  // as a loop that knows its final length would
    const double t0 = thread_seconds();
    for (Seq& s : copies) s.apply(batch);
    const double t1 = thread_seconds();
    benchmark::DoNotOptimize(copies.data());
    state.SetIterationTime(t1 - t0);
  }
  set_counters(state, n, batch.size(), reps);
  state.SetLabel(pattern_name(p));
}

struct entry {
  token_id token;
  step_index birth;
};

// Baseline: one std::vector::insert per insertion (from the last slot back, so positions hold).
void bm_vector_insert(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto p = static_cast<pattern>(state.range(2));
  const auto batch = make_batch(n, batch_size(n, static_cast<int>(state.range(1))), p, 42 + n);
  std::vector<entry> prototype;
  for (token_id t : make_tokens(n)) prototype.push_back({t, 0});
  prototype.reserve(n + batch.size());
  const std::size_t reps = steps_per_iter(n);
  std::vector<std::vector<entry>> copies;
  for (auto _ : state) {
    copies.assign(reps, prototype);
    for (auto& c : copies) c.reserve(n + batch.size());
    const double t0 = thread_seconds();
    for (auto& c : copies) {
      for (std::size_t j = batch.size(); j-- > 0;) {
        const auto g = static_cast<std::ptrdiff_t>(side_layout::gap_of(batch[j].slot, n));
        c.insert(c.begin() + g, entry{batch[j].token, 1});
      }
    }
    const double t1 = thread_seconds();
    benchmark::DoNotOptimize(copies.data());
    state.SetIterationTime(t1 - t0);
  }
  set_counters(state, n, batch.size(), reps);
  state.SetLabel(pattern_name(p));
}

// The floor: one memmove of the resulting token and birth arrays, (n + k) * 8 bytes, on as many
// freshly written copies as the other benchmarks step (so that caches are in the same state).
void bm_memmove_floor(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::size_t k = std::min(batch_size(n, static_cast<int>(state.range(1))), side_layout::slot_count(n));
  const std::size_t m = n + k;
  const std::size_t reps = steps_per_iter(n);
  struct columns {
    std::vector<token_id> tokens;
    std::vector<step_index> births;
  };
  const columns prototype{std::vector<token_id>(m + 1, 1), std::vector<step_index>(m + 1, 0)};
  std::vector<columns> copies;
  for (auto _ : state) {
    copies.assign(reps, prototype);
    const double t0 = thread_seconds();
    for (columns& c : copies) {
      std::memmove(c.tokens.data() + 1, c.tokens.data(), m * sizeof(token_id));
      std::memmove(c.births.data() + 1, c.births.data(), m * sizeof(step_index));
    }
    benchmark::ClobberMemory();
    state.SetIterationTime(thread_seconds() - t0);
  }
  set_counters(state, n, k, reps);
}

// Not a floor but the other fixed cost of a checked step: detail::checked_batch alone (one pass that
// validates the batch and finds it sorted, reading the 16-byte insertion records), timed like the
// steps. A contiguous sequence's step costs at least about this plus the memmove floor.
void bm_check_batch(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto batch = make_batch(n, batch_size(n, static_cast<int>(state.range(1))), pattern::uniform, 42 + n);
  const std::size_t reps = steps_per_iter(n);
  std::vector<insertion> scratch;
  for (auto _ : state) {
    const double t0 = thread_seconds();
    for (std::size_t i = 0; i < reps; ++i) {
      benchmark::DoNotOptimize(detail::checked_batch<side_layout>(batch, n, unbounded_vocabulary, scratch).data());
    }
    state.SetIterationTime(thread_seconds() - t0);
  }
  set_counters(state, n, batch.size(), reps);
}

// The editor-like run: many steps of k = 1, each at or right after the previous insertion point.
template <class Seq>
void bm_editor(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  Seq seq(make_tokens(n));
  std::mt19937_64 rng(7);
  std::size_t cursor = side_layout::slot_count(n) / 2;
  std::vector<insertion> one(1);
  constexpr int steps = 64;  // timed together: one step of the gap buffer is shorter than a clock read
  std::vector<std::size_t> cursors(steps);
  for (auto _ : state) {
    for (auto& c : cursors) c = cursor = std::min(side_layout::slot_count(seq.size()) - 1, cursor + static_cast<std::size_t>(rng() % 3));
    const double t0 = thread_seconds();  // (slot counts only grow, so every cursor stays valid)
    for (std::size_t c : cursors) {
      one[0] = {c, 5};
      seq.apply(one);
    }
    state.SetIterationTime(thread_seconds() - t0);
  }
  state.SetItemsProcessed(state.iterations() * steps);
  benchmark::DoNotOptimize(seq.size());
}

void step_args(benchmark::internal::Benchmark* b, bool baseline) {
  for (std::int64_t n : {64, 1024, 16384, 262144}) {
    for (int k = 0; k < 4; ++k) {
      for (int p = 0; p < 3; ++p) {
        // Repeated vector::insert is quadratic: keep it to where it finishes in reasonable time.
        if (baseline && static_cast<double>(n) * static_cast<double>(batch_size(n, k)) > 1.5e8) continue;
        b->Args({n, k, p});
      }
    }
  }
  b->ArgNames({"n", "k", "pattern"})->UseManualTime();
}

// The reference rows (floor, check) depend on n and k only: pattern 0 stands for all three.
void reference_args(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {64, 1024, 16384, 262144})
    for (int k = 0; k < 4; ++k) b->Args({n, k, 0});
  b->ArgNames({"n", "k", "pattern"})->UseManualTime();
}

}  // namespace

BENCHMARK(bm_memmove_floor)->Apply(reference_args);
BENCHMARK(bm_check_batch)->Apply(reference_args);
BENCHMARK(bm_vector_insert)->Apply([](auto* b) { step_args(b, true); });
BENCHMARK_TEMPLATE(bm_step, vector_slots<side_layout>)->Apply([](auto* b) { step_args(b, false); });
BENCHMARK_TEMPLATE(bm_step, devector_slots<side_layout>)->Apply([](auto* b) { step_args(b, false); });
BENCHMARK_TEMPLATE(bm_step, gap_buffer_slots<side_layout>)->Apply([](auto* b) { step_args(b, false); });
BENCHMARK_TEMPLATE(bm_step, gapped_slots<side_layout>)->Apply([](auto* b) { step_args(b, false); });

BENCHMARK_TEMPLATE(bm_editor, vector_slots<side_layout>)->Arg(262144)->Iterations(300)->UseManualTime();
BENCHMARK_TEMPLATE(bm_editor, devector_slots<side_layout>)->Arg(262144)->Iterations(300)->UseManualTime();
BENCHMARK_TEMPLATE(bm_editor, gap_buffer_slots<side_layout>)->Arg(262144)->Iterations(300)->UseManualTime();
BENCHMARK_TEMPLATE(bm_editor, gapped_slots<side_layout>)->Arg(262144)->Iterations(300)->UseManualTime();

BENCHMARK_MAIN();
