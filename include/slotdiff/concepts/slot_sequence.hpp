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
#include <type_traits>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/types/insertion.hpp"
#include "slotdiff/types/token.hpp"

namespace slotdiff {

namespace detail::token_sequence_requires {
template <class S>
concept range = std::ranges::forward_range<const S>;
template <class S>
concept of_token_ids = std::same_as<std::remove_cvref_t<std::ranges::range_reference_t<const S>>, token_id>;
template <class S>
concept size = requires(const S& s) {
  { s.size() } -> std::same_as<std::size_t>;
};
template <class S>
concept token = requires(const S& s, std::size_t i) {
  { s.token(i) } -> std::same_as<token_id>;
};
template <class S>
concept copy_tokens = requires(const S& s, std::span<token_id> out) { s.copy_tokens(out); };
}  // namespace detail::token_sequence_requires

namespace detail::slot_sequence_requires {
template <class S>
concept layout_type = requires { typename S::layout_type; } && slot_layout<typename S::layout_type>;
template <class S>
concept birth = requires(const S& s, std::size_t i) {
  { s.birth(i) } -> std::same_as<step_index>;
};
template <class S>
concept step = requires(const S& s) {
  { s.step() } -> std::same_as<step_index>;
};
template <class S>
concept slot_count = requires(const S& s) {
  { s.slot_count() } -> std::same_as<std::size_t>;
};
template <class S>
concept copy_births = requires(const S& s, std::span<step_index> out) { s.copy_births(out); };
template <class S>
concept apply = requires(S& s, insertion_batch batch) { s.apply(batch); };
}  // namespace detail::slot_sequence_requires

/// A readable sequence of token ids: a forward range of token_id with size(), token(i) and
/// copy_tokens(out) (out.size() == size()).
template <class S>
concept token_sequence =
    detail::token_sequence_requires::range<S> && detail::token_sequence_requires::of_token_ids<S> &&
    detail::token_sequence_requires::size<S> && detail::token_sequence_requires::token<S> &&
    detail::token_sequence_requires::copy_tokens<S>;

/// A token_sequence that grows by batches of insertions into the slots of its layout.
///
///     vector_slots<side_layout> seq{std::vector<token_id>{7, 9}};   // _ 7 _ _ 9 _
///     std::vector<insertion> step{{.slot = 1, .token = 3}, {.slot = 3, .token = 4}};
///     seq.apply(step);                                              // 7 3 9 4, births 0 1 0 1
///
/// `apply` is all-or-nothing: a batch with a slot out of range, two insertions into one slot, or a
/// token id outside [0, vocabulary) throws slotdiff::slot_error and leaves the sequence as it was.
template <class S>
concept slot_sequence =
    token_sequence<S> && detail::slot_sequence_requires::layout_type<S> && detail::slot_sequence_requires::birth<S> &&
    detail::slot_sequence_requires::step<S> && detail::slot_sequence_requires::slot_count<S> &&
    detail::slot_sequence_requires::copy_births<S> && detail::slot_sequence_requires::apply<S>;

/// The diagnostic twin of token_sequence: true, or one compile-time message per missing member.
template <class S>
consteval bool check_token_sequence() {
  namespace req = detail::token_sequence_requires;
  static_assert(req::range<S>,
                "slotdiff: not a token_sequence: begin() const and end() const must make a forward range");
  static_assert(req::of_token_ids<S>, "slotdiff: not a token_sequence: dereferencing its iterator must give token_id");
  static_assert(req::size<S>, "slotdiff: not a token_sequence: std::size_t size() const is missing");
  static_assert(req::token<S>, "slotdiff: not a token_sequence: token_id token(std::size_t i) const is missing");
  static_assert(req::copy_tokens<S>,
                "slotdiff: not a token_sequence: copy_tokens(std::span<token_id> out) const is missing");
  return token_sequence<S>;
}

/// The diagnostic twin of slot_sequence: true, or one compile-time message per missing member.
template <class S>
consteval bool check_slot_sequence() {
  namespace req = detail::slot_sequence_requires;
  static_assert(check_token_sequence<S>(), "slotdiff: not a slot_sequence: not a token_sequence (see the message above)");
  static_assert(req::layout_type<S>,
                "slotdiff: not a slot_sequence: S::layout_type is missing or not a slot_layout (see check_slot_layout)");
  static_assert(req::birth<S>, "slotdiff: not a slot_sequence: step_index birth(std::size_t i) const is missing");
  static_assert(req::step<S>, "slotdiff: not a slot_sequence: step_index step() const is missing");
  static_assert(req::slot_count<S>, "slotdiff: not a slot_sequence: std::size_t slot_count() const is missing");
  static_assert(req::copy_births<S>,
                "slotdiff: not a slot_sequence: copy_births(std::span<step_index> out) const is missing");
  static_assert(req::apply<S>, "slotdiff: not a slot_sequence: apply(insertion_batch) is missing");
  return slot_sequence<S>;
}

}  // namespace slotdiff
