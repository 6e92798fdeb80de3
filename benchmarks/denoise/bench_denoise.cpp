// bench_denoise: the generation loop's own cost. Every backend call is timed separately, so the
// counters split each run into backend time and loop time (everything else: packing the batch,
// checking and sampling the candidates, choosing, applying, the stop policy).
//
// Counters: slot_decisions = slots the loop decided (one draw each) per second of the whole run;
// loop_decisions = the same per second of loop time alone; loop_fraction = loop time / total.
// One thread: the rates are per core.
#include <slotdiff/backends/ngram_text.hpp>
#include <slotdiff/backends/oracle.hpp>
#include <slotdiff/denoise/denoise.hpp>
#include <slotdiff/noise/noise.hpp>
#include <slotdiff/scoring/random.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <fstream>
#include <random>
#include <vector>

using namespace slotdiff;

namespace {

// Forwards to a backend and adds up the time spent inside it.
template <class B>
struct timed {
  using layout_type = typename B::layout_type;
  B* inner;
  double seconds = 0;
  std::size_t slots = 0;
  std::size_t vocabulary_size() const { return inner->vocabulary_size(); }
  token_id none_id() const { return inner->none_id(); }
  std::size_t top_k(const ragged_batch& b, std::size_t k, std::span<token_id> ids, std::span<float> lp) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::size_t rows = inner->top_k(b, k, ids, lp);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    slots += rows;
    return rows;
  }
};

constexpr std::size_t vocab = 8192;
constexpr token_id none = 3;

std::vector<trajectory<side_layout>> random_trajectories(std::size_t count, std::size_t length, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<trajectory<side_layout>> trs;
  for (std::size_t i = 0; i < count; ++i) {
    std::vector<token_id> x(length);
    for (auto& t : x) t = static_cast<token_id>(4 + rng() % (vocab - 4));
    trs.push_back(noise<side_layout>(x, random_scorer{rng()}, {.schedule = noise_schedule::fraction(0.5f)}));
  }
  return trs;
}

void report(benchmark::State& state, double total, double backend, std::size_t slots) {
  state.counters["slot_decisions"] = benchmark::Counter(static_cast<double>(slots), benchmark::Counter::kIsRate);
  state.counters["loop_decisions_per_s"] = static_cast<double>(slots) / std::max(total - backend, 1e-12);
  state.counters["loop_fraction"] = (total - backend) / total;
}

// Oracle: rebuilds `batch` sentences of 32 tokens from nothing (x_T = empty), greedy, all slots filled.
void bm_oracle(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  const auto trs = random_trajectories(batch, 32, 1);
  oracle_backend<side_layout> oracle(vocab, none);
  for (const auto& t : trs) oracle.add(t);
  const std::vector<std::vector<token_id>> starts(batch);
  timed<oracle_backend<side_layout>> backend{&oracle};
  double total = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto gens = denoise(backend, std::span(starts), stop::probability_below{0.5f},
                        {.fill = {.min_confidence = 0.5f, .gaps = gap_policy::independent}, .candidates = static_cast<std::size_t>(state.range(1)), .trace = false});
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(gens.data());
  }
  report(state, total, backend.seconds, backend.slots);
}

// The n-gram backend, trained once on the bundled corpus, growing from keywords (the x_T of the
// corpus's own held-out trajectories), sampled at temperature 0.7.
struct corpus_setup {
  tokenizer vocab;
  ngram_backend<side_layout> model;
  std::vector<std::vector<token_id>> keywords;
};
const corpus_setup& corpus() {
  static const corpus_setup c = [] {
    const std::string dir = SLOTDIFF_DATA_DIR;
    tokenizer v = tokenizer::load(dir + "/vocab.txt");
    std::vector<std::string> lines;
    std::ifstream in(dir + "/examples.txt");
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    auto m = train_ngram_on_text<side_layout>(lines, v, {.evaluate = false});
    std::vector<std::vector<token_id>> kw;
    unigram_model counts;
    for (std::size_t i = 0; i < 2000; ++i) counts.observe(v.encode(lines[i]));
    for (std::size_t i = 0; kw.size() < 512 && i < lines.size(); i += 7) {
      const auto ids = v.encode(lines[i]);
      if (ids.size() < 6) continue;
      const auto tr = noise<side_layout>(ids, idf_scorer(counts), {.keep_keywords = 3});
      kw.push_back(tr.state(tr.steps()));
    }
    return corpus_setup{std::move(v), std::move(m), std::move(kw)};
  }();
  return c;
}

