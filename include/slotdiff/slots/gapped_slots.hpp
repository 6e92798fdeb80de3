// slotdiff/slots/gapped_slots.hpp: a slot sequence on a packed-memory array.
#pragma once

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <span>
#include <vector>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/detail/batch.hpp"
#include "slotdiff/detail/bits.hpp"
#include "slotdiff/slots/insertion.hpp"
#include "slotdiff/slots/layout.hpp"

namespace slotdiff {

/// A packed-memory array: tokens sit in cells with free cells spread between them, so an insertion
/// next to a token usually lands in a free cell of its gap and touches nothing else (when every gap
/// of a step has room for its insertions), or else rewrites only its own block of 64 cells. A block that would overflow is
/// rebalanced with its smallest enclosing aligned window (2, 4, 8... blocks) whose density stays under
/// a threshold that falls from 1 at one block to 0.7 at the whole array; past that the array doubles.
/// One 64-bit word per block marks the occupied cells, so rank and select are popcounts.
///
/// apply Complexity: O(B + k) when every gap has room for its insertions, else O(B + k + (blocks
/// rewritten) * 64), B = cap / 64 the number of blocks (the rank sweep); amortised O(log^2 n) cell
/// moves per insertion, the packed-memory-array bound.
/// token(i) and birth(i) are O(B) (a rank sweep); iteration is O(B + n).
/// Throws: slot_error, std::bad_alloc (sequence unchanged either way).
template <slot_layout Layout = side_layout>
class gapped_slots {
  static constexpr std::size_t block = 64;
  static constexpr double root_density = 0.7;

public:
  using layout_type = Layout;

  class const_iterator {
  public:
    using iterator_category = std::forward_iterator_tag;
    using iterator_concept = std::forward_iterator_tag;
    using value_type = token_id;
    using difference_type = std::ptrdiff_t;
    using reference = token_id;

    const_iterator() = default;
    token_id operator*() const noexcept { return seq_->tokens_[cell_]; }
    const_iterator& operator++() noexcept {
      cell_ = seq_->next_live(cell_ + 1);
      return *this;
    }
    const_iterator operator++(int) noexcept {
      auto t = *this;
      ++*this;
      return t;
    }
    friend bool operator==(const_iterator a, const_iterator b) noexcept { return a.cell_ == b.cell_; }

  private:
    friend class gapped_slots;
    const_iterator(const gapped_slots* s, std::size_t c) : seq_(s), cell_(c) {}
    const gapped_slots* seq_ = nullptr;
    std::size_t cell_ = 0;
  };

  explicit gapped_slots(std::span<const token_id> tokens = {}, token_id vocabulary = unbounded_vocabulary)
      : vocab_(vocabulary) {
    detail::check_tokens(tokens, vocab_);
    std::vector<step_index> births(tokens.size(), 0);
    rebuild(tokens, births, blocks_for(tokens.size()));
  }
  gapped_slots(std::initializer_list<token_id> tokens, token_id vocabulary = unbounded_vocabulary)
      : gapped_slots(std::span<const token_id>(tokens.begin(), tokens.size()), vocabulary) {}

  std::size_t size() const noexcept { return n_; }
  bool empty() const noexcept { return n_ == 0; }
  std::size_t slot_count() const noexcept { return Layout::slot_count(n_); }
  step_index step() const noexcept { return step_; }
  token_id vocabulary() const noexcept { return vocab_; }
  /// Cells allocated (live tokens plus free cells).
  std::size_t capacity() const noexcept { return tokens_.size(); }

  token_id token(std::size_t i) const noexcept { return tokens_[cell_of(i)]; }
  step_index birth(std::size_t i) const noexcept { return births_[cell_of(i)]; }

  void copy_tokens(std::span<token_id> out) const noexcept { copy_column(tokens_, out); }
  void copy_births(std::span<step_index> out) const noexcept { copy_column(births_, out); }

  const_iterator begin() const noexcept { return {this, next_live(0)}; }
  const_iterator end() const noexcept { return {this, tokens_.size()}; }

