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

/// Noises every sentence; result[i] is sentence i's trajectory with noise_options.seed =
/// sentence_seed(opts.seed, first_index + i), identical for any thread count.
/// `noise_one(tokens, options)` is the noiser, e.g. a lambda calling noise<Layout>(tokens, scorer, options).
/// Throws: the exception of the lowest-numbered sentence that failed, after all threads stopped.
/// Complexity: the sum of the sentences' costs, spread over the threads.
template <class Trajectory, class Sentences, class NoiseOne>
std::vector<Trajectory> noise_corpus(const Sentences& sentences, NoiseOne&& noise_one, const noise_options& opts,
                                     const corpus_options& copts = {}, std::uint64_t first_index = 0) {
  const std::size_t n = std::size(sentences);
  if (!copts.indices.empty() && copts.indices.size() != n)
    throw error("noise_corpus: " + std::to_string(copts.indices.size()) + " indices for " + std::to_string(n) + " sentences");
  std::vector<Trajectory> out(n);
  std::size_t threads = copts.threads ? copts.threads : std::max<std::size_t>(1, std::thread::hardware_concurrency());
  const std::size_t chunk = std::max<std::size_t>(1, copts.chunk);
  threads = std::min(threads, (n + chunk - 1) / chunk);
  std::atomic<std::size_t> next{0};
  std::mutex failure_lock;
  std::size_t failed_at = n;
  std::exception_ptr failure;
  auto work = [&] {
    noise_options local = opts;
    for (;;) {
      const std::size_t begin = next.fetch_add(chunk);
      if (begin >= n) return;
      const std::size_t end = std::min(n, begin + chunk);
      for (std::size_t i = begin; i < end; ++i) {
        local.seed = sentence_seed(opts.seed, copts.indices.empty() ? first_index + i : copts.indices[i]);
        try {
          out[i] = noise_one(std::span<const token_id>(std::data(sentences[i]), std::size(sentences[i])), local);
        } catch (...) {
          std::lock_guard lock(failure_lock);
          if (i < failed_at) {
            failed_at = i;
            failure = std::current_exception();
          }
        }
        if (copts.progress) copts.progress->fetch_add(1, std::memory_order_relaxed);
      }
    }
  };
  if (threads <= 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (std::size_t t = 0; t < threads; ++t) pool.emplace_back(work);
    for (auto& th : pool) th.join();
  }
  if (failure) std::rethrow_exception(failure);
  return out;
}

}  // namespace slotdiff
