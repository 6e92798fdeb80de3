// slotdiff/selection/select.hpp: choosing one step's removal set from importance scores under a slot
// layout's feasibility constraint (slotdiff/slots/layout.hpp, is_feasible_removal).
//
// A token is removable when its score is below `options.below` (+infinity by default), so a score of
// +infinity (keyword_protect) is never removed and a threshold schedule is a finite `below`.
// Ties between equal scores are broken by a seeded random rank per position, so the same seed always
// picks the same set.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/scoring/random.hpp"
#include "slotdiff/slots/layout.hpp"

namespace slotdiff {

/// Greedy or exact selection.
enum class selection_method : std::uint8_t {
  greedy,  ///< lowest scores first, skipping a token that would break feasibility: O(n log n)
  exact,   ///< the feasible k-set of least total score, by dynamic programming: O(n k)
};

struct selection_options {
  float below = std::numeric_limits<float>::infinity();  ///< only scores < below are removable
  std::uint64_t seed = 0;                                ///< tie-breaking among equal scores
};

namespace detail {

/// Throws input_error naming the position of the first NaN score.
inline void check_scores(std::span<const float> scores, const char* who) {
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (std::isnan(scores[i]))
      throw input_error(std::string(who) + ": score of position " + std::to_string(i) + " of " +
                  std::to_string(scores.size()) + " is NaN");
}

inline std::uint32_t tie_rank(std::uint64_t seed, std::size_t i) noexcept {
  return static_cast<std::uint32_t>(splitmix64(seed ^ splitmix64(i)) >> 32);
}

/// The longest run any state may hold: the larger bound of the runs it could still become.
template <class Layout>
constexpr std::size_t max_run() {
  constexpr run_limits l = Layout::limits;
  return std::max({l.leading, l.interior, l.trailing, l.whole});
}

/// Whether flagging token i (not yet flagged) keeps the feasible set `removed` feasible: only the run
/// that i joins changes, and runs are O(1) long in a feasible set. Complexity: O(1).
template <class Layout>
bool can_add_removal(std::span<const std::uint8_t> removed, std::size_t i) noexcept {
  constexpr run_limits lim = Layout::limits;
  const std::size_t n = removed.size();
  std::size_t l = i, r = i;
  while (l > 0 && removed[l - 1]) --l;
  while (r + 1 < n && removed[r + 1]) ++r;
  const std::size_t run = r - l + 1;
  const bool leading = l == 0, trailing = r + 1 == n;
  const std::size_t bound = leading && trailing ? lim.whole : leading ? lim.leading : trailing ? lim.trailing : lim.interior;
  return run <= bound;
}

}  // namespace detail

/// The most tokens one step can remove from a sequence with these scores (only removable tokens).
/// Complexity: O(n), one pass of a DP over (run length, kept token seen).
template <slot_layout Layout>
std::size_t max_feasible_removals(std::span<const float> scores, float below = std::numeric_limits<float>::infinity()) {
  constexpr run_limits lim = Layout::limits;
  constexpr std::size_t R = detail::max_run<Layout>();
  constexpr long unreachable = -1;
  // best[s][r]: most removals so far ending in a run of r removed tokens, s = a kept token seen.
  std::array<std::array<long, R + 1>, 2> best{}, next{};
  for (auto& row : best) row.fill(unreachable);
  best[0][0] = 0;
  for (float c : scores) {
    for (auto& row : next) row.fill(unreachable);
    const bool removable = c < below;
    for (std::size_t s = 0; s < 2; ++s)
      for (std::size_t r = 0; r <= R; ++r) {
        const long v = best[s][r];
        if (v == unreachable) continue;
        if (r <= (s ? lim.interior : lim.leading)) next[1][0] = std::max(next[1][0], v);
        const std::size_t cap = s ? std::max(lim.interior, lim.trailing) : std::max(lim.leading, lim.whole);
        if (removable && r + 1 <= cap) next[s][r + 1] = std::max(next[s][r + 1], v + 1);
      }
    best = next;
  }
  long most = 0;
  for (std::size_t s = 0; s < 2; ++s)
    for (std::size_t r = 0; r <= R; ++r)
      if (best[s][r] != unreachable && r <= (s ? lim.trailing : lim.whole)) most = std::max(most, best[s][r]);
  return static_cast<std::size_t>(most);
}

/// Greedy selection: visits tokens by increasing score (ties by seeded rank) and flags each one whose
/// removal keeps the set feasible, until k are flagged. `removed` is resized to n and overwritten.
/// Returns how many were flagged (fewer than k when greedy gets stuck or too few are removable).
/// Throws: input_error on a NaN score. Complexity: O(n log n) (runs are O(1) long, so each check is O(1)).
template <slot_layout Layout>
std::size_t select_greedy(std::span<const float> scores, std::size_t k, std::vector<std::uint8_t>& removed,
                          const selection_options& opts = {}) {
  detail::check_scores(scores, "select_greedy");
  const std::size_t n = scores.size();
  removed.assign(n, 0);
  if (k == 0 || n == 0) return 0;
  thread_local std::vector<std::pair<float, std::uint32_t>> keys;
  thread_local std::vector<std::uint32_t> order;
  keys.resize(n);
  order.resize(n);
  for (std::size_t i = 0; i < n; ++i) keys[i] = {scores[i], detail::tie_rank(opts.seed, i)};
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return keys[a] < keys[b]; });
  std::size_t chosen = 0;
  for (std::uint32_t i : order) {
    if (!(scores[i] < opts.below)) break;  // sorted: nothing after this is removable
    if (!detail::can_add_removal<Layout>(removed, i)) continue;
    removed[i] = 1;
    if (++chosen == k) break;
  }
  return chosen;
}

