// The threaded parts of slotdiff, in one executable so that the ThreadSanitizer stage (.ci/tsan.sh)
// builds and runs only this: noising on many threads, the reference model's forward pass on several,
// const components shared by threads (scorers, a backend behind surprisal_scorer, metrics), the same
// output at 1, 2 and 8 threads (issue 15), and a refused thread as an error, not std::terminate.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "random.hpp"
#include "slotdiff/backends/callback.hpp"
#include "slotdiff/backends/ngram.hpp"
#include "slotdiff/backends/reference/thread_pool.hpp"
#include "slotdiff/denoise/decoding.hpp"
#include "slotdiff/denoise/denoise.hpp"
#include "slotdiff/detail/threads.hpp"
#include "slotdiff/metrics/mahalanobis.hpp"
#include "slotdiff/metrics/metrics.hpp"
#include "slotdiff/noise/corpus.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/scoring/mix.hpp"
#include "slotdiff/scoring/random.hpp"
#include "slotdiff/scoring/surprisal.hpp"
#include "slotdiff/scoring/unigram.hpp"
#include "test_trajectory.hpp"
#if defined(SLOTDIFF_TEST_REFERENCE)
#include "slotdiff/backends/reference/reference.hpp"
#endif

using namespace slotdiff;

namespace {

std::vector<std::vector<token_id>> corpus_of(std::mt19937_64& rng, std::size_t n, std::size_t max_len, token_id vocab) {
  std::vector<std::vector<token_id>> c(n);
  for (auto& s : c) {
    s.resize(1 + rng() % max_len);
    for (auto& t : s) t = static_cast<token_id>(4 + rng() % static_cast<std::uint64_t>(vocab - 4));
  }
  return c;
}

/// Restores the thread-start hook when a test ends.
struct refuse_thread {
  explicit refuse_thread(void (*hook)(std::size_t)) { detail::thread_start_hook = hook; }
  ~refuse_thread() { detail::thread_start_hook = nullptr; }
};
void refuse_third(std::size_t index) {
  if (index == 2) throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again), "thread");
}

}  // namespace

TEST_CASE("noise_corpus: the same trajectories at 1, 2 and 8 threads", "[threads][noise][determinism]") {
  auto rng = test::seeded_rng(901);
  const auto corpus = corpus_of(rng, 400, 24, 60);
  unigram_model counts;
  for (const auto& s : corpus) counts.observe(s);
  const idf_scorer idf(counts);
  const weighted_mix scorer(mix_normalize::rank, weighted{1.0f, idf}, weighted{0.3f, random_scorer{5}});
  auto one = [&](std::span<const token_id> s, const noise_options& o) { return noise<side_layout>(s, scorer, o); };
  // stochastic noising (Gumbel temperature) so that the seeds matter
  const noise_options opts{.schedule = noise_schedule::fraction(0.4f), .seed = 77, .temperature = 0.5f};
  const auto t1 = noise_corpus<trajectory<side_layout>>(corpus, one, opts, {.threads = 1});
  for (const std::size_t threads : {2u, 8u}) {
    INFO(threads << " threads");
    CHECK(noise_corpus<trajectory<side_layout>>(corpus, one, opts, {.threads = threads, .chunk = 3}) == t1);
  }
  const auto k1 = noise_corpus_samples<trajectory<side_layout>>(corpus, one, opts, {.trajectories = 3}, {.threads = 1});
  CHECK(noise_corpus_samples<trajectory<side_layout>>(corpus, one, opts, {.trajectories = 3}, {.threads = 8, .chunk = 5}) == k1);
}

TEST_CASE("a thread the system refuses is a slotdiff::error, and the started threads are joined", "[threads][errors]") {
  auto rng = test::seeded_rng(902);
  const auto corpus = corpus_of(rng, 200, 10, 40);
  auto one = [&](std::span<const token_id> s, const noise_options& o) { return noise<side_layout>(s, random_scorer{1}, o); };
  const refuse_thread guard(refuse_third);
  CHECK_THROWS_WITH(noise_corpus<trajectory<side_layout>>(corpus, one, {}, {.threads = 4, .chunk = 1}),
                    Catch::Contains("noise_corpus: could not start thread 3 of 4") &&
                        Catch::Contains("the threads already started were joined"));
  CHECK_THROWS_AS(noise_corpus_samples<trajectory<side_layout>>(corpus, one, {}, {.trajectories = 2}, {.threads = 4}), error);
  CHECK_THROWS_WITH(detail::thread_pool(4), Catch::Contains("reference model: could not start thread 3 of 4"));
  // one or two threads never reach the refused third
  CHECK(noise_corpus<trajectory<side_layout>>(corpus, one, {}, {.threads = 2}).size() == corpus.size());
  detail::thread_pool two(2);
  std::atomic<int> calls{0};
  two.run(100, [&](std::size_t) { calls.fetch_add(1); });
  CHECK(calls == 100);
}

