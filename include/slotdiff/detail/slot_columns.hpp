// slotdiff/detail/slot_columns.hpp: what the four slot sequences share: two columns (tokens and
// births), the vocabulary bound, the step counter, the batch scratch, and the members that only
// read them. Each sequence derives from slot_columns<Itself, ...> and says how long it is (`size()`),
// where token i lives (`cell(i)`) and how a column is copied out (`copy_column`); apply, reserve and
// the iterators stay its own.
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/detail/batch.hpp"
#include "slotdiff/types/insertion.hpp"
#include "slotdiff/types/token.hpp"

namespace slotdiff::detail {

/// `Allocator` as the slot sequences take it (void: std::allocator), rebound to T.
template <class Allocator, class T>
using slot_allocator_for =
    typename std::allocator_traits<std::conditional_t<std::is_void_v<Allocator>, std::allocator<T>, Allocator>>::
        template rebind_alloc<T>;

/// The member types of an iterator that returns tokens by value (gap_buffer_slots, gapped_slots:
/// their tokens are not stored in one run). Its `reference` is not a real reference, so, like
/// std::ranges::iota_view's, it is an input iterator to the C++17 traits (iterator_category) and
/// shows its real strength, `Concept`, to the C++20 concepts (iterator_concept).
template <class Concept>
struct by_value_token_iterator {
  using iterator_category = std::input_iterator_tag;
  using iterator_concept = Concept;
  using value_type = token_id;
  using difference_type = std::ptrdiff_t;
  using reference = token_id;
};

/// The shared part of a slot sequence (CRTP). Derived provides `std::size_t size() const`,
/// `std::size_t cell(std::size_t i) const` (the cell of both columns that holds token i, for
/// i < size()) and `void copy_column(const Column& column, std::span<T> out) const` (out[i] = the
/// cell of `column` that holds token i, out.size() == size()), and declares this class a friend if
/// they are private. Shapes: both columns hold the same number of cells; the live ones are
/// cell(0) < cell(1) < ... < cell(size() - 1).
template <class Derived, class Layout, class TokenColumn, class BirthColumn>
class slot_columns {
  static_assert(check_slot_layout<Layout>());

public:
  using layout_type = Layout;
  using value_type = token_id;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using allocator_type = typename TokenColumn::allocator_type;

  /// size() == 0. Complexity: O(1). Throws: nothing.
  bool empty() const noexcept { return size() == 0; }
  /// Slots the next step may fill: Layout::slot_count(size()). Complexity: O(1). Throws: nothing.
  std::size_t slot_count() const noexcept { return Layout::slot_count(size()); }
  /// Steps applied so far (a step that inserts nothing counts). Complexity: O(1). Throws: nothing.
  step_index step() const noexcept { return step_; }
  /// The exclusive upper bound on token ids. Complexity: O(1). Throws: nothing.
  token_id vocabulary() const noexcept { return vocab_; }
  /// The allocator of the token column (the birth column's is the same, rebound).
  /// Complexity: O(1). Throws: nothing.
  allocator_type get_allocator() const noexcept { return tokens_.get_allocator(); }

  /// Token i. Requires: i < size() (SLOTDIFF_ASSERT). Complexity: that of Derived::cell, O(1) but
  /// for gapped_slots (O(capacity / 64)). Throws: nothing.
  token_id token(std::size_t i) const noexcept {
    SLOTDIFF_ASSERT(i < size());
    return tokens_[self().cell(i)];
  }
  /// The step token i was born at (0 for the initial tokens). Requires: i < size()
  /// (SLOTDIFF_ASSERT). Complexity: as token(i). Throws: nothing.
  step_index birth(std::size_t i) const noexcept {
    SLOTDIFF_ASSERT(i < size());
    return births_[self().cell(i)];
  }

  /// Effects: out[i] = token(i) for every i. Requires: out.size() == size() (SLOTDIFF_ASSERT).
  /// Complexity: O(n), but O(capacity / 64 + n) for gapped_slots. Throws: nothing.
  void copy_tokens(std::span<token_id> out) const noexcept {
    SLOTDIFF_ASSERT(out.size() == size());
    self().copy_column(tokens_, out);
  }
  /// Effects: out[i] = birth(i) for every i. Requires: out.size() == size() (SLOTDIFF_ASSERT).
  /// Complexity: as copy_tokens. Throws: nothing.
  void copy_births(std::span<step_index> out) const noexcept {
    SLOTDIFF_ASSERT(out.size() == size());
    self().copy_column(births_, out);
  }

protected:
  /// Effects: checks every id of `tokens` against [0, vocabulary) and makes two empty columns with
  /// `alloc` (Derived lays the tokens out). Complexity: O(n). Throws: slot_error naming the first
  /// id outside [0, vocabulary) and its position.
  slot_columns(std::span<const token_id> tokens, token_id vocabulary, const allocator_type& alloc)
      : tokens_(alloc), births_(typename BirthColumn::allocator_type(alloc)), vocab_(vocabulary) {
    check_tokens(tokens, vocab_);
  }

  /// `batch` checked against this sequence and sorted by slot (detail::checked_batch).
  /// Complexity: O(k), O(k log k) if unsorted. Throws: slot_error; nothing has changed then.
  std::span<const insertion> checked(insertion_batch batch) {
    return checked_batch<Layout>(batch, size(), vocab_, scratch_);
  }
  /// Effects: ends a step: step() grows by one, then SLOTDIFF_ASSERT(invariants_ok()).
  void end_step() noexcept {
    ++step_;
    SLOTDIFF_ASSERT(self().invariants_ok());
  }
  /// Whether cell c holds a token in [0, vocabulary()) born in [0, step()]; the per-token part of
  /// every invariants_ok. Requires: c < the columns' size.
  bool cell_ok(std::size_t c) const noexcept {
    return tokens_[c] >= 0 && tokens_[c] < vocab_ && births_[c] >= 0 && births_[c] <= step_;
  }
  /// Whether the columns agree in length and the step counter is not negative.
  bool columns_ok() const noexcept { return births_.size() == tokens_.size() && step_ >= 0; }

  TokenColumn tokens_;
  BirthColumn births_;
  std::vector<insertion> scratch_;  // sorted copy of an unsorted batch (std::allocator: checked_batch's type)
  token_id vocab_;
  step_index step_ = 0;

private:
  const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
  // Derived's size() (which hides this one from users), so that the assertions read "i < size()".
  std::size_t size() const noexcept { return self().size(); }
};

/// slot_columns over two std::vectors whose allocator is `Allocator` rebound (void: std::allocator):
/// the columns of gap_buffer_slots and gapped_slots.
template <class Derived, class Layout, class Allocator>
using vector_slot_columns = slot_columns<Derived, Layout, std::vector<token_id, slot_allocator_for<Allocator, token_id>>,
                                         std::vector<step_index, slot_allocator_for<Allocator, step_index>>>;

}  // namespace slotdiff::detail