namespace detail {

/// The exact selection's cost of a partial choice: total score, then total seeded rank (ties).
struct exact_cost {
  double sum;
  std::uint64_t ties;
  bool operator<(const exact_cost& o) const noexcept { return sum < o.sum || (sum == o.sum && ties < o.ties); }
  bool reachable() const noexcept { return sum != std::numeric_limits<double>::infinity(); }
};
inline constexpr exact_cost exact_unreachable{std::numeric_limits<double>::infinity(), 0};

/// States per removal count of the exact selection's dynamic program: (run r, kept seen s) -> r * 2 + s.
template <class Layout>
constexpr std::size_t exact_states() {
  return 2 * (max_run<Layout>() + 1);
}

/// The forward pass of select_exact over the n tokens. State (j, r, s): j removals so far, a run of
/// r removed tokens just before the next position, s whether a token has been kept. Afterwards
/// cur[j * S + r * 2 + s] is the least cost of reaching (j, r, s) after the last token, and
/// back[i * (k + 1) + j] the state (r * 2 + s) from which token i was kept with j removals.
/// Complexity: O(n k) time.
template <class Layout>
void exact_forward(std::span<const float> scores, std::size_t k, const selection_options& opts,
                   std::vector<exact_cost>& cur, std::vector<exact_cost>& nxt, std::vector<std::uint8_t>& back) {
  constexpr run_limits lim = Layout::limits;
  constexpr std::size_t R = max_run<Layout>();
  constexpr std::size_t S = exact_states<Layout>();
  const std::size_t n = scores.size();
  cur.assign((k + 1) * S, exact_unreachable);
  nxt.assign((k + 1) * S, exact_unreachable);
  back.assign(n * (k + 1), 0);
  cur[0] = {0.0, 0};  // j = 0, r = 0, s = 0
  for (std::size_t i = 0; i < n; ++i) {
    std::fill(nxt.begin(), nxt.end(), exact_unreachable);
    const bool removable = scores[i] < opts.below;
    const double c = scores[i];
    const std::uint64_t rank = tie_rank(opts.seed, i);
    const std::size_t jmax = std::min(k, i);  // at most i removals before position i
    for (std::size_t j = 0; j <= jmax; ++j)
      for (std::size_t r = 0; r <= R; ++r)
        for (std::size_t s = 0; s < 2; ++s) {
          const exact_cost v = cur[j * S + r * 2 + s];
          if (!v.reachable()) continue;
          if (r <= (s ? lim.interior : lim.leading)) {  // keep token i
            exact_cost& to = nxt[j * S + 0 * 2 + 1];
            if (v < to) {
              to = v;
              back[i * (k + 1) + j] = static_cast<std::uint8_t>(r * 2 + s);
            }
          }
          const std::size_t cap = s ? std::max(lim.interior, lim.trailing) : std::max(lim.leading, lim.whole);
          if (removable && j < k && r + 1 <= cap) {  // remove token i
            exact_cost& to = nxt[(j + 1) * S + (r + 1) * 2 + s];
            const exact_cost w{v.sum + c, v.ties + rank};
            if (w < to) to = w;
          }
        }
    std::swap(cur, nxt);
  }
}

/// The cheapest final state (r * 2 + s) with k removals whose last run the layout allows (trailing,
/// or whole when nothing was kept); exact_states<Layout>() when there is none.
template <class Layout>
std::size_t best_final_state(std::span<const exact_cost> last, std::size_t k) {
  constexpr run_limits lim = Layout::limits;
  constexpr std::size_t R = max_run<Layout>();
  constexpr std::size_t S = exact_states<Layout>();
  std::size_t best_state = S;
  exact_cost best = exact_unreachable;
  for (std::size_t r = 0; r <= R; ++r)
    for (std::size_t s = 0; s < 2; ++s) {
      const exact_cost v = last[k * S + r * 2 + s];
      if (v.reachable() && r <= (s ? lim.trailing : lim.whole) && v < best) {
        best = v;
        best_state = r * 2 + s;
      }
    }
  return best_state;
}

/// Walks the back-pointers from the final `state` with k removals and flags the removed tokens.
inline void trace_back_removals(std::span<const std::uint8_t> back, std::size_t k, std::size_t state,
                                std::span<std::uint8_t> removed) {
  std::size_t j = k;
  for (std::size_t i = removed.size(); i-- > 0;) {
    const std::size_t r = state / 2;
    if (r > 0) {  // only a removal reaches a state with a non-empty run
      removed[i] = 1;
      --j;
      state = (r - 1) * 2 + state % 2;
    } else {
      state = back[i * (k + 1) + j];
    }
  }
}

}  // namespace detail