  /// Room for `capacity` tokens, and for the scratch of a step that inserts up to capacity - size():
  /// such steps allocate nothing (a rebuild to a larger array may still happen if one region fills).
  void reserve(std::size_t capacity) {
    if (capacity <= n_) return;
    const std::size_t k = capacity - n_;
    key_.reserve(k);
    home_.reserve(k);
    prev_.reserve(k);
    scratch_.reserve(k);
    windows_.reserve(occupied_.size());
    if (blocks_for(capacity) > occupied_.size()) {
      std::vector<token_id> t(n_);
      std::vector<step_index> b(n_);
      copy_tokens(t);
      copy_births(b);
      rebuild(t, b, blocks_for(capacity));
    }
    if (merged_tokens_.size() < tokens_.size()) merged_tokens_.resize(tokens_.size());
    if (merged_births_.size() < births_.size()) merged_births_.resize(births_.size());
  }

  void apply(insertion_batch batch) {
    auto sorted = detail::checked_batch<Layout>(batch, n_, vocab_, scratch_);
    const std::size_t k = sorted.size();
    if (k != 0) {
      locate(sorted);
      if (place_in_gaps(sorted)) {
        n_ += k;
      } else if (!plan(k)) {
        grow(sorted);
      } else {
        // Room for the largest window's merge, before anything changes.
        std::size_t widest = 0;
        for (const window& w : windows_) widest = std::max(widest, (w.last_block - w.first_block) * block);
        if (merged_tokens_.size() < widest) merged_tokens_.resize(widest);
        if (merged_births_.size() < widest) merged_births_.resize(widest);
        for (const window& w : windows_) rewrite(w, sorted);
        n_ += k;
      }
    }
    ++step_;
  }

private:
  // Insertion j goes right before the live cell key_[j] (the token it precedes; capacity() at the
  // end), right after the live cell prev_[j] (none at the start), and belongs to block home_[j] (the
  // block of the token it follows, or of the one it precedes).
  static constexpr std::size_t none = static_cast<std::size_t>(-1);
  struct window {
    std::size_t first_block, last_block;  // [first, last)
    std::size_t first_ins, last_ins;      // the insertions it takes, [first, last)
  };

  static std::size_t blocks_for(std::size_t n) {
    // Density at most 1/2 after a (re)build; a power of two so that windows nest.
    return std::bit_ceil(std::max<std::size_t>(1, (2 * n + block - 1) / block));
  }

  std::size_t next_live(std::size_t c) const noexcept {
    std::size_t w = c / block;
    if (w >= occupied_.size()) return tokens_.size();
    std::uint64_t bits = occupied_[w] & (~std::uint64_t{0} << (c % block));
    while (bits == 0) {
      if (++w == occupied_.size()) return tokens_.size();
      bits = occupied_[w];
    }
    return w * block + static_cast<std::size_t>(std::countr_zero(bits));
  }

  std::size_t cell_of(std::size_t i) const noexcept {
    std::size_t w = 0;
    for (;; ++w) {
      const auto c = static_cast<std::size_t>(std::popcount(occupied_[w]));
      if (i < c) break;
      i -= c;
    }
    return w * block + detail::select64(occupied_[w], static_cast<unsigned>(i));
  }

  template <class T>
  void copy_column(const std::vector<T>& col, std::span<T> out) const noexcept {
    assert(out.size() == n_);
    std::size_t o = 0;
    for (std::size_t w = 0; w < occupied_.size(); ++w) {
      for (std::uint64_t bits = occupied_[w]; bits != 0; bits &= bits - 1) {
        out[o++] = col[w * block + static_cast<std::size_t>(std::countr_zero(bits))];
      }
    }
  }

