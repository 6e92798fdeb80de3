// slotdiff/noise/corpus.hpp: noising many sentences on several threads with a deterministic result.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "slotdiff/detail/thread_pool.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/scoring/random.hpp"

namespace slotdiff {

struct corpus_options {
  std::size_t threads = 0;                      ///< 0: std::thread::hardware_concurrency()
  std::size_t chunk = 64;                       ///< sentences a thread takes at a time
  std::atomic<std::size_t>* progress = nullptr; ///< if set, incremented once per finished sentence
  /// If not empty, sentence i's seed index is indices[i] instead of first_index + i: a sentence keeps
  /// its trajectory when a corpus is filtered or split into shards (size must match the sentences).
  std::span<const std::uint64_t> indices = {};
};

/// The seed noise() gets for sentence `index` of a corpus: a hash of the corpus seed and the index,
/// so a sentence's trajectory does not depend on which thread ran it or how the corpus was split.
constexpr std::uint64_t sentence_seed(std::uint64_t corpus_seed, std::uint64_t index) noexcept {
  return detail::splitmix64(corpus_seed ^ detail::splitmix64(index));
}

/// The seed of attempt `a` at a trajectory of a sentence whose seed is `sentence`: attempt 0 uses the
/// sentence seed itself, so the first of K trajectories is the one noise_corpus writes.
constexpr std::uint64_t trajectory_seed(std::uint64_t sentence, std::uint64_t attempt) noexcept {
  return attempt == 0 ? sentence : detail::splitmix64(sentence ^ detail::splitmix64(~attempt));
}

namespace detail {
/// Runs fn(i) for i in [0, n) on `pool`, `chunk` consecutive indices per task (tasks are taken in
/// order by whichever thread is free); bumps *progress once per index. An exception from fn(i) does
/// not stop the others: every index runs, then the exception of the lowest failing index is
/// rethrown, so which error the caller sees does not depend on the thread count.
/// Complexity: n calls of fn, spread over pool.size() threads.
template <class Fn>
void parallel_chunks(thread_pool& pool, std::size_t n, std::size_t chunk, std::atomic<std::size_t>* progress, Fn&& fn) {
  chunk = std::max<std::size_t>(1, chunk);
  std::mutex failure_lock;
  std::size_t failed_at = n;
  std::exception_ptr failure;
  pool.run((n + chunk - 1) / chunk, [&](std::size_t task) {
    const std::size_t begin = task * chunk, end = std::min(n, begin + chunk);
    for (std::size_t i = begin; i < end; ++i) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard lock(failure_lock);
        if (i < failed_at) {
          failed_at = i;
          failure = std::current_exception();
        }
      }
      if (progress) progress->fetch_add(1, std::memory_order_relaxed);
    }
  });
  if (failure) std::rethrow_exception(failure);
}

/// parallel_chunks on a pool of its own: `threads` threads, the caller's included (0: all hardware
/// threads), never more than there are chunks.
/// Throws: as parallel_chunks; slotdiff::options_error naming `who` when the system refuses a thread
/// (detail::thread_pool joins the started ones first).
template <class Fn>
void parallel_indices(std::size_t n, std::size_t threads, std::size_t chunk, std::atomic<std::size_t>* progress, Fn&& fn,
                      const char* who = "noise_corpus") {
  threads = threads ? threads : std::max<std::size_t>(1, std::thread::hardware_concurrency());
  chunk = std::max<std::size_t>(1, chunk);
  threads = std::max<std::size_t>(1, std::min(threads, (n + chunk - 1) / chunk));
  thread_pool pool(threads, who);
  parallel_chunks(pool, n, chunk, progress, std::forward<Fn>(fn));
}
}  // namespace detail

