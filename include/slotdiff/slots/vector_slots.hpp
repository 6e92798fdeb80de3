// slotdiff/slots/vector_slots.hpp: a slot sequence on two std::vector columns.
#pragma once

#include <algorithm>
#include <vector>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/detail/batch.hpp"
#include "slotdiff/detail/contiguous_slots.hpp"
#include "slotdiff/detail/expand.hpp"
#include "slotdiff/slots/layout.hpp"

namespace slotdiff {

namespace detail {
template <class T>
using std_vector = std::vector<T>;
}

/// The plain baseline: tokens and births in std::vector, one in-place merge pass per step from the
/// back, so everything right of the first insertion moves once.
///
/// apply Complexity: O(n - g + k) for k insertions whose leftmost gap is g (O(k log k) more when the
/// batch is not sorted by slot). Throws: slot_error (sequence unchanged); std::bad_alloc (unchanged).
template <slot_layout Layout = side_slots>
class vector_slots : public detail::contiguous_slots<Layout, detail::std_vector> {
  using base = detail::contiguous_slots<Layout, detail::std_vector>;

public:
  using base::base;

  /// Room for `capacity` tokens: steps that stay within it do not allocate.
  void reserve(std::size_t capacity) {
    this->tokens_.reserve(capacity);
    this->births_.reserve(capacity);
  }

  void apply(insertion_batch batch) {
    const std::size_t n = this->size();
    const auto grow = [this, n](std::size_t k) {
      // Both reservations first, so a bad_alloc leaves the sequence intact; geometric, so that
      // many small steps stay amortised O(1) in allocation.
      if (this->tokens_.capacity() < n + k) this->tokens_.reserve(std::max(n + k, 2 * n));
      if (this->births_.capacity() < n + k) this->births_.reserve(std::max(n + k, 2 * n));
      this->tokens_.resize(n + k);
      this->births_.resize(n + k);
      return this->cells();
    };
    if (!detail::fused_expand<Layout>(batch, n, this->vocab_, this->step_ + 1, grow)) {
      auto sorted = detail::checked_batch<Layout>(batch, n, this->vocab_, this->scratch_);
      const std::size_t k = sorted.size();
      if (k != 0) {
        detail::insert_backward(grow(k), n, sorted, [n](const insertion& i) { return Layout::gap_of(i.slot, n); },
                                this->step_ + 1);
      }
    }
    ++this->step_;
  }
};

}  // namespace slotdiff
