// slotdiff/detail/contiguous_slots.hpp: the read side shared by slot sequences that keep their
// tokens and births in two contiguous columns (vector_slots, devector_slots).
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <span>

#include "slotdiff/config.hpp"
#include "slotdiff/detail/batch.hpp"
#include "slotdiff/detail/slot_columns.hpp"
#include "slotdiff/types/insertion.hpp"

namespace slotdiff::detail {

/// Tokens and births in two columns of one container kind, `Column<token_id, Allocator>` and
/// `Column<step_index, Allocator>`, with no free cells between tokens. Shapes: both columns hold
/// size() cells; cell i of the token column is token i, cell i of the birth column the step token i
/// was born at. The members every slot sequence has come from slot_columns.
template <class Layout, class Allocator, template <class, class> class Column>
class contiguous_slots
    : public slot_columns<contiguous_slots<Layout, Allocator, Column>, Layout, Column<token_id, Allocator>,
                          Column<step_index, Allocator>> {
  using base = slot_columns<contiguous_slots, Layout, Column<token_id, Allocator>, Column<step_index, Allocator>>;
  friend base;

public:
  using typename base::allocator_type;
  /// Contiguous: a pointer into the token column (the tokens are stored, so it returns references).
  using const_iterator = const token_id*;
  using iterator = const_iterator;  // tokens change only through apply

  /// Effects: a sequence holding `tokens`, all born at step 0, at step 0, with ids checked against
  /// [0, vocabulary). Complexity: O(n). Throws: slot_error naming the first id outside [0,
  /// vocabulary) and its position; std::bad_alloc; whatever the allocator throws.
  explicit contiguous_slots(std::span<const token_id> tokens = {}, token_id vocabulary = unbounded_vocabulary,
                            const allocator_type& alloc = allocator_type())
      : base(tokens, vocabulary, alloc) {
    this->tokens_.assign(tokens.begin(), tokens.end());
    this->births_.assign(tokens.size(), step_index{0});
  }
  /// Effects, Complexity, Throws: as the span constructor.
  contiguous_slots(std::initializer_list<token_id> tokens, token_id vocabulary = unbounded_vocabulary,
                   const allocator_type& alloc = allocator_type())
      : contiguous_slots(std::span<const token_id>(tokens.begin(), tokens.size()), vocabulary, alloc) {}

  /// Tokens now. Complexity: O(1). Throws: nothing.
  std::size_t size() const noexcept { return this->tokens_.size(); }

  /// The tokens as one contiguous span of size() ids, valid until the next apply or reserve.
  /// Complexity: O(1). Throws: nothing.
  std::span<const token_id> tokens() const noexcept { return {this->tokens_.data(), this->tokens_.size()}; }
  /// The births as one contiguous span of size() steps, valid until the next apply or reserve.
  /// Complexity: O(1). Throws: nothing.
  std::span<const step_index> births() const noexcept { return {this->births_.data(), this->births_.size()}; }

  /// The tokens in order, as contiguous iterators (invalidated by apply and reserve).
  /// Complexity: O(1). Throws: nothing.
  const_iterator begin() const noexcept { return this->tokens_.data(); }
  /// One past the last token. Complexity: O(1). Throws: nothing.
  const_iterator end() const noexcept { return this->tokens_.data() + this->tokens_.size(); }

  /// Whether the representation is consistent: both columns size() long, every token in
  /// [0, vocabulary()), every birth in [0, step()]. A test hook and what SLOTDIFF_ASSERT checks
  /// after every apply. Complexity: O(n). Throws: nothing.
  bool invariants_ok() const noexcept {
    if (!this->columns_ok()) return false;
    for (std::size_t c = 0; c < size(); ++c) {
      if (!this->cell_ok(c)) return false;
    }
    return true;
  }

protected:
  columns cells() noexcept { return {this->tokens_.data(), this->births_.data()}; }

private:
  static std::size_t cell(std::size_t i) noexcept { return i; }
  template <class Column_, class T>
  static void copy_column(const Column_& column, std::span<T> out) noexcept {
    std::copy(column.begin(), column.end(), out.begin());
  }
};

}  // namespace slotdiff::detail
