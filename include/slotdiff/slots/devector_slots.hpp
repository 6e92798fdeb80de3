// slotdiff/slots/devector_slots.hpp: a slot sequence on boost::container::devector columns.
#pragma once

#include <boost/container/devector.hpp>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/detail/batch.hpp"
#include "slotdiff/detail/contiguous_slots.hpp"
#include "slotdiff/detail/expand.hpp"
#include "slotdiff/slots/layout.hpp"

namespace slotdiff {

namespace detail {
template <class T>
using boost_devector = boost::container::devector<T>;
}

/// Tokens and births in boost::container::devector, which keeps free capacity at both ends. Each
/// step splits its batch where the fewest tokens have to move: insertions left of the split grow the
/// sequence to the left, the rest to the right. Growth at the two ends (the usual shape of
/// denoising: a sentence grows outwards from its keywords) moves only the tokens between them.
///
/// apply Complexity: O(min over splits of (tokens left of the split's last insertion + tokens right of
/// its first) + k), at most O(n + k). Throws: slot_error, std::bad_alloc (sequence unchanged either way).
template <slot_layout Layout = side_layout>
class devector_slots : public detail::contiguous_slots<Layout, detail::boost_devector> {
  using base = detail::contiguous_slots<Layout, detail::boost_devector>;

public:
  using base::base;

  /// Room to grow to `capacity` tokens at either end without allocating.
  void reserve(std::size_t capacity) {
    const std::size_t n = this->size();
    if (capacity <= n) return;
    reserve_ends(capacity - n, capacity - n);
  }

  void apply(insertion_batch batch) {
    const std::size_t n = this->size();
    auto sorted = detail::checked_batch<Layout>(batch, n, this->vocab_, this->scratch_);
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
    ++this->step_;
  }

private:
  // Geometric growth at each end (reserve_front/back alone would grow by exactly what is asked).
  void reserve_ends(std::size_t front, std::size_t back) {
    auto grow = [](std::size_t need, std::size_t size) { return size + std::max(need, size / 2 + 8); };
    // reserve_front(c) / reserve_back(c) ask for c = size + free cells at that end.
    const std::size_t n = this->size();
    if (this->tokens_.front_free_capacity() < front) this->tokens_.reserve_front(grow(front, n));
    if (this->births_.front_free_capacity() < front) this->births_.reserve_front(grow(front, n));
    if (this->tokens_.back_free_capacity() < back) this->tokens_.reserve_back(grow(back, n));
    if (this->births_.back_free_capacity() < back) this->births_.reserve_back(grow(back, n));
  }
};

}  // namespace slotdiff
