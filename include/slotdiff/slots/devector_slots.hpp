// slotdiff/slots/devector_slots.hpp: a slot sequence on boost::container::devector columns.
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include <boost/container/devector.hpp>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/detail/batch.hpp"
#include "slotdiff/detail/contiguous_slots.hpp"
#include "slotdiff/detail/expand.hpp"
#include "slotdiff/slots/layout.hpp"
#include "slotdiff/slots/options.hpp"

namespace slotdiff {

namespace detail {
// Allocator void keeps devector's own default.
template <class T, class Allocator>
using devector_column =
    boost::container::devector<T, std::conditional_t<std::is_void_v<Allocator>, void, slot_allocator_for<Allocator, T>>>;
}  // namespace detail

/// Tokens and births in boost::container::devector, which keeps free capacity at both ends. Each
/// step splits its batch where the fewest tokens have to move: insertions left of the split grow the
/// sequence to the left, the rest to the right. Growth at the two ends (the usual shape of
/// denoising: a sentence grows outwards from its keywords) moves only the tokens between them.
///
/// Template parameters: Layout, a slot_layout (default side_layout); Allocator, the allocator both
/// columns use, rebound to token_id and step_index (void: devector's default); Options, void or a
/// slot_options pack, of which devector_slots reads growth_factor (default 3/2) and growth_minimum
/// (default 8): an end that must grow gets room for max(needed, size * (factor - 1) + minimum)
/// more tokens.
/// Memory: 8 bytes per token of capacity, counting the free cells at both ends.
template <class Layout = side_layout, class Allocator = void, class Options = void>
class devector_slots : public detail::contiguous_slots<Layout, Allocator, detail::devector_column> {
public:
  /// The knobs this sequence runs with (Options with its defaults filled in).
  using options = detail::resolved_slot_options<Options, fraction{3, 2}>;

  /// The constructors of contiguous_slots: from a span or an initializer list of ids, a vocabulary
  /// bound (default: any non-negative id) and an allocator. Complexity: O(n). Throws: slot_error
  /// naming the first id outside [0, vocabulary) and its position; std::bad_alloc.
  using devector_slots::contiguous_slots::contiguous_slots;

  /// Effects: room to grow to `capacity` tokens at either end without allocating; the content is
  /// unchanged (iterators and spans are invalidated if it reallocates).
  /// Complexity: O(n) if it reallocates, else O(1). Throws: std::bad_alloc (sequence unchanged).
  void reserve(std::size_t capacity) {
    const std::size_t n = this->size();
    if (capacity <= n) return;
    reserve_ends(capacity - n, capacity - n);
  }

  /// Effects: applies one denoising step: every insertion {slot, token} of `batch` puts `token`
  /// into `slot` of the sequence as it was before the step (slots numbered by Layout), born at
  /// step() + 1; then step() grows by one (also for an empty batch).
  /// Requires: nothing; the batch is checked (each slot below slot_count(), at most one insertion
  /// per slot, each token in [0, vocabulary())), in any order.
  /// Complexity: O(min over splits of (tokens left of the split's last insertion + tokens right of
  /// its first) + k), at most O(n + k); O(k log k) more for an unsorted batch.
  /// Throws: slot_error naming the slot or token at fault; std::bad_alloc. Either way the sequence
  /// is unchanged (strong guarantee).
  void apply(insertion_batch batch) {
    const std::size_t n = this->size();
    auto sorted = this->checked(batch);
    const std::size_t k = sorted.size();
    if (k != 0) {
      auto gap = [n](const insertion& i) { return Layout::gap_of(i.slot, n); };
      // front = sorted[0, split): moving cost gap(split - 1); back: n - gap(split).
      std::size_t split = 0, best = n - gap(sorted[0]);
      for (std::size_t j = 1; j <= k; ++j) {
        const std::size_t cost = gap(sorted[j - 1]) + (j < k ? n - gap(sorted[j]) : 0);
        if (cost < best) best = cost, split = j;
      }
      const std::size_t kf = split, kb = k - split;
      reserve_ends(kf, kb);
      if (kf != 0) {
        this->tokens_.resize_front(n + kf);
        this->births_.resize_front(n + kf);
        detail::merge_forward(this->cells(), sorted.first(kf), gap, this->step_ + 1);
      }
      if (kb != 0) {
        const std::size_t m = n + kf;
        this->tokens_.resize_back(m + kb);
        this->births_.resize_back(m + kb);
        detail::insert_backward(this->cells(), m, sorted.subspan(kf), [&](const insertion& i) { return gap(i) + kf; },
                               this->step_ + 1);
      }
    }
    this->end_step();
  }

private:
  // Geometric growth at each end (reserve_front/back alone would grow by exactly what is asked).
  void reserve_ends(std::size_t front, std::size_t back) {
    auto grow = [](std::size_t need, std::size_t size) {
      constexpr fraction extra{options::growth.num - options::growth.den, options::growth.den};  // factor - 1
      return size + std::max(need, extra.of(size) + options::growth_minimum);
    };
    // reserve_front(c) / reserve_back(c) ask for c = size + free cells at that end.
    const std::size_t n = this->size();
    if (this->tokens_.front_free_capacity() < front) this->tokens_.reserve_front(grow(front, n));
    if (this->births_.front_free_capacity() < front) this->births_.reserve_front(grow(front, n));
    if (this->tokens_.back_free_capacity() < back) this->tokens_.reserve_back(grow(back, n));
    if (this->births_.back_free_capacity() < back) this->births_.reserve_back(grow(back, n));
  }
};

}  // namespace slotdiff
