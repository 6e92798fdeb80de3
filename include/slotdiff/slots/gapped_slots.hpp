// slotdiff/slots/gapped_slots.hpp: a slot sequence on a packed-memory array.
#pragma once

#include <algorithm>
#include <bit>
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
#include "slotdiff/detail/contiguous_slots.hpp"
#include "slotdiff/slots/layout.hpp"
#include "slotdiff/slots/options.hpp"
#include "slotdiff/types/insertion.hpp"

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
///
/// Template parameters: Layout, a slot_layout (default side_layout); Allocator, the allocator of the
/// columns, the occupancy words and the per-step scratch, rebound to each (void: std::allocator);
/// Options, void or a slot_options pack, of which gapped_slots reads root_density (default 7/10)
/// and growth_factor (default 2: a rebuilt array has capacity for the tokens times the factor,
/// rounded up to a power of two of blocks).
/// Memory: 8 bytes per cell of capacity plus 1 bit per cell; after a rebuild the capacity is the
/// tokens times growth_factor rounded up to a power of two of 64-cell blocks (at most twice that).
template <class Layout = side_layout, class Allocator = void, class Options = void>
class gapped_slots : public detail::vector_slot_columns<gapped_slots<Layout, Allocator, Options>, Layout, Allocator> {
  static constexpr std::size_t block = 64;
  template <class T>
  using column = std::vector<T, detail::slot_allocator_for<Allocator, T>>;
  using base = typename gapped_slots::slot_columns;
  friend base;

public:
  using typename base::allocator_type;
  /// The knobs this sequence runs with (Options with its defaults filled in).
  using options = detail::resolved_slot_options<Options, fraction{2, 1}>;
  static_assert(options::root_density.num * options::growth.num >= options::root_density.den * options::growth.den,
                "gapped_slots: needs growth_factor * root_density >= 1, or a rebuilt array is over its density bound "
                "at once");

  /// Effects: a sequence holding `tokens`, all born at step 0, at step 0, with ids checked against
  /// [0, vocabulary), spread evenly over a fresh array.
  /// Complexity: O(capacity) = O(n). Throws: slot_error naming the first id outside
  /// [0, vocabulary) and its position; std::bad_alloc; whatever the allocator throws.
  explicit gapped_slots(std::span<const token_id> tokens = {}, token_id vocabulary = unbounded_vocabulary,
                        const allocator_type& alloc = allocator_type())
      : base(tokens, vocabulary, alloc), occupied_(alloc), key_(alloc), home_(alloc), prev_(alloc), windows_(alloc),
        merged_tokens_(alloc), merged_births_(alloc) {
    column<step_index> births(tokens.size(), 0, alloc);
    rebuild(tokens, births, blocks_for(tokens.size()));
  }
  /// Effects, Complexity, Throws: as the span constructor.
  gapped_slots(std::initializer_list<token_id> tokens, token_id vocabulary = unbounded_vocabulary,
               const allocator_type& alloc = allocator_type())
      : gapped_slots(std::span<const token_id>(tokens.begin(), tokens.size()), vocabulary, alloc) {}

  /// Tokens now. Complexity: O(1). Throws: nothing.
  std::size_t size() const noexcept { return n_; }
  /// Cells allocated (live tokens plus free cells), a multiple of 64. Complexity: O(1). Throws: nothing.
  std::size_t capacity() const noexcept { return tokens_.size(); }

  /// A forward iterator over the tokens that returns them by value (it skips free cells), so, like
  /// std::ranges::iota_view's, it is an input iterator to the C++17 traits (iterator_category) and a
  /// forward iterator to the C++20 concepts (iterator_concept). Invalidated by apply and reserve.
  /// Dereferencing is O(1); ++ is O(free cells skipped / 64); nothing throws.
  class const_iterator : public detail::by_value_token_iterator<std::forward_iterator_tag> {
  public:
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

  /// The tokens in order (forward, by value). begin() is O(distance to the first token / 64); a
  /// whole pass is O(B + n). Throws: nothing.
  const_iterator begin() const noexcept { return {this, next_live(0)}; }
  /// One past the last token. Complexity: O(1). Throws: nothing.
  const_iterator end() const noexcept { return {this, tokens_.size()}; }