/// Exact selection: the feasible set of exactly k removable tokens of least total score (ties: least
/// total seeded rank). `removed` is resized to n and overwritten. Returns false (and leaves `removed`
/// all zero) when no feasible set of k removable tokens exists.
/// Throws: input_error on a NaN score. Complexity: O(n k) time, O(n k) bytes of back-pointers.
template <slot_layout Layout>
bool select_exact(std::span<const float> scores, std::size_t k, std::vector<std::uint8_t>& removed,
                  const selection_options& opts = {}) {
  detail::check_scores(scores, "select_exact");
  removed.assign(scores.size(), 0);
  if (k > scores.size()) return false;
  thread_local std::vector<detail::exact_cost> cur, nxt;
  thread_local std::vector<std::uint8_t> back;  // per (i, j): predecessor state of (j, r=0, s=1)
  detail::exact_forward<Layout>(scores, k, opts, cur, nxt, back);
  const std::size_t state = detail::best_final_state<Layout>(cur, k);
  if (state == detail::exact_states<Layout>()) return false;
  detail::trace_back_removals(back, k, state, removed);
  return true;
}

/// Dispatches on `method`. Returns the number of tokens flagged: k, or fewer (greedy stuck; exact
/// infeasible returns 0).
template <slot_layout Layout>
std::size_t select_removals(selection_method method, std::span<const float> scores, std::size_t k,
                            std::vector<std::uint8_t>& removed, const selection_options& opts = {}) {
  if (method == selection_method::exact) return select_exact<Layout>(scores, k, removed, opts) ? k : 0;
  return select_greedy<Layout>(scores, k, removed, opts);
}

}  // namespace slotdiff
