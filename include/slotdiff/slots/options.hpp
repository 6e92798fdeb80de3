// slotdiff/slots/options.hpp: the tuning knobs of the slot sequences, as one options pack.
//
// Boost.Container's pattern: a sequence takes `class Options = void`, where void means "every knob at
// this container's default", and a pack lists only the knobs that differ:
//
//     using opts = slot_options<growth_factor<3, 2>, growth_minimum<16>>;
//     vector_slots<side_layout, void, opts> seq;           // grows by 1.5x, at least 16 cells
//     gapped_slots<gap_layout, void, slot_options<root_density<1, 2>>> sparse;
//
// A knob a container does not use is accepted and ignored (one pack can serve all four); a type in the
// pack that is not a knob, or a knob given twice, is a compile-time error.
#pragma once

#include <concepts>
#include <cstddef>
#include <type_traits>

namespace slotdiff {

/// A positive fraction num / den, used by the knobs below.
struct fraction {
  std::size_t num = 0;  ///< numerator; 0 means "not given"
  std::size_t den = 1;  ///< denominator, not 0
  /// Whether the knob was given (num == 0 means "the container's default"). Complexity: O(1).
  constexpr bool given() const noexcept { return num != 0; }
  /// floor(x * num / den). Requires: x * num does not overflow (x below 2^48 for num < 2^16).
  /// Complexity: O(1). Throws: nothing.
  constexpr std::size_t of(std::size_t x) const noexcept { return x * num / den; }
};

namespace detail {
enum class slot_knob { growth, growth_minimum, root_density };
}

/// When a sequence runs out of room it allocates room for max(needed, capacity * Num / Den) tokens.
/// Requires: Num / Den > 1 (a factor of 1 or less would make a run of steps quadratic).
/// Defaults: 2 for vector_slots, gap_buffer_slots and gapped_slots (whose capacity after a rebuild
/// is the tokens times the factor, rounded up to a power of two of 64-cell blocks); 3/2 for
/// devector_slots, at each end.
template <std::size_t Num, std::size_t Den = 1>
struct growth_factor {
  static_assert(Den != 0 && Num > Den, "growth_factor<Num, Den>: needs Num / Den > 1");
  static constexpr detail::slot_knob knob = detail::slot_knob::growth;  ///< which knob this is
  static constexpr fraction value{Num, Den};                            ///< the factor
};

/// devector_slots: at least this many free cells at an end that has to grow (default 8), so that
/// short sequences do not reallocate at every step.
template <std::size_t Cells>
struct growth_minimum {
  static constexpr detail::slot_knob knob = detail::slot_knob::growth_minimum;  ///< which knob this is
  static constexpr std::size_t value = Cells;                                   ///< cells (tokens)
};

/// gapped_slots: the packed-memory array's density bound at the root (the whole array), default 7/10.
/// A window of 2^l blocks may be filled to 1 - (1 - root) * l / height before the next level takes
/// over; past the root's bound the array grows. Lower: fewer cells move per insertion, more memory.
/// Requires: 0 < Num / Den < 1, and growth_factor * root_density >= 1 (an array just rebuilt must not
/// be over its bound already).
template <std::size_t Num, std::size_t Den>
struct root_density {
  static_assert(Num != 0 && Num < Den, "root_density<Num, Den>: needs 0 < Num / Den < 1");
  static constexpr detail::slot_knob knob = detail::slot_knob::root_density;  ///< which knob this is
  static constexpr fraction value{Num, Den};                                  ///< live cells / cells
};

namespace detail {
template <class T>
concept slot_option = requires {
  { T::knob } -> std::convertible_to<slot_knob>;
  T::value;
};

template <slot_knob K, class... Os>
inline constexpr std::size_t knob_count = (std::size_t{0} + ... + (Os::knob == K ? 1u : 0u));

template <slot_knob K, class V, class... Os>
constexpr V knob_value(V fallback) noexcept {
  V v = fallback;
  (
      [&] {
        if constexpr (Os::knob == K) v = Os::value;
      }(),
      ...);
  return v;
}
}  // namespace detail

/// The options pack. Each member is the knob's value, or "not given" (fraction{} / not_given) for
/// the container's default, which the container fills in.
template <class... Options>
struct slot_options {
  /// growth_minimum's value when the pack leaves it out.
  static constexpr std::size_t not_given = static_cast<std::size_t>(-1);
  static_assert((detail::slot_option<Options> && ...),
                "slot_options: takes growth_factor, growth_minimum and root_density only");
  static_assert(detail::knob_count<detail::slot_knob::growth, Options...> <= 1 &&
                    detail::knob_count<detail::slot_knob::growth_minimum, Options...> <= 1 &&
                    detail::knob_count<detail::slot_knob::root_density, Options...> <= 1,
                "slot_options: names a knob twice");
  /// growth_factor's value, or fraction{} (not given) when left out.
  static constexpr fraction growth = detail::knob_value<detail::slot_knob::growth, fraction, Options...>(fraction{});
  /// not_given when left out (growth_minimum<0> is a valid knob).
  static constexpr std::size_t growth_minimum =
      detail::knob_value<detail::slot_knob::growth_minimum, std::size_t, Options...>(not_given);
  /// root_density's value, or fraction{} (not given) when left out.
  static constexpr fraction root_density =
      detail::knob_value<detail::slot_knob::root_density, fraction, Options...>(fraction{});
};

namespace detail {
template <class T>
inline constexpr bool is_slot_options_v = false;
template <class... Os>
inline constexpr bool is_slot_options_v<slot_options<Os...>> = true;

/// The knobs a container runs with: Options (void or a slot_options) with every knob it leaves out
/// set to the container's default.
template <class Options, fraction Growth, std::size_t GrowthMinimum = 8, fraction RootDensity = fraction{7, 10}>
struct resolved_slot_options {
  using pack = std::conditional_t<std::is_void_v<Options>, slot_options<>, Options>;
  static_assert(is_slot_options_v<pack>, "slot sequence: the Options parameter must be void or a slot_options<...>");
  static constexpr fraction growth = pack::growth.given() ? pack::growth : Growth;
  static constexpr std::size_t growth_minimum = pack::growth_minimum != pack::not_given ? pack::growth_minimum : GrowthMinimum;
  static constexpr fraction root_density = pack::root_density.given() ? pack::root_density : RootDensity;
};
}  // namespace detail

}  // namespace slotdiff
