// slotdiff/detail/contiguous_slots.hpp: the read side shared by slot sequences that keep their
// tokens and births in two contiguous columns (vector_slots, devector_slots).
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "slotdiff/config.hpp"
#include "slotdiff/detail/batch.hpp"
#include "slotdiff/types/insertion.hpp"

namespace slotdiff::detail {

/// `Allocator` as the slot sequences take it (void: std::allocator), rebound to T.
template <class Allocator, class T>
using slot_allocator_for =
    typename std::allocator_traits<std::conditional_t<std::is_void_v<Allocator>, std::allocator<T>, Allocator>>::
        template rebind_alloc<T>;

/// Tokens and births in two columns of one container kind. Shapes: both columns hold size() cells;
/// cell i of the token column is token i, cell i of the birth column the step token i was born at.
template <class Layout, class TokenColumn, class BirthColumn>
class contiguous_slots {
public:
  using layout_type = Layout;
  using value_type = token_id;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using allocator_type = typename TokenColumn::allocator_type;
  /// Contiguous: a pointer into the token column (the tokens are stored, so it returns references).
  using const_iterator = const token_id*;
  using iterator = const_iterator;  // tokens change only through apply

  /// Effects: a sequence holding `tokens`, all born at step 0, at step 0, with ids checked against
  /// [0, vocabulary). Complexity: O(n). Throws: slot_error naming the first id outside [0,
  /// vocabulary) and its position; std::bad_alloc; whatever the allocator throws.
  explicit contiguous_slots(std::span<const token_id> tokens = {}, token_id vocabulary = unbounded_vocabulary,
                            const allocator_type& alloc = allocator_type())
      : tokens_(alloc), births_(typename BirthColumn::allocator_type(alloc)), vocab_(vocabulary) {
    check_tokens(tokens, vocab_);
    tokens_.assign(tokens.begin(), tokens.end());
    births_.assign(tokens.size(), step_index{0});
  }
  /// Effects, Complexity, Throws: as the span constructor.
  contiguous_slots(std::initializer_list<token_id> tokens, token_id vocabulary = unbounded_vocabulary,
                   const allocator_type& alloc = allocator_type())
      : contiguous_slots(std::span<const token_id>(tokens.begin(), tokens.size()), vocabulary, alloc) {}

  /// Tokens now. Complexity: O(1). Throws: nothing.
  std::size_t size() const noexcept { return tokens_.size(); }
  /// size() == 0. Complexity: O(1). Throws: nothing.
  bool empty() const noexcept { return tokens_.empty(); }
  /// Slots the next step may fill: Layout::slot_count(size()). Complexity: O(1). Throws: nothing.
  std::size_t slot_count() const noexcept { return Layout::slot_count(size()); }
  /// Steps applied so far (a step that inserts nothing counts). Complexity: O(1). Throws: nothing.
  step_index step() const noexcept { return step_; }
  /// The exclusive upper bound on token ids. Complexity: O(1). Throws: nothing.
  token_id vocabulary() const noexcept { return vocab_; }
  /// The allocator both columns were built with. Complexity: O(1). Throws: nothing.
  allocator_type get_allocator() const noexcept { return tokens_.get_allocator(); }

  /// Token i. Requires: i < size() (SLOTDIFF_ASSERT). Complexity: O(1). Throws: nothing.
  token_id token(std::size_t i) const noexcept {
    SLOTDIFF_ASSERT(i < size());
    return tokens_[i];
  }
  /// The step token i was born at (0 for the initial tokens). Requires: i < size() (SLOTDIFF_ASSERT).
  /// Complexity: O(1). Throws: nothing.
  step_index birth(std::size_t i) const noexcept {
    SLOTDIFF_ASSERT(i < size());
    return births_[i];
  }

  /// The tokens as one contiguous span of size() ids, valid until the next apply or reserve.
  /// Complexity: O(1). Throws: nothing.
  std::span<const token_id> tokens() const noexcept { return {tokens_.data(), tokens_.size()}; }
  /// The births as one contiguous span of size() steps, valid until the next apply or reserve.
  /// Complexity: O(1). Throws: nothing.
  std::span<const step_index> births() const noexcept { return {births_.data(), births_.size()}; }

  /// Effects: out[i] = token(i) for every i. Requires: out.size() == size() (SLOTDIFF_ASSERT).
  /// Complexity: O(n). Throws: nothing.
  void copy_tokens(std::span<token_id> out) const noexcept {
    SLOTDIFF_ASSERT(out.size() == size());
    std::copy(tokens_.begin(), tokens_.end(), out.begin());
  }
  /// Effects: out[i] = birth(i) for every i. Requires: out.size() == size() (SLOTDIFF_ASSERT).
  /// Complexity: O(n). Throws: nothing.
  void copy_births(std::span<step_index> out) const noexcept {
    SLOTDIFF_ASSERT(out.size() == size());
    std::copy(births_.begin(), births_.end(), out.begin());
  }

  /// The tokens in order, as contiguous iterators (invalidated by apply and reserve).
  /// Complexity: O(1). Throws: nothing.
  const_iterator begin() const noexcept { return tokens_.data(); }
  const_iterator end() const noexcept { return tokens_.data() + tokens_.size(); }

  /// Whether the representation is consistent: both columns size() long, every token in
  /// [0, vocabulary()), every birth in [0, step()]. A test hook and what SLOTDIFF_ASSERT checks
  /// after every apply. Complexity: O(n). Throws: nothing.
  bool invariants_ok() const noexcept {
    if (births_.size() != tokens_.size() || step_ < 0) return false;
    for (std::size_t i = 0; i < tokens_.size(); ++i) {
      if (tokens_[i] < 0 || tokens_[i] >= vocab_ || births_[i] < 0 || births_[i] > step_) return false;
    }
    return true;
  }

protected:
  columns cells() noexcept { return {tokens_.data(), births_.data()}; }

  TokenColumn tokens_;
  BirthColumn births_;
  std::vector<insertion> scratch_;  // sorted copy of an unsorted batch (std::allocator: detail::checked_batch's type)
  token_id vocab_;
  step_index step_ = 0;
};

}  // namespace slotdiff::detail
