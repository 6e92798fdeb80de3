// slotdiff/slots/gap_buffer_slots.hpp: a slot sequence with one movable gap (an editor's buffer).
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <span>
#include <vector>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/detail/batch.hpp"
#include "slotdiff/slots/insertion.hpp"
#include "slotdiff/slots/layout.hpp"

namespace slotdiff {

/// Tokens and births in one buffer with a single run of free cells, the gap, that moves to where
/// insertions happen and stays there. Insertions clustered around one place (an editor's cursor, a
/// generation that grows one phrase) cost only the distance the gap travels.
///
/// apply Complexity: O(d + k), d the distance from the gap's current place to the batch's last
/// insertion through its first; a full rebuild O(n + k) when the gap is too small (capacity doubles,
/// so amortised O(k)). token(i) is O(1). Throws: slot_error, std::bad_alloc (sequence unchanged).
template <slot_layout Layout = side_layout>
class gap_buffer_slots {
public:
  using layout_type = Layout;

  class const_iterator {
  public:
    using iterator_category = std::random_access_iterator_tag;
    using iterator_concept = std::random_access_iterator_tag;
    using value_type = token_id;
    using difference_type = std::ptrdiff_t;
    using reference = token_id;

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

  explicit gap_buffer_slots(std::span<const token_id> tokens = {}, token_id vocabulary = unbounded_vocabulary)
      : vocab_(vocabulary) {
    detail::check_tokens(tokens, vocab_);
    const std::size_t cap = std::max<std::size_t>(16, tokens.size() + tokens.size() / 2);
    tokens_.resize(cap);
    births_.assign(cap, 0);
    std::copy(tokens.begin(), tokens.end(), tokens_.begin());
    gap_begin_ = tokens.size();
    gap_end_ = cap;
  }
  gap_buffer_slots(std::initializer_list<token_id> tokens, token_id vocabulary = unbounded_vocabulary)
      : gap_buffer_slots(std::span<const token_id>(tokens.begin(), tokens.size()), vocabulary) {}

  std::size_t size() const noexcept { return tokens_.size() - (gap_end_ - gap_begin_); }
  bool empty() const noexcept { return size() == 0; }
  std::size_t slot_count() const noexcept { return Layout::slot_count(size()); }
  step_index step() const noexcept { return step_; }
  token_id vocabulary() const noexcept { return vocab_; }
  /// Where the gap is: the number of tokens before it.
  std::size_t cursor() const noexcept { return gap_begin_; }

  token_id token(std::size_t i) const noexcept { return tokens_[cell(i)]; }
  step_index birth(std::size_t i) const noexcept { return births_[cell(i)]; }

  void copy_tokens(std::span<token_id> out) const noexcept { copy_column(tokens_, out); }
  void copy_births(std::span<step_index> out) const noexcept { copy_column(births_, out); }

  const_iterator begin() const noexcept { return {this, 0}; }
  const_iterator end() const noexcept { return {this, size()}; }

  /// Room for `capacity` tokens: steps that stay within it do not allocate.
  void reserve(std::size_t capacity) {
    if (capacity > tokens_.size()) regrow(capacity, gap_begin_);
  }

  void apply(insertion_batch batch) {
    const std::size_t n = size();
    auto sorted = detail::checked_batch<Layout>(batch, n, vocab_, scratch_);
    const std::size_t k = sorted.size();
    if (k != 0) {
      const step_index born = step_ + 1;
      if (gap_end_ - gap_begin_ < k) regrow(std::max(n + k, n + n / 2), Layout::gap_of(sorted.front().slot, n));
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
    ++step_;
  }

private:
  std::size_t cell(std::size_t i) const noexcept { return i < gap_begin_ ? i : i + (gap_end_ - gap_begin_); }

  template <class T>
  void copy_column(const std::vector<T>& col, std::span<T> out) const noexcept {
    assert(out.size() == size());
    auto it = std::copy(col.begin(), col.begin() + static_cast<std::ptrdiff_t>(gap_begin_), out.begin());
    std::copy(col.begin() + static_cast<std::ptrdiff_t>(gap_end_), col.end(), it);
  }

  // Puts the gap right before logical position p (p tokens precede it).
  void move_gap_to(std::size_t p) noexcept {
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

  // Rebuilds into a buffer of at least `need` tokens with the gap placed before logical position p.
  void regrow(std::size_t need, std::size_t p) {
    const std::size_t cap = std::max(need, tokens_.size() * 2);
    std::vector<token_id> t(cap);
    std::vector<step_index> b(cap);  // both allocated before anything changes
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

  std::vector<token_id> tokens_;
  std::vector<step_index> births_;
  std::size_t gap_begin_ = 0, gap_end_ = 0;
  std::vector<insertion> scratch_;
  token_id vocab_;
  step_index step_ = 0;
};

}  // namespace slotdiff
