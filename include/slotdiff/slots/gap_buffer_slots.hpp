// slotdiff/slots/gap_buffer_slots.hpp: a slot sequence with one movable gap (an editor's buffer).
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <span>
#include <vector>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/detail/batch.hpp"
#include "slotdiff/detail/contiguous_slots.hpp"
#include "slotdiff/slots/layout.hpp"
#include "slotdiff/slots/options.hpp"
#include "slotdiff/types/insertion.hpp"

namespace slotdiff {

/// Tokens and births in one buffer with a single run of free cells, the gap, that moves to where
/// insertions happen and stays there. Insertions clustered around one place (an editor's cursor, a
/// generation that grows one phrase) cost only the distance the gap travels.
///
/// Template parameters: Layout, a slot_layout (default side_layout); Allocator, the allocator of
/// both columns, rebound to token_id and step_index (void: std::allocator); Options, void or a
/// slot_options pack, of which gap_buffer_slots reads growth_factor (default 2: a full buffer is
/// rebuilt with max(needed, capacity * factor) cells).
/// Memory: 8 bytes per cell of capacity (tokens plus the gap).
template <class Layout = side_layout, class Allocator = void, class Options = void>
class gap_buffer_slots
    : public detail::vector_slot_columns<gap_buffer_slots<Layout, Allocator, Options>, Layout, Allocator> {
  static constexpr std::size_t initial_capacity = 16;  // cells of a new buffer at least
  using base = typename gap_buffer_slots::slot_columns;
  friend base;

public:
  using typename base::allocator_type;
  /// The knobs this sequence runs with (Options with its defaults filled in).
  using options = detail::resolved_slot_options<Options, fraction{2, 1}>;

  /// Effects: a sequence holding `tokens`, all born at step 0, at step 0, with ids checked against
  /// [0, vocabulary); capacity max(16, n + n / 2), the gap after the last token.
  /// Complexity: O(n). Throws: slot_error naming the first id outside [0, vocabulary) and its
  /// position; std::bad_alloc; whatever the allocator throws.
  explicit gap_buffer_slots(std::span<const token_id> tokens = {}, token_id vocabulary = unbounded_vocabulary,
                            const allocator_type& alloc = allocator_type())
      : base(tokens, vocabulary, alloc) {
    const std::size_t cap = std::max<std::size_t>(initial_capacity, tokens.size() + tokens.size() / 2);
    tokens_.resize(cap);
    births_.assign(cap, 0);
    std::copy(tokens.begin(), tokens.end(), tokens_.begin());
    gap_begin_ = tokens.size();
    gap_end_ = cap;
  }
  /// Effects, Complexity, Throws: as the span constructor.
  gap_buffer_slots(std::initializer_list<token_id> tokens, token_id vocabulary = unbounded_vocabulary,
                   const allocator_type& alloc = allocator_type())
      : gap_buffer_slots(std::span<const token_id>(tokens.begin(), tokens.size()), vocabulary, alloc) {}

  /// Tokens now. Complexity: O(1). Throws: nothing.
  std::size_t size() const noexcept { return tokens_.size() - (gap_end_ - gap_begin_); }
  /// Where the gap is: the number of tokens before it. Complexity: O(1). Throws: nothing.
  std::size_t cursor() const noexcept { return gap_begin_; }
  /// Cells allocated (tokens plus the gap). Complexity: O(1). Throws: nothing.
  std::size_t capacity() const noexcept { return tokens_.size(); }

  /// A random-access iterator over the tokens that returns them by value (they are not stored in
  /// one run), so, like std::ranges::iota_view's, it is an input iterator to the C++17 traits
  /// (iterator_category) and random access to the C++20 concepts (iterator_concept).
  /// Invalidated by apply and reserve. Every operation is O(1) and throws nothing; dereferencing
  /// requires a position in [0, size()).
  class const_iterator : public detail::by_value_token_iterator<std::random_access_iterator_tag> {
  public:
    const_iterator() = default;
    token_id operator*() const noexcept { return seq_->token(i_); }
    token_id operator[](difference_type d) const noexcept { return seq_->token(i_ + d); }
    const_iterator& operator++() noexcept { ++i_; return *this; }
    const_iterator operator++(int) noexcept { auto t = *this; ++i_; return t; }
    const_iterator& operator--() noexcept { --i_; return *this; }
    const_iterator operator--(int) noexcept { auto t = *this; --i_; return t; }
    const_iterator& operator+=(difference_type d) noexcept { i_ += d; return *this; }
    const_iterator& operator-=(difference_type d) noexcept { i_ -= d; return *this; }
    friend const_iterator operator+(const_iterator a, difference_type d) noexcept { return a += d; }
    friend const_iterator operator+(difference_type d, const_iterator a) noexcept { return a += d; }
    friend const_iterator operator-(const_iterator a, difference_type d) noexcept { return a -= d; }
    friend difference_type operator-(const_iterator a, const_iterator b) noexcept {
      return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
    }
    friend bool operator==(const_iterator a, const_iterator b) noexcept { return a.i_ == b.i_; }
    friend auto operator<=>(const_iterator a, const_iterator b) noexcept { return a.i_ <=> b.i_; }

  private:
    friend class gap_buffer_slots;
    const_iterator(const gap_buffer_slots* s, std::size_t i) : seq_(s), i_(i) {}
    const gap_buffer_slots* seq_ = nullptr;
    std::size_t i_ = 0;
  };

  /// The tokens in order (random access, by value). Complexity: O(1). Throws: nothing.
  const_iterator begin() const noexcept { return {this, 0}; }
  /// One past the last token. Complexity: O(1). Throws: nothing.
  const_iterator end() const noexcept { return {this, size()}; }

  /// Effects: room for `capacity` tokens, so that steps which stay within it do not allocate; the
  /// content and the cursor are unchanged. Complexity: O(capacity) if it reallocates, else O(1).
  /// Throws: std::bad_alloc (sequence unchanged).
  void reserve(std::size_t capacity) {
    if (capacity > tokens_.size()) regrow(capacity, gap_begin_);
  }

  /// Effects: applies one denoising step: every insertion {slot, token} of `batch` puts `token`
  /// into `slot` of the sequence as it was before the step (slots numbered by Layout), born at
  /// step() + 1; then step() grows by one (also for an empty batch). The gap ends next to the
  /// batch's last insertion (walked from the end nearer the gap).
  /// Requires: nothing; the batch is checked (each slot below slot_count(), at most one insertion
  /// per slot, each token in [0, vocabulary())), in any order.
  /// Complexity: O(d + k), d the distance from the gap's place to the batch's far end; a rebuild,
  /// O(n + k), when the gap has fewer than k cells (capacity grows by the growth factor, so
  /// amortised O(k)); O(k log k) more for an unsorted batch.
  /// Throws: slot_error naming the slot or token at fault; std::bad_alloc. Either way the sequence
  /// is unchanged (strong guarantee).
  void apply(insertion_batch batch) {
    const std::size_t n = size();
    auto sorted = this->checked(batch);
    const std::size_t k = sorted.size();
    if (k != 0) {
      const step_index born = step_ + 1;
      if (gap_end_ - gap_begin_ < k)
        regrow(std::max(n + k, options::growth.of(tokens_.size())), Layout::gap_of(sorted.front().slot, n));
      // Walk the batch from the end nearer to the gap, so the gap travels the shortest way.
      if (Layout::gap_of(sorted.back().slot, n) <= gap_begin_) {
        for (std::size_t j = k; j-- > 0;) {
          move_gap_to(Layout::gap_of(sorted[j].slot, n));  // new tokens go right after the gap
          --gap_end_;
          tokens_[gap_end_] = sorted[j].token;
          births_[gap_end_] = born;
        }
      } else {
        for (std::size_t j = 0; j < k; ++j) {
          move_gap_to(Layout::gap_of(sorted[j].slot, n) + j);
          tokens_[gap_begin_] = sorted[j].token;
          births_[gap_begin_] = born;
          ++gap_begin_;
        }
      }
    }
    this->end_step();
  }

  /// Whether the representation is consistent: both columns equally long, the gap inside them,
  /// every live token in [0, vocabulary()), every live birth in [0, step()]. A test hook and what
  /// SLOTDIFF_ASSERT checks after every apply. Complexity: O(capacity). Throws: nothing.
  bool invariants_ok() const noexcept {
    if (!this->columns_ok() || gap_begin_ > gap_end_ || gap_end_ > tokens_.size()) return false;
    for (std::size_t i = 0; i < size(); ++i) {
      if (!this->cell_ok(cell(i))) return false;
    }
    return true;
  }

private:
  using token_column = std::vector<token_id, allocator_type>;
  using birth_column = std::vector<step_index, detail::slot_allocator_for<Allocator, step_index>>;
  using base::births_;
  using base::tokens_;
  using base::step_;

  std::size_t cell(std::size_t i) const noexcept { return i < gap_begin_ ? i : i + (gap_end_ - gap_begin_); }

  template <class Column, class T>
  void copy_column(const Column& col, std::span<T> out) const noexcept {
    auto it = std::copy(col.begin(), col.begin() + static_cast<std::ptrdiff_t>(gap_begin_), out.begin());
    std::copy(col.begin() + static_cast<std::ptrdiff_t>(gap_end_), col.end(), it);
  }

  // Puts the gap right before logical position p (p tokens precede it). Always inlined: apply calls
  // it once per insertion (out of line, bench_slots' dense steps ran 1.5x slower).
  [[gnu::always_inline]] void move_gap_to(std::size_t p) noexcept {
    if (p < gap_begin_) {
      const std::size_t cnt = gap_begin_ - p;
      detail::move_cells(tokens_.data() + gap_end_ - cnt, tokens_.data() + p, cnt);
      detail::move_cells(births_.data() + gap_end_ - cnt, births_.data() + p, cnt);
      gap_begin_ = p;
      gap_end_ -= cnt;
    } else if (p > gap_begin_) {
      const std::size_t cnt = p - gap_begin_;
      detail::move_cells(tokens_.data() + gap_begin_, tokens_.data() + gap_end_, cnt);
      detail::move_cells(births_.data() + gap_begin_, births_.data() + gap_end_, cnt);
      gap_begin_ = p;
      gap_end_ += cnt;
    }
  }

  // Rebuilds into a buffer of `cap` cells (at least size()) with the gap placed before logical
  // position p.
  void regrow(std::size_t cap, std::size_t p) {
    token_column t(cap, tokens_.get_allocator());
    birth_column b(cap, births_.get_allocator());  // both allocated before anything changes
    move_gap_to(p);
    const std::size_t tail = tokens_.size() - gap_end_;
    std::copy(tokens_.begin(), tokens_.begin() + static_cast<std::ptrdiff_t>(gap_begin_), t.begin());
    std::copy(births_.begin(), births_.begin() + static_cast<std::ptrdiff_t>(gap_begin_), b.begin());
    std::copy(tokens_.begin() + static_cast<std::ptrdiff_t>(gap_end_), tokens_.end(), t.end() - static_cast<std::ptrdiff_t>(tail));
    std::copy(births_.begin() + static_cast<std::ptrdiff_t>(gap_end_), births_.end(), b.end() - static_cast<std::ptrdiff_t>(tail));
    tokens_.swap(t);
    births_.swap(b);
    gap_end_ = cap - tail;
  }

  std::size_t gap_begin_ = 0, gap_end_ = 0;
};

}  // namespace slotdiff
