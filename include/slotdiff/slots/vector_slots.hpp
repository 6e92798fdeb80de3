// slotdiff/slots/vector_slots.hpp: a slot sequence on two std::vector columns.
#pragma once

#include <algorithm>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/detail/batch.hpp"
#include "slotdiff/detail/contiguous_slots.hpp"
#include "slotdiff/detail/expand.hpp"
#include "slotdiff/slots/layout.hpp"

namespace slotdiff {

namespace detail {
/// std::allocator, except that value-initialisation (vector::resize) leaves trivial cells
/// uninitialised: a step's merge writes every new cell, and zeroing them first cost a pass.
template <class T>
struct default_init_allocator : std::allocator<T> {
  using value_type = T;
  template <class U>
  struct rebind {
    using other = default_init_allocator<U>;
  };
  default_init_allocator() noexcept = default;
  template <class U>
  default_init_allocator(const default_init_allocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

template <class T>
using std_vector = std::vector<T, default_init_allocator<T>>;
}  // namespace detail

/// The plain baseline: tokens and births in std::vector, one in-place merge pass per step from the
/// back, so everything right of the first insertion moves once.
///
/// apply Complexity: O(n - g + k) for k insertions whose leftmost gap is g (O(k log k) more when the
/// batch is not sorted by slot). Throws: slot_error (sequence unchanged); std::bad_alloc (unchanged).
template <slot_layout Layout = side_layout>
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