/// Noises every sentence; result[i] is sentence i's trajectory with noise_options.seed =
/// sentence_seed(opts.seed, first_index + i), identical for any thread count.
/// `noise_one(tokens, options)` is the noiser, e.g. a lambda calling noise<Layout>(tokens, scorer, options).
/// Throws: the exception of the lowest-numbered sentence that failed, after all threads stopped;
/// slotdiff::options_error ("noise_corpus: could not start thread ...") when the system refuses a
/// worker thread, after the started ones were joined. Complexity: the sum of the sentences' costs,
/// spread over the threads.
template <class Trajectory, class Sentences, class NoiseOne>
std::vector<Trajectory> noise_corpus(const Sentences& sentences, NoiseOne&& noise_one, const noise_options& opts,
                                     const corpus_options& copts = {}, std::uint64_t first_index = 0) {
  const std::size_t n = std::size(sentences);
  if (!copts.indices.empty() && copts.indices.size() != n)
    throw input_error("noise_corpus: " + std::to_string(copts.indices.size()) + " indices for " + std::to_string(n) + " sentences");
  std::vector<Trajectory> out(n);
  detail::parallel_indices(n, copts.threads, copts.chunk, copts.progress, [&](std::size_t i) {
    noise_options local = opts;
    local.seed = sentence_seed(opts.seed, copts.indices.empty() ? first_index + i : copts.indices[i]);
    out[i] = noise_one(std::span<const token_id>(std::data(sentences[i]), std::size(sentences[i])), local);
  });
  return out;
}

/// How noise_corpus_samples draws several trajectories per sentence.
struct corpus_sampling {
  std::size_t trajectories = 1;  ///< K: trajectories wanted per sentence
  /// Keep only distinct trajectories, drawing up to `attempts_per_trajectory * K` times; a sentence
  /// that has fewer than K distinct trajectories (a short one) gets all it found. Off: exactly K,
  /// duplicates allowed.
  bool distinct = true;
  std::size_t attempts_per_trajectory = 4;
};

/// Up to K trajectories of every sentence: result[i][a] is drawn with noise_options.seed =
/// trajectory_seed(sentence_seed(opts.seed, index_i), attempt), so result[i][0] is noise_corpus's
/// trajectory and the whole result is the same for any thread count and any sharding. The draws
/// differ only when noising is stochastic: opts.temperature > 0, a random schedule, or a scorer
/// that the caller seeds from the options (`noise_one` sees each attempt's seed).
/// Throws: error if K is 0; otherwise as noise_corpus.
/// Complexity: up to attempts_per_trajectory * K noisings per sentence, plus O(K^2 n) comparisons.
template <class Trajectory, class Sentences, class NoiseOne>
std::vector<std::vector<Trajectory>> noise_corpus_samples(const Sentences& sentences, NoiseOne&& noise_one,
                                                          const noise_options& opts, const corpus_sampling& sopts,
                                                          const corpus_options& copts = {}, std::uint64_t first_index = 0) {
  const std::size_t n = std::size(sentences), K = sopts.trajectories;
  if (K == 0) throw options_error("noise_corpus_samples: 0 trajectories per sentence asked for");
  if (!copts.indices.empty() && copts.indices.size() != n)
    throw input_error("noise_corpus_samples: " + std::to_string(copts.indices.size()) + " indices for " + std::to_string(n) +
                      " sentences");
  std::vector<std::vector<Trajectory>> out(n);
  const std::size_t attempts = sopts.distinct ? std::max<std::size_t>(1, sopts.attempts_per_trajectory) * K : K;
  detail::parallel_indices(n, copts.threads, copts.chunk, copts.progress, [&](std::size_t i) {
    noise_options local = opts;
    const std::uint64_t base = sentence_seed(opts.seed, copts.indices.empty() ? first_index + i : copts.indices[i]);
    const std::span<const token_id> tokens(std::data(sentences[i]), std::size(sentences[i]));
    auto& mine = out[i];
    mine.reserve(K);
    for (std::size_t a = 0; a < attempts && mine.size() < K; ++a) {
      local.seed = trajectory_seed(base, a);
      Trajectory tr = noise_one(tokens, local);
      if (sopts.distinct && std::find(mine.begin(), mine.end(), tr) != mine.end()) continue;
      mine.push_back(std::move(tr));
    }
  }, "noise_corpus_samples");
  return out;
}

}  // namespace slotdiff
