// slotdiff/backends/callback.hpp: any callable as a full-distribution backend.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <utility>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/denoise/ragged_batch.hpp"
#include "slotdiff/error.hpp"

namespace slotdiff {

/// Wraps `f(const ragged_batch&, std::span<float> log_probs)`, which fills (total slots) x vocabulary
/// normalised log-probabilities, row per slot. The loop checks what it writes.
///
///     auto b = callback_backend<side_layout, decltype(f)>(f, 8000, tokenizer::none);
template <slot_layout Layout, class F>
class callback_backend {
public:
  using layout_type = Layout;

  callback_backend(F f, std::size_t vocabulary, token_id none) : f_(std::move(f)), vocab_(vocabulary), none_(none) {
    if (none < 0 || static_cast<std::size_t>(none) >= vocabulary)
      throw options_error("callback_backend none id " + std::to_string(none) + " outside the vocabulary of " +
                          std::to_string(vocabulary));
  }

  std::size_t vocabulary_size() const noexcept { return vocab_; }
  token_id none_id() const noexcept { return none_; }

  std::size_t log_probs(const ragged_batch& batch, std::span<float> out) {
    std::size_t slots = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) slots += Layout::slot_count(batch.length(i));
    if (out.size() != slots * vocab_)
      throw input_error("callback_backend output holds " + std::to_string(out.size()) + " floats, needs " +
                        std::to_string(slots * vocab_));
    f_(batch, out);
    return slots;
  }

private:
  F f_;
  std::size_t vocab_;
  token_id none_;
};

}  // namespace slotdiff
