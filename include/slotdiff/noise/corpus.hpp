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
#include <vector>

#include "slotdiff/detail/threads.hpp"
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
/// Runs fn(i) for i in [0, n) on `threads` threads, `chunk` indices at a time; rethrows the exception
/// of the lowest failing index after all threads stopped; bumps *progress once per index.
/// Throws: slotdiff::error naming `who` when a thread cannot be started (after joining the others).
template <class Fn>
void parallel_indices(std::size_t n, std::size_t threads, std::size_t chunk, std::atomic<std::size_t>* progress, Fn&& fn,
                      const char* who = "noise_corpus") {
  threads = threads ? threads : std::max<std::size_t>(1, std::thread::hardware_concurrency());
  chunk = std::max<std::size_t>(1, chunk);
  threads = std::min(threads, (n + chunk - 1) / chunk);
  std::atomic<std::size_t> next{0};
  std::mutex failure_lock;
  std::size_t failed_at = n;
  std::exception_ptr failure;
  auto work = [&] {
    for (;;) {
      const std::size_t begin = next.fetch_add(chunk);
      if (begin >= n) return;
      const std::size_t end = std::min(n, begin + chunk);
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
    }
  };
  if (threads <= 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (std::size_t t = 0; t < threads; ++t) {
      try {
        pool.push_back(start_thread(t, work));
      } catch (const std::exception& e) {
        // Joinable threads must not be destroyed (std::terminate): stop the started ones, join them.
        next.store(n);
        for (auto& th : pool) th.join();
        throw_thread_start(who, t, threads, e);
      }
    }
    for (auto& th : pool) th.join();
  }
  if (failure) std::rethrow_exception(failure);
}
}  // namespace detail

/// Noises every sentence; result[i] is sentence i's trajectory with noise_options.seed =
/// sentence_seed(opts.seed, first_index + i), identical for any thread count.
/// `noise_one(tokens, options)` is the noiser, e.g. a lambda calling noise<Layout>(tokens, scorer, options).
/// Throws: the exception of the lowest-numbered sentence that failed, after all threads stopped;
/// slotdiff::error ("slotdiff: noise_corpus: could not start thread ...") when the system refuses a
/// worker thread, after the started ones were joined. Complexity: the sum of the sentences' costs,
/// spread over the threads.
template <class Trajectory, class Sentences, class NoiseOne>
std::vector<Trajectory> noise_corpus(const Sentences& sentences, NoiseOne&& noise_one, const noise_options& opts,
                                     const corpus_options& copts = {}, std::uint64_t first_index = 0) {
  const std::size_t n = std::size(sentences);
  if (!copts.indices.empty() && copts.indices.size() != n)
    throw error("noise_corpus: " + std::to_string(copts.indices.size()) + " indices for " + std::to_string(n) + " sentences");
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
  if (K == 0) throw error("noise_corpus_samples: 0 trajectories per sentence asked for");
  if (!copts.indices.empty() && copts.indices.size() != n)
    throw error("noise_corpus_samples: " + std::to_string(copts.indices.size()) + " indices for " + std::to_string(n) +
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
