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
#include "slotdiff/slots/options.hpp"

namespace slotdiff {

namespace detail {
/// The user's allocator A (rebound to T), except that value-initialisation (vector::resize) leaves
/// trivial cells uninitialised: a step's merge writes every new cell, and zeroing them first cost a
/// pass. Every other construction, and all allocation, goes to A.
template <class T, class A>
struct default_init_allocator : std::allocator_traits<A>::template rebind_alloc<T> {
  using base = typename std::allocator_traits<A>::template rebind_alloc<T>;
  using value_type = T;
  template <class U>
  struct rebind {
    using other = default_init_allocator<U, A>;
  };
  default_init_allocator() noexcept(noexcept(base())) = default;
  default_init_allocator(const base& a) noexcept : base(a) {}  // NOLINT: implicit, as allocators convert
  template <class U>
  default_init_allocator(const default_init_allocator<U, A>& other) noexcept
      : base(static_cast<const typename default_init_allocator<U, A>::base&>(other)) {}
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    std::allocator_traits<base>::construct(static_cast<base&>(*this), p, std::forward<Args>(args)...);
  }
  friend bool operator==(const default_init_allocator& a, const default_init_allocator& b) noexcept {
    return static_cast<const base&>(a) == static_cast<const base&>(b);
  }
};

template <class T, class Allocator>
using std_vector_column = std::vector<T, default_init_allocator<T, slot_allocator_for<Allocator, T>>>;
}  // namespace detail

/// The plain baseline: tokens and births in std::vector, one in-place merge pass per step from the
/// back, so everything right of the first insertion moves once.
///
/// Template parameters: Layout, a slot_layout (default side_layout); Allocator, the allocator both
/// columns use, rebound to token_id and step_index (void: std::allocator); Options, void or a
/// slot_options pack, of which vector_slots reads growth_factor (default 2).
/// Memory: 8 bytes per token of capacity (two 4-byte columns), plus the batch scratch.
template <class Layout = side_layout, class Allocator = void, class Options = void>
class vector_slots : public detail::contiguous_slots<Layout, Allocator, detail::std_vector_column> {
public:
  /// The knobs this sequence runs with (Options with its defaults filled in).
  using options = detail::resolved_slot_options<Options, fraction{2, 1}>;

  /// The constructors of contiguous_slots: from a span or an initializer list of ids, a vocabulary
  /// bound (default: any non-negative id) and an allocator. Complexity: O(n). Throws: slot_error
  /// naming the first id outside [0, vocabulary) and its position; std::bad_alloc.
  using vector_slots::contiguous_slots::contiguous_slots;

  /// Tokens the columns hold without reallocating. Complexity: O(1). Throws: nothing.
  std::size_t capacity() const noexcept { return std::min(this->tokens_.capacity(), this->births_.capacity()); }

  /// Effects: room for `capacity` tokens, so that steps which stay within it do not allocate; the
  /// content is unchanged (iterators and spans are invalidated if it reallocates).
  /// Complexity: O(n) if it reallocates, else O(1). Throws: std::bad_alloc, std::length_error (the
  /// sequence is then unchanged).
  void reserve(std::size_t capacity) {
    this->tokens_.reserve(capacity);
    this->births_.reserve(capacity);
  }

  /// Effects: applies one denoising step: every insertion {slot, token} of `batch` puts `token`
  /// into `slot` of the sequence as it was before the step (slots numbered by Layout), born at
  /// step() + 1; then step() grows by one (also for an empty batch).
  /// Requires: nothing; the batch is checked (each slot below slot_count(), at most one insertion
  /// per slot, each token in [0, vocabulary())), in any order.
  /// Complexity: O(n - g + k) for k insertions whose leftmost gap is g (O(k log k) more when the
  /// batch is not sorted by slot); amortised O(1) allocations per step (capacity grows by the
  /// growth factor).
  /// Throws: slot_error naming the slot or token at fault; std::bad_alloc. Either way the sequence
  /// is unchanged (strong guarantee).
  void apply(insertion_batch batch) {
    const std::size_t n = this->size();
    const auto grow = [this, n](std::size_t k) {
      // Both reservations first, so a bad_alloc leaves the sequence intact; geometric, so that
      // many small steps stay amortised O(1) in allocation.
      const std::size_t want = std::max(n + k, options::growth.of(n));
      if (this->tokens_.capacity() < n + k) this->tokens_.reserve(want);
      if (this->births_.capacity() < n + k) this->births_.reserve(want);
      this->tokens_.resize(n + k);
      this->births_.resize(n + k);
      return this->cells();
    };
    if (!detail::fused_expand<Layout>(batch, n, this->vocab_, this->step_ + 1, grow)) {
      auto sorted = this->checked(batch);
      const std::size_t k = sorted.size();
      if (k != 0) {
        detail::insert_backward(grow(k), n, sorted, [n](const insertion& i) { return Layout::gap_of(i.slot, n); },
                                this->step_ + 1);
      }
    }
    this->end_step();
  }
};

}  // namespace slotdiff
