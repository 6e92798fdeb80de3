// slotdiff/detail/contiguous_slots.hpp: the read side shared by slot sequences that keep their
// tokens and births in two contiguous columns (vector_slots, devector_slots).
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <initializer_list>
#include <span>
#include <vector>

#include "slotdiff/config.hpp"
#include "slotdiff/detail/batch.hpp"
#include "slotdiff/slots/insertion.hpp"

namespace slotdiff::detail {

template <class Layout, template <class> class Column>
class contiguous_slots {
public:
  using layout_type = Layout;
  using const_iterator = const token_id*;

  /// Throws slot_error if a token lies outside [0, vocabulary).
  explicit contiguous_slots(std::span<const token_id> tokens = {}, token_id vocabulary = unbounded_vocabulary)
      : vocab_(vocabulary) {
    check_tokens(tokens, vocab_);
    tokens_.assign(tokens.begin(), tokens.end());
    births_.assign(tokens.size(), step_index{0});
  }
  contiguous_slots(std::initializer_list<token_id> tokens, token_id vocabulary = unbounded_vocabulary)
      : contiguous_slots(std::span<const token_id>(tokens.begin(), tokens.size()), vocabulary) {}

  std::size_t size() const noexcept { return tokens_.size(); }
  bool empty() const noexcept { return tokens_.empty(); }
  std::size_t slot_count() const noexcept { return Layout::slot_count(size()); }
  step_index step() const noexcept { return step_; }
  token_id vocabulary() const noexcept { return vocab_; }

  /// Requires: i < size(). Complexity: O(1).
  token_id token(std::size_t i) const noexcept { return tokens_[i]; }
  step_index birth(std::size_t i) const noexcept { return births_[i]; }

  /// The tokens as one contiguous span, valid until the next apply.
  std::span<const token_id> tokens() const noexcept { return {tokens_.data(), tokens_.size()}; }
  std::span<const step_index> births() const noexcept { return {births_.data(), births_.size()}; }

  void copy_tokens(std::span<token_id> out) const noexcept {
    assert(out.size() == size());
    std::copy(tokens_.begin(), tokens_.end(), out.begin());
  }
  void copy_births(std::span<step_index> out) const noexcept {
    assert(out.size() == size());
    std::copy(births_.begin(), births_.end(), out.begin());
  }

  const_iterator begin() const noexcept { return tokens_.data(); }
  const_iterator end() const noexcept { return tokens_.data() + tokens_.size(); }

protected:
  columns cells() noexcept { return {tokens_.data(), births_.data()}; }

  Column<token_id> tokens_;
  Column<step_index> births_;
  std::vector<insertion> scratch_;  // sorted copy of an unsorted batch
  token_id vocab_;
  step_index step_ = 0;
};

}  // namespace slotdiff::detail
