// slotdiff/detail/threads.hpp: starting worker threads so that a failure is an error, not
// std::terminate.
//
// std::thread's constructor throws std::system_error when the system refuses a thread (EAGAIN: a
// process or memory limit). A std::vector<std::thread> destroyed while it holds joinable threads
// calls std::terminate, so every pool in slotdiff starts its workers through start_thread and, when
// one fails, stops and joins the ones already running before it throws slotdiff::error.
#pragma once

#include <cstddef>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "slotdiff/error.hpp"

namespace slotdiff::detail {

/// Test hook: when set, called with the worker's index before each thread is started; a throw
/// from it stands for a failed std::thread construction. Not for use outside tests; set it only
/// while no pool is starting threads.
inline void (*thread_start_hook)(std::size_t index) = nullptr;

/// std::thread(f), through thread_start_hook. Throws what std::thread throws (std::system_error).
template <class F>
std::thread start_thread(std::size_t index, F&& f) {
  if (thread_start_hook) thread_start_hook(index);
  return std::thread(std::forward<F>(f));
}

/// The error a pool throws after joining the threads it had started: an options_error, since the
/// remedy is a smaller thread count (or a higher process limit). The message starts with `who`.
[[noreturn]] inline void throw_thread_start(const std::string& who, std::size_t index, std::size_t wanted,
                                            const std::exception& cause) {
  throw options_error(who + ": could not start thread " + std::to_string(index + 1) + " of " +
              std::to_string(wanted) + " (" + cause.what() + "); the threads already started were joined. " +
              "Ask for fewer threads or raise the process limit");
}

}  // namespace slotdiff::detail
