// slotdiff/detail/thread_pool.hpp: the one small fixed pool of the library: the reference forward
// pass splits its matrix products and attention heads over it, and noise_corpus its sentences.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "slotdiff/detail/threads.hpp"

namespace slotdiff::detail {

/// `threads - 1` workers plus the calling thread. run(n, f) calls f(0..n-1), each index once, spread
/// over all of them, and returns when every call has returned (rethrowing the first exception).
/// One run at a time: a pool is owned by one object (a reference model, one noise_corpus call),
/// which is not used concurrently. Which thread runs an index is not fixed: callers that want the
/// same result at any thread count make each index's work independent of the thread (the reference
/// model's fixed tiles, noise_corpus's per-sentence seeds).
/// Workers spin briefly (about 20 us) for the next run before they sleep on the condition variable:
/// a forward pass issues dozens of runs back to back, and a futex wake-up per run costs more than
/// the small matrix products of a short batch.
class thread_pool {
public:
  /// `threads` threads, the caller's included (0 counts as 1). `who` names the pool's user in the
  /// error below ("reference model", "noise_corpus").
  /// Throws: slotdiff::options_error (detail::throw_thread_start) when the system refuses a worker
  /// thread; the started ones are stopped and joined first (a std::thread destroyed while joinable
  /// would call std::terminate).
  explicit thread_pool(std::size_t threads, const char* who = "reference model") {
    if (threads == 0) threads = 1;
    workers_.reserve(threads - 1);
    for (std::size_t i = 1; i < threads; ++i) {
      try {
        workers_.push_back(start_thread(i, [this] { loop(); }));
      } catch (const std::exception& e) {
        stop_workers();
        throw_thread_start(who, i, threads, e);
      }
    }
  }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() { stop_workers(); }

  std::size_t size() const noexcept { return workers_.size() + 1; }

  template <class F>
  void run(std::size_t n, F&& f) {
    if (n == 0) return;
    if (workers_.empty() || n == 1) {
      for (std::size_t i = 0; i < n; ++i) f(i);
      return;
    }
    auto call = [](void* ctx, std::size_t i) { (*static_cast<std::remove_reference_t<F>*>(ctx))(i); };
    {
      std::lock_guard lk(m_);
      job_ = call;
      ctx_ = static_cast<void*>(&f);
      tasks_ = n;
      next_.store(0, std::memory_order_relaxed);
      pending_.store(workers_.size(), std::memory_order_relaxed);
      error_ = nullptr;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    work();
    for (int i = 0; i < 2000 && pending_.load(std::memory_order_acquire) != 0; ++i) relax();
    std::unique_lock lk(m_);
    done_.wait(lk, [&] { return pending_.load(std::memory_order_relaxed) == 0; });
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

private:
  void stop_workers() noexcept {
    {
      std::lock_guard lk(m_);
      stop_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }
  void work() {
    for (;;) {
      const std::size_t i = next_.fetch_add(1, std::memory_order_relaxed);
      if (i >= tasks_) return;
      try {
        job_(ctx_, i);
      } catch (...) {
        std::lock_guard lk(m_);
        if (!error_) error_ = std::current_exception();
      }
    }
  }
  static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    std::this_thread::yield();
#endif
  }
  void loop() {
    std::size_t seen = 0;
    for (;;) {
      for (int i = 0; i < 2000 && generation_.load(std::memory_order_acquire) == seen; ++i) relax();
      std::unique_lock lk(m_);
      wake_.wait(lk, [&] { return generation_.load(std::memory_order_relaxed) != seen; });
      seen = generation_.load(std::memory_order_relaxed);
      if (stop_) return;
      lk.unlock();
      work();
      lk.lock();
      if (pending_.fetch_sub(1, std::memory_order_release) == 1) done_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex m_;
  std::condition_variable wake_, done_;
  void (*job_)(void*, std::size_t) = nullptr;
  void* ctx_ = nullptr;
  std::size_t tasks_ = 0;
  std::atomic<std::size_t> next_{0};
  std::atomic<std::size_t> pending_{0};
  std::atomic<std::size_t> generation_{0};
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace slotdiff::detail
