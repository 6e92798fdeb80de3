// bench_noise: sentences/s per core for IDF noising and for embedding-shift noising (d = 256) over
// the bundled corpus, each beside a straightforward baseline in the same binary. Fixed seeds.
//
//   build/noise-rel/benchmarks/noise/bench_noise --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "slotdiff/noise/noise.hpp"
#include "slotdiff/scoring/embedding_shift.hpp"
#include "slotdiff/scoring/random.hpp"
#include "slotdiff/scoring/unigram.hpp"
#include "slotdiff/text/tokenizer.hpp"

using namespace slotdiff;

namespace {

struct corpus {
  std::vector<std::string> lines;
  std::vector<std::vector<token_id>> ids;
  unigram_model model;
  std::size_t tokens = 0;
};

const corpus& bundled() {
  static const corpus c = [] {
    corpus c;
    for (const char* f : {"examples.txt", "glosses.txt"}) {
      std::ifstream in(std::string(SLOTDIFF_DATA_DIR) + "/wordnet/" + f);
      for (std::string l; std::getline(in, l);) c.lines.push_back(l);
    }
    const auto words = tokenizer::build(c.lines, {.max_size = std::size_t{1} << 30});
    for (const auto& l : c.lines) {
      c.ids.push_back(words.encode(l));
      c.model.observe(c.ids.back());
      c.tokens += c.ids.back().size();
    }
    return c;
  }();
  return c;
}

// ---- IDF ------------------------------------------------------------------------------------------

void BM_idf_noise(benchmark::State& state) {
  const auto& c = bundled();
  const idf_scorer idf(c.model);
  const noise_options opts{.schedule = noise_schedule::fraction(0.5f),
                           .selection = state.range(0) ? selection_method::exact : selection_method::greedy};
  std::size_t steps = 0;
  for (auto _ : state) {
    for (const auto& s : c.ids) {
      const auto tr = noise(s, idf, opts);
      steps += static_cast<std::size_t>(tr.steps());
    }
  }
  benchmark::DoNotOptimize(steps);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.ids.size()));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(state.iterations() * c.tokens), benchmark::Counter::kIsRate);
  state.SetLabel(state.range(0) ? "exact DP, whole corpus" : "greedy, whole corpus");
}
BENCHMARK(BM_idf_noise)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

/// The straightforward baseline: each step copies the sentence, sorts every position by score, and
/// adds candidates greedily, re-checking the feasibility of the WHOLE mask (is_feasible_removal) for
/// each one; O(n^2) per step.
std::vector<step_index> naive_noise(const std::vector<token_id>& x0, const unigram_model& m) {
  std::vector<step_index> removed_at(x0.size(), 0);
  std::vector<std::size_t> alive(x0.size());
  std::iota(alive.begin(), alive.end(), 0);
  step_index t = 0;
  while (!alive.empty()) {
    const std::size_t n = alive.size();
    std::vector<double> score(n);
    for (std::size_t i = 0; i < n; ++i) score[i] = m.idf(x0[alive[i]]);
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return score[a] < score[b]; });
    const std::size_t k = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(0.5 * static_cast<double>(n))));
    std::vector<bool> mask(n, false);
    std::size_t chosen = 0;
    for (std::size_t i : order) {
      mask[i] = true;
      if (!is_feasible_removal<side_layout>(mask)) mask[i] = false;
      else if (++chosen == k) break;
    }
    ++t;
    std::vector<std::size_t> next;
    for (std::size_t i = 0; i < n; ++i) (mask[i] ? removed_at[alive[i]] = t : (next.push_back(alive[i]), 0));
    alive = next;
  }
  return removed_at;
}

void BM_idf_noise_baseline(benchmark::State& state) {
  const auto& c = bundled();
  std::size_t sum = 0;
  for (auto _ : state)
    for (const auto& s : c.ids) sum += naive_noise(s, c.model).size();
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.ids.size()));
  state.SetLabel("naive greedy, whole corpus");
}
BENCHMARK(BM_idf_noise_baseline)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- embedding shift, d = 256 -----------------------------------------------------------------------

/// Mean pooling over a fixed random table (ids hashed into 8192 rows): the cheapest real
/// leave_one_out_embedder, O(n d) for all leave-one-outs together.
struct table_embedder {
  static constexpr std::size_t rows = 8192;
  std::size_t d;
  std::vector<float> table;
  explicit table_embedder(std::size_t dim) : d(dim), table(rows * dim) {
    for (std::size_t i = 0; i < table.size(); ++i) table[i] = 2.0f * detail::unit_float(detail::splitmix64(i)) - 1.0f;
  }
  std::size_t dimension() const { return d; }
  const float* row(token_id t) const { return table.data() + (static_cast<std::size_t>(t) % rows) * d; }
  void embed(std::span<const token_id> tokens, std::span<float> out) const {
    std::fill(out.begin(), out.end(), 0.0f);
    for (token_id t : tokens) {
      const float* r = row(t);
      for (std::size_t k = 0; k < d; ++k) out[k] += r[k];
    }
    const float inv = tokens.empty() ? 0.0f : 1.0f / static_cast<float>(tokens.size());
    for (auto& x : out) x *= inv;
  }
  void embed_leave_one_out(std::span<const token_id> tokens, std::span<float> out) const {
    const std::size_t n = tokens.size();
    thread_local std::vector<float> sum;
    sum.assign(d, 0.0f);
    for (token_id t : tokens) {
      const float* r = row(t);
      for (std::size_t k = 0; k < d; ++k) sum[k] += r[k];
    }
    const float inv = n > 1 ? 1.0f / static_cast<float>(n - 1) : 0.0f;
    for (std::size_t i = 0; i < n; ++i) {
      const float* r = row(tokens[i]);
      float* o = out.data() + i * d;
      for (std::size_t k = 0; k < d; ++k) o[k] = (sum[k] - r[k]) * inv;
    }
  }
};

/// The same embedder without the O(n d) trick: each leave-one-out re-embeds n - 1 tokens, O(n^2 d).
struct naive_table_embedder : table_embedder {
  using table_embedder::table_embedder;
  void embed_leave_one_out(std::span<const token_id> tokens, std::span<float> out) const {
    std::vector<token_id> rest;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      rest.assign(tokens.begin(), tokens.end());
      rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(i));
      embed(rest, out.subspan(i * d, d));
    }
  }
};

struct cosine {
  float operator()(std::span<const float> a, std::span<const float> b) const {
    float ab = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      ab += a[i] * b[i];
      aa += a[i] * a[i];
      bb += b[i] * b[i];
    }
    return aa == 0 || bb == 0 ? 1.0f : 1.0f - ab / std::sqrt(aa * bb);
  }
};

template <class Embedder>
void BM_embedding_shift(benchmark::State& state) {
  const auto& c = bundled();
  const std::size_t count = 20000;  // a fixed slice (every 7th sentence) keeps a repetition short
  std::vector<const std::vector<token_id>*> slice;
  for (std::size_t i = 0; i < c.ids.size() && slice.size() < count; i += 7) slice.push_back(&c.ids[i]);
  const Embedder emb(static_cast<std::size_t>(state.range(0)));
  const embedding_shift_scorer shift(emb, cosine{});
  const noise_options opts{.schedule = noise_schedule::fraction(0.5f)};
  std::size_t steps = 0;
  for (auto _ : state)
    for (const auto* s : slice) steps += static_cast<std::size_t>(noise(*s, shift, opts).steps());
  benchmark::DoNotOptimize(steps);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * slice.size()));
}
BENCHMARK_TEMPLATE(BM_embedding_shift, table_embedder)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_embedding_shift, naive_table_embedder)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