  /// Effects: room for `capacity` tokens, and for the scratch of a step that inserts up to
  /// capacity - size(): such steps allocate nothing (a rebuild to a larger array may still happen
  /// if one region fills). The content is unchanged.
  /// Complexity: O(new capacity) if the array is rebuilt, else O(1) amortised.
  /// Throws: std::bad_alloc (sequence unchanged).
  void reserve(std::size_t capacity) {
    if (capacity <= n_) return;
    const std::size_t k = capacity - n_;
    key_.reserve(k);
    home_.reserve(k);
    prev_.reserve(k);
    this->scratch_.reserve(k);
    windows_.reserve(occupied_.size());
    if (blocks_for(capacity) > occupied_.size()) {
      column<token_id> t(n_, tokens_.get_allocator());
      column<step_index> b(n_, births_.get_allocator());
      this->copy_tokens(t);
      this->copy_births(b);
      rebuild(t, b, blocks_for(capacity));
    }
    if (merged_tokens_.size() < tokens_.size()) merged_tokens_.resize(tokens_.size());
    if (merged_births_.size() < births_.size()) merged_births_.resize(births_.size());
  }

  /// Effects: applies one denoising step: every insertion {slot, token} of `batch` puts `token`
  /// into `slot` of the sequence as it was before the step (slots numbered by Layout), born at
  /// step() + 1; then step() grows by one (also for an empty batch).
  /// Requires: nothing; the batch is checked (each slot below slot_count(), at most one insertion
  /// per slot, each token in [0, vocabulary())), in any order.
  /// Complexity: O(B + k) when every gap has room for its insertions, else O(B + k + (blocks
  /// rewritten) * 64); amortised O(log^2 n) cell moves per insertion; O(k log k) more for an
  /// unsorted batch.
  /// Throws: slot_error naming the slot or token at fault; std::bad_alloc. Either way the sequence
  /// is unchanged (strong guarantee).
  void apply(insertion_batch batch) {
    auto sorted = this->checked(batch);
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
    this->end_step();
  }

  /// Whether the packed-memory array is consistent: the columns 64 cells per occupancy word, a
  /// power of two of words (so that windows nest), as many occupied cells as size(), every live
  /// token in [0, vocabulary()), every live birth in [0, step()]. A test hook and what SLOTDIFF_ASSERT checks after every apply. Complexity: O(capacity).
  /// Throws: nothing.
  bool invariants_ok() const noexcept {
    const std::size_t words = occupied_.size();
    if (!this->columns_ok() || words == 0 || !std::has_single_bit(words) || tokens_.size() != words * block)
      return false;
    std::size_t live = 0;
    for (std::size_t w = 0; w < words; ++w) {
      for (std::uint64_t bits = occupied_[w]; bits != 0; bits &= bits - 1) {
        if (!this->cell_ok(w * block + static_cast<std::size_t>(std::countr_zero(bits)))) return false;
        ++live;
      }
    }
    return live == n_ && n_ <= tokens_.size();
  }

private:
  // Insertion j goes right before the live cell key_[j] (the token it precedes; capacity() at the
  // end), right after the live cell prev_[j] (none at the start), and belongs to block home_[j] (the
  // block of the token it follows, or of the one it precedes).
  using base::births_;
  using base::step_;
  using base::tokens_;
  static constexpr std::size_t none = static_cast<std::size_t>(-1);
  struct window {
    std::size_t first_block, last_block;  // [first, last)
    std::size_t first_ins, last_ins;      // the insertions it takes, [first, last)
  };

  static std::size_t blocks_for(std::size_t n) {
    // Density at most 1 / growth after a (re)build; a power of two so that windows nest.
    return std::bit_ceil(std::max<std::size_t>(1, (options::growth.of(n) + block - 1) / block));
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

  // The cell of token i: a rank sweep over the occupancy words, O(B).
  std::size_t cell(std::size_t i) const noexcept {
    std::size_t w = 0;
    for (;; ++w) {
      const auto c = static_cast<std::size_t>(std::popcount(occupied_[w]));
      if (i < c) break;
      i -= c;
    }
    return w * block + detail::select64(occupied_[w], static_cast<unsigned>(i));
  }

  template <class T>
  void copy_column(const column<T>& col, std::span<T> out) const noexcept {
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

  static constexpr double root_density = double(options::root_density.num) / double(options::root_density.den);

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
    column<token_id> t(tokens_.get_allocator());
    column<step_index> b(births_.get_allocator());
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
    column<token_id> tokens(blocks * block, 0, tokens_.get_allocator());
    column<step_index> births(blocks * block, 0, births_.get_allocator());
    column<std::uint64_t> occupied(blocks, 0, occupied_.get_allocator());
    tokens_.swap(tokens);
    births_.swap(births);
    occupied_.swap(occupied);
    n_ = t.size();
    if (n_ != 0) spread(0, tokens_.size(), t, b);
  }

  column<std::uint64_t> occupied_;  // bit c of word w: cell w * 64 + c holds a token
  std::size_t n_ = 0;
  // Per-apply scratch, kept to avoid allocating on every step (the batch's sorted copy is base::scratch_).
  column<std::size_t> key_, home_, prev_;
  column<window> windows_;
  column<token_id> merged_tokens_;
  column<step_index> merged_births_;
};

}  // namespace slotdiff