void bm_ngram(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  auto& c = const_cast<corpus_setup&>(corpus());
  const std::vector<std::vector<token_id>> starts(c.keywords.begin(), c.keywords.begin() + static_cast<std::ptrdiff_t>(batch));
  timed<ngram_backend<side_layout>> backend{&c.model};
  double total = 0;
  const auto stop = stop::any_of(stop::max_steps{6}, stop::max_length{30}, stop::probability_below{0.02f});
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto gens = denoise(backend, std::span(starts), stop,
                        {.sampling = {.temperature = 0.7f, .top_p = 0.95f, .repetition_penalty = 1.5f}, .candidates = 32,
                         .trace = false});
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(gens.data());
  }
  report(state, total, backend.seconds, backend.slots);
}

// Baseline: the least any loop must do per step, hand-written for this one case: argmax of each
// slot's first candidate and a plain vector rebuild. No checks, no sampling, no policies.
void bm_oracle_minimal_loop(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  const std::size_t k = static_cast<std::size_t>(state.range(1));
  const auto trs = random_trajectories(batch, 32, 1);
  oracle_backend<side_layout> oracle(vocab, none);
  for (const auto& t : trs) oracle.add(t);
  timed<oracle_backend<side_layout>> backend{&oracle};
  double total = 0;
  std::vector<token_id> ids, next;
  std::vector<float> lp;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::vector<token_id>> seqs(batch);
    std::vector<std::size_t> active(batch);
    for (std::size_t i = 0; i < batch; ++i) active[i] = i;
    ragged_buffer buf;
    while (!active.empty()) {
      buf.clear();
      for (std::size_t i : active) {
        auto dst = buf.append(seqs[i].size());
        std::copy(seqs[i].begin(), seqs[i].end(), dst.begin());
      }
      ragged_batch view = buf.view();
      view.origin = active;
      std::size_t slots = 0;
      for (std::size_t i : active) slots += side_layout::slot_count(seqs[i].size());
      ids.resize(slots * k);
      lp.resize(slots * k);
      backend.top_k(view, k, ids, lp);
      std::vector<std::size_t> still;
      std::size_t row = 0;
      for (std::size_t i : active) {
        const std::size_t n = seqs[i].size();
        next.clear();
        bool any = false;
        std::size_t g = 0;
        for (std::size_t s = 0; s < side_layout::slot_count(n); ++s, ++row) {
          for (const std::size_t gap = side_layout::gap_of(s, n); g < gap; ++g) next.push_back(seqs[i][g]);
          if (ids[row * k] != none) next.push_back(ids[row * k]), any = true;
        }
        for (; g < n; ++g) next.push_back(seqs[i][g]);
        if (any) seqs[i] = next, still.push_back(i);
      }
      active.swap(still);
    }
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(seqs.data());
  }
  report(state, total, backend.seconds, backend.slots);
}

}  // namespace

BENCHMARK(bm_oracle)->ArgsProduct({{1, 256}, {1, 16}})->ArgNames({"batch", "candidates"})->Unit(benchmark::kMillisecond);
BENCHMARK(bm_oracle_minimal_loop)->ArgsProduct({{1, 256}, {1, 16}})->ArgNames({"batch", "candidates"})->Unit(benchmark::kMillisecond);
BENCHMARK(bm_ngram)->Arg(1)->Arg(256)->ArgName("batch")->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