  // Fills key_ and home_ with one rank sweep over the occupancy words.
  void locate(std::span<const insertion> sorted) {
    const std::size_t k = sorted.size(), cap = tokens_.size();
    key_.resize(k);
    home_.resize(k);
    prev_.resize(k);
    std::size_t w = 0, before = 0;  // live cells in words [0, w)
    auto select = [&](std::size_t rank) {
      for (;;) {
        const auto c = static_cast<std::size_t>(std::popcount(occupied_[w]));
        if (rank < before + c) break;
        before += c;
        ++w;
      }
      return w * block + detail::select64(occupied_[w], static_cast<unsigned>(rank - before));
    };
    std::size_t last_gap = static_cast<std::size_t>(-1), key = 0, home = 0, prev = none;
    for (std::size_t j = 0; j < k; ++j) {
      const std::size_t g = Layout::gap_of(sorted[j].slot, n_);
      if (g != last_gap) {
        last_gap = g;
        if (n_ == 0) {
          key = cap, home = occupied_.size() / 2, prev = none;
        } else if (g == 0) {
          key = select(0), home = key / block, prev = none;
        } else {
          prev = select(g - 1);
          home = prev / block;
          key = g < n_ ? select(g) : cap;
        }
      }
      key_[j] = key;
      home_[j] = home;
      prev_[j] = prev;
    }
  }

  // When every gap of the batch has as many free cells as it receives insertions, writes each
  // insertion into its gap (spread over the gap's free cells) and returns true; otherwise changes
  // nothing and returns false. Allocates nothing, so it cannot fail half way.
  bool place_in_gaps(std::span<const insertion> sorted) {
    const std::size_t k = sorted.size();
    if (n_ == 0) return false;
    for (std::size_t j = 0; j < k;) {  // first pass: does every group fit?
      std::size_t e = j + 1;
      while (e < k && key_[e] == key_[j]) ++e;
      if (e - j > free_before(j)) return false;
      j = e;
    }
    const step_index born = step_ + 1;
    for (std::size_t j = 0; j < k;) {
      std::size_t e = j + 1;
      while (e < k && key_[e] == key_[j]) ++e;
      const std::size_t m = e - j, free = free_before(j), first = key_[j] - free;
      for (std::size_t i = 0; i < m; ++i) {
        const std::size_t c = first + i * free / m;  // strictly increasing: free >= m
        tokens_[c] = sorted[j + i].token;
        births_[c] = born;
        occupied_[c / block] |= std::uint64_t{1} << (c % block);
      }
      j = e;
    }
    return true;
  }

  // Free cells between insertion j's preceding live cell (the array's start if none) and key_[j].
  std::size_t free_before(std::size_t j) const noexcept { return key_[j] - (prev_[j] == none ? 0 : prev_[j] + 1); }

  // Chooses the disjoint windows to rewrite. False when even the whole array would be too dense.
  bool plan(std::size_t k) {
    const std::size_t blocks = occupied_.size();
    const unsigned height = static_cast<unsigned>(std::countr_zero(blocks));
    auto live = [&](std::size_t b0, std::size_t b1) {
      std::size_t s = 0;
      for (std::size_t b = b0; b < b1; ++b) s += static_cast<std::size_t>(std::popcount(occupied_[b]));
      return s;
    };
    auto first_ins_at = [&](std::size_t b) {  // first insertion whose home is >= b
      return static_cast<std::size_t>(std::lower_bound(home_.begin(), home_.end(), b) - home_.begin());
    };
    windows_.clear();
    for (std::size_t j = 0; j < k;) {
      const std::size_t b = home_[j];
      std::size_t lo = b, hi = b + 1, i0 = j, i1 = j;
      while (i1 < k && home_[i1] == b) ++i1;
      for (unsigned level = 0;; ++level) {
        const std::size_t cells = (hi - lo) * block, wanted = live(lo, hi) + (i1 - i0);
        if (level == 0 ? wanted <= cells
                       : double(wanted) <= (1.0 - (1.0 - root_density) * double(level) / height) * double(cells))
          break;
        if (level == height) return false;
        const std::size_t width = (hi - lo) * 2;
        lo = lo / width * width;
        hi = lo + width;
        i0 = first_ins_at(lo);
        i1 = first_ins_at(hi);
      }
      while (!windows_.empty() && windows_.back().first_block >= lo) windows_.pop_back();
      windows_.push_back({lo, hi, i0, i1});
      j = i1;
    }
    return true;
  }

