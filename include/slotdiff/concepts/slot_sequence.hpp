// slotdiff/concepts/slot_sequence.hpp: sequences that grow by batches of slot insertions.
//
// Built in two layers: a token_sequence can be read (length, random access, iteration, bulk copy);
// a slot_sequence can also grow by one denoising step's batch of insertions, and remembers for every
// token the step at which it was born.
#pragma once

#include <concepts>
#include <cstddef>
#include <iterator>
#include <ranges>
#include <span>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/slots/insertion.hpp"

namespace slotdiff {

/// A readable sequence of token ids.
template <class S>
concept token_sequence =
    std::ranges::forward_range<const S> &&
    std::same_as<std::remove_cvref_t<std::ranges::range_reference_t<const S>>, token_id> &&
    requires(const S& s, std::size_t i, std::span<token_id> out) {
      { s.size() } -> std::same_as<std::size_t>;
      { s.token(i) } -> std::same_as<token_id>;
      s.copy_tokens(out);  // out.size() == s.size()
    };

/// A token_sequence that grows by batches of insertions into the slots of its layout.
///
///     vector_slots<side_slots> seq{std::vector<token_id>{7, 9}};    // _ 7 _ _ 9 _
///     std::vector<insertion> step{{.slot = 1, .token = 3}, {.slot = 3, .token = 4}};
///     seq.apply(step);                                              // 7 3 9 4, births 0 1 0 1
///
/// `apply` is all-or-nothing: a batch with a slot out of range, two insertions into one slot, or a
/// token id outside [0, vocabulary) throws slotdiff::slot_error and leaves the sequence as it was.
template <class S>
concept slot_sequence =
    token_sequence<S> && slot_layout<typename S::layout_type> &&
    requires(S& s, const S& cs, std::size_t i, insertion_batch batch, std::span<step_index> out) {
      { cs.birth(i) } -> std::same_as<step_index>;
      { cs.step() } -> std::same_as<step_index>;  // steps applied so far
      { cs.slot_count() } -> std::same_as<std::size_t>;
      cs.copy_births(out);
      s.apply(batch);
    };

}  // namespace slotdiff