TEST_CASE("const components shared by threads give what they give alone", "[threads][const]") {
  auto rng = test::seeded_rng(903);
  // a const n-gram backend (probability() const) and, behind surprisal_scorer's lock, its non-const calls
  std::vector<test::test_trajectory<side_layout>> trs;
  for (int i = 0; i < 200; ++i) trs.push_back(test::random_trajectory<side_layout>(test::random_sentence(rng, 10), rng));
  auto model = ngram_backend<side_layout>::train(trs, test::test_vocab, test::test_none, {.never_insert = {0, 1, 2}});
  const surprisal_scorer<ngram_backend<side_layout>> surprisal(model, 8);
  const auto& cmodel = model;
  unigram_model counts;
  for (int i = 0; i < 50; ++i) counts.observe(test::random_sentence(rng, 12));
  const idf_scorer idf(counts);
  const weighted_mix mix(mix_normalize::rank, weighted{1.0f, idf}, weighted{0.5f, random_scorer{3}});
  mahalanobis maha(8);
  for (int i = 0; i < 20; ++i) {
    std::vector<float> x(8), p(8), q(8);
    for (auto* v : {&x, &p, &q})
      for (auto& e : *v) e = static_cast<float>(rng() % 100) / 10.0f;
    maha.update(x, p, q);
  }
  const mahalanobis& cmaha = maha;
  const cosine_distance cosine{};
  const jensen_shannon_distance js{};

  const auto sentences = corpus_of(rng, 64, 12, static_cast<token_id>(test::test_vocab));
  struct result {
    std::vector<float> surprisal, mix, idf;
    double probability = 0, maha = 0, cosine = 0, js = 0;
    bool operator==(const result&) const = default;
  };
  auto work = [&](std::size_t i) {
    const auto& s = sentences[i];
    result r;
    r.surprisal.resize(s.size());
    r.mix.resize(s.size());
    r.idf.resize(s.size());
    surprisal.score(s, r.surprisal);
    mix.score(s, r.mix);
    idf.score(s, r.idf);
    r.probability = cmodel.probability(s, 0, s.front());
    std::vector<float> a(8), b(8), pa(4, 0.25f), pb{0.1f, 0.2f, 0.3f, 0.4f};
    for (std::size_t d = 0; d < 8; ++d) a[d] = static_cast<float>(s[d % s.size()]), b[d] = static_cast<float>(d + i);
    r.maha = cmaha(a, b);
    r.cosine = cosine(a, b);
    r.js = js(pa, pb);
    return r;
  };
  std::vector<result> alone(sentences.size()), shared(sentences.size());
  for (std::size_t i = 0; i < sentences.size(); ++i) alone[i] = work(i);
  std::vector<std::thread> pool;
  std::atomic<std::size_t> next{0};
  for (int t = 0; t < 6; ++t)
    pool.emplace_back([&] {
      for (std::size_t i; (i = next.fetch_add(1)) < sentences.size();) shared[i] = work(i);
    });
  for (auto& th : pool) th.join();
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    INFO("sentence " << i);
    CHECK(shared[i] == alone[i]);
  }
}

#if defined(SLOTDIFF_TEST_REFERENCE)
TEST_CASE("the reference model: the same logits and generations at 1, 2 and 8 threads", "[threads][reference][determinism]") {
  const auto w = reference_weights::load(SLOTDIFF_TEST_REFERENCE);
  auto rng = test::seeded_rng(904);
  // a batch tall enough for the row split and one short enough for the column split
  for (const std::size_t count : {3u, 60u}) {
    ragged_buffer buf;
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t n = rng() % 30;
      auto cell = buf.append(n);
      for (auto& t : cell) t = static_cast<token_id>(4 + rng() % 60);
    }
    const std::size_t S = reference_model::slot_rows(buf.view());
    std::vector<float> base(S * 64), other(S * 64);
    reference_model m1(w, {.threads = 1});
    m1.slot_logits(buf.view(), base);
    for (const std::size_t threads : {2u, 8u}) {
      reference_model mt(w, {.threads = threads});
      mt.slot_logits(buf.view(), other);
      INFO(count << " sequences, " << threads << " threads");
      CHECK(std::memcmp(base.data(), other.data(), base.size() * sizeof(float)) == 0);  // bit for bit
    }
  }
  // sampled generations from keywords and from nothing
  std::vector<std::vector<token_id>> starts{{}, {10}, {12, 40}, {}, {7, 8, 9}};
  const decoding_preset preset;
  std::vector<std::vector<generation>> outs;
  for (const std::size_t threads : {1u, 2u, 8u}) {
    reference_backend b(w, {.threads = threads});
    outs.push_back(denoise(b, std::span<const std::vector<token_id>>(starts), preset.stop(), preset.options(11)));
  }
  for (std::size_t t = 1; t < outs.size(); ++t)
    for (std::size_t i = 0; i < starts.size(); ++i) {
      INFO("start " << i << ", run " << t);
      CHECK(outs[t][i].tokens == outs[0][i].tokens);
      CHECK(outs[t][i].births == outs[0][i].births);
    }
}
#endif