  // Merges a window's live cells with its insertions and spreads the result evenly over the window.
  void rewrite(const window& w, std::span<const insertion> sorted) {
    const step_index born = step_ + 1;
    std::size_t j = w.first_ins, m = 0;
    token_id* mt = merged_tokens_.data();  // reserved by apply: no reallocation below
    step_index* mb = merged_births_.data();
    for (std::size_t wd = w.first_block; wd < w.last_block; ++wd) {
      for (std::uint64_t bits = occupied_[wd]; bits != 0; bits &= bits - 1) {
        const std::size_t c = wd * block + static_cast<std::size_t>(std::countr_zero(bits));
        for (; j < w.last_ins && key_[j] <= c; ++j, ++m) mt[m] = sorted[j].token, mb[m] = born;
        mt[m] = tokens_[c];
        mb[m] = births_[c];
        ++m;
      }
      occupied_[wd] = 0;
    }
    for (; j < w.last_ins; ++j, ++m) mt[m] = sorted[j].token, mb[m] = born;
    spread(w.first_block * block, (w.last_block - w.first_block) * block, {mt, m}, {mb, m});
  }

  // Places m tokens evenly over [c0, c0 + cells); each is followed by its share of free cells.
  // Cell of token i: c0 + floor(i * cells / m), stepped without a division per token.
  void spread(std::size_t c0, std::size_t cells, std::span<const token_id> t, std::span<const step_index> b) noexcept {
    const std::size_t m = t.size();
    if (m == 0) return;
    const std::size_t stride = cells / m, extra = cells % m;
    std::size_t c = c0, rem = 0;
    for (std::size_t i = 0; i < m; ++i) {
      tokens_[c] = t[i];
      births_[c] = b[i];
      occupied_[c / block] |= std::uint64_t{1} << (c % block);
      c += stride;
      rem += extra;
      if (rem >= m) rem -= m, ++c;
    }
  }

  // Rebuilds the whole array, larger, with the batch merged in.
  void grow(std::span<const insertion> sorted) {
    const std::size_t m = n_ + sorted.size();
    std::vector<token_id> t;
    std::vector<step_index> b;
    t.reserve(m);
    b.reserve(m);
    const step_index born = step_ + 1;
    std::size_t j = 0;
    for (std::size_t wd = 0; wd < occupied_.size(); ++wd) {
      for (std::uint64_t bits = occupied_[wd]; bits != 0; bits &= bits - 1) {
        const std::size_t c = wd * block + static_cast<std::size_t>(std::countr_zero(bits));
        for (; j < sorted.size() && key_[j] <= c; ++j) t.push_back(sorted[j].token), b.push_back(born);
        t.push_back(tokens_[c]);
        b.push_back(births_[c]);
      }
    }
    for (; j < sorted.size(); ++j) t.push_back(sorted[j].token), b.push_back(born);
    rebuild(t, b, blocks_for(m));
  }

  void rebuild(std::span<const token_id> t, std::span<const step_index> b, std::size_t blocks) {
    std::vector<token_id> tokens(blocks * block, 0);
    std::vector<step_index> births(blocks * block, 0);
    std::vector<std::uint64_t> occupied(blocks, 0);
    tokens_.swap(tokens);
    births_.swap(births);
    occupied_.swap(occupied);
    n_ = t.size();
    if (n_ != 0) spread(0, tokens_.size(), t, b);
  }

  std::vector<token_id> tokens_;
  std::vector<step_index> births_;
  std::vector<std::uint64_t> occupied_;  // bit c of word w: cell w * 64 + c holds a token
  std::size_t n_ = 0;
  token_id vocab_;
  step_index step_ = 0;
  // Per-apply scratch, kept to avoid allocating on every step.
  std::vector<insertion> scratch_;
  std::vector<std::size_t> key_, home_, prev_;
  std::vector<window> windows_;
  std::vector<token_id> merged_tokens_;
  std::vector<step_index> merged_births_;
};

}  // namespace slotdiff
