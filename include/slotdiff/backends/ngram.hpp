// slotdiff/backends/ngram.hpp: a statistical insertion model, P(token | left neighbour, right
// neighbour, slot side), trained from noising trajectories in seconds.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <numeric>
#include <ostream>
#include <ranges>
#include <span>
#include <string>
#include <vector>

#include "slotdiff/concepts/replayable_trajectory.hpp"
#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/denoise/limits.hpp"
#include "slotdiff/denoise/ragged_batch.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/noise/targets_options.hpp"
#include "slotdiff/io/atomic_file.hpp"

namespace slotdiff {

namespace detail {

/// A set of ids in [0, size) that is emptied in O(1): each id holds the epoch that last marked it.
/// When the 32-bit epoch wraps (after 2^32 - 1 clears, e.g. a server's 2^32nd top-k slot) every stamp
/// is reset once, so a stale stamp can never equal the current epoch. `first_epoch` exists for tests.
class epoch_marks {
public:
  explicit epoch_marks(std::size_t size = 0, std::uint32_t first_epoch = 1) : stamp_(size, 0), epoch_(first_epoch == 0 ? 1 : first_epoch) {}
  std::size_t size() const noexcept { return stamp_.size(); }
  /// Empties the set. Amortised O(1) (O(size) once every 2^32 - 1 calls).
  void clear() {
    if (++epoch_ == 0) {
      std::fill(stamp_.begin(), stamp_.end(), 0u);
      epoch_ = 1;
    }
  }
  bool contains(std::size_t i) const noexcept { return stamp_[i] == epoch_; }
  void insert(std::size_t i) noexcept { stamp_[i] = epoch_; }
  std::uint32_t epoch() const noexcept { return epoch_; }

private:
  std::vector<std::uint32_t> stamp_;
  std::uint32_t epoch_;
};

/// How the n-gram packs a context (left, right, side) into one 64-bit key, and the vocabulary cap
/// that packing implies. Context ids are token ids or the begin (vocabulary) and end (vocabulary + 1)
/// markers, so a vocabulary below 2^23 gives ids of at most 2^23 < 2^24: 24 bits each, above 2 bits
/// of side. Saved .ngram files hold these keys, so the shifts are part of the file format.
inline constexpr unsigned ngram_vocabulary_bits = 23;
/// The n-gram's vocabulary size lies in 1..2^23 - 1 (ngram_backend and ngram_backend::read refuse others).
inline constexpr std::uint64_t ngram_max_vocabulary = std::uint64_t{1} << ngram_vocabulary_bits;
inline constexpr unsigned ngram_side_bits = 2;
inline constexpr unsigned ngram_context_id_bits = ngram_vocabulary_bits + 1;
inline constexpr unsigned ngram_left_shift = ngram_side_bits + ngram_context_id_bits;
static_assert((ngram_max_vocabulary - 1) + 1 < (std::uint64_t{1} << ngram_context_id_bits),
              "the end marker of the largest vocabulary fits a context id field");
static_assert(ngram_left_shift + ngram_context_id_bits <= std::numeric_limits<std::uint64_t>::digits,
              "a (left, right, side) key fits std::uint64_t");
static_assert(ngram_left_shift == 26, "saved .ngram files hold keys with the left id at bit 26");

}  // namespace detail

struct ngram_options {
  /// Absolute discount subtracted from every seen count (interpolated backoff, Ney et al. 1994).
  float discount = 0.75f;
  /// 3: P(x | left, right, side) backing off to the average of P(x | left, side) and
  /// P(x | right, side), then to P(x | side), then uniform; 2 starts at the average; 1 is
  /// P(x | side) alone (the unigram baseline).
  int order = 3;
  /// Ids the model never inserts (e.g. pad, unk, root): probability 0, and not counted in training.
  std::vector<token_id> never_insert{};
};

/// The n-gram insertion model. Slot s of a sequence x has context (left, right, side): the tokens
/// around its gap (begin/end markers at the edges) and the slot's side (root, left of a token,
/// right of a token, or the one slot of a gap). Each level interpolates its discounted counts with
/// the level below, so every distribution sums to 1 over the insertable tokens (none included).
template <slot_layout Layout>
class ngram_backend {
public:
  using layout_type = Layout;

  ngram_backend(std::size_t vocabulary, token_id none, ngram_options opt = {})
      : vocab_(vocabulary), none_(none), opt_(std::move(opt)), allowed_(vocabulary, 1) {
    if (vocabulary == 0 || vocabulary >= detail::ngram_max_vocabulary)
      throw options_error("ngram vocabulary size " + std::to_string(vocabulary) + " outside 1..2^23");
    if (none < 0 || static_cast<std::size_t>(none) >= vocabulary)
      throw options_error("ngram none id " + std::to_string(none) + " outside the vocabulary of " + std::to_string(vocabulary));
    if (!(opt_.discount > 0.0f && opt_.discount < 1.0f))
      throw options_error("ngram discount must lie in (0, 1), got " + std::to_string(opt_.discount));
    if (opt_.order < 1 || opt_.order > 3) throw options_error("ngram order must be 1, 2 or 3, got " + std::to_string(opt_.order));
    for (token_id t : opt_.never_insert) {
      if (t < 0 || static_cast<std::size_t>(t) >= vocabulary || t == none)
        throw options_error("ngram never_insert id " + std::to_string(t) + " is not a real token");
      allowed_[static_cast<std::size_t>(t)] = 0;
    }
    insertable_ = static_cast<std::size_t>(std::count(allowed_.begin(), allowed_.end(), 1));
    finalize();
  }

  std::size_t vocabulary_size() const noexcept { return vocab_; }
  token_id none_id() const noexcept { return none_; }
  const ngram_options& options() const noexcept { return opt_; }

  /// Counts one denoising step: the slots of `state` and the token (or none) each must receive.
  /// Call finalize() after the last observation (train() does).
  void observe_step(std::span<const token_id> state, std::span<const token_id> targets) {
    const std::size_t n = state.size();
    if (targets.size() != Layout::slot_count(n))
      throw input_error("ngram step has " + std::to_string(targets.size()) + " targets for " +
                        std::to_string(Layout::slot_count(n)) + " slots");
    for (std::size_t s = 0; s < targets.size(); ++s) {
      const token_id x = targets[s];
      if (x < 0 || static_cast<std::size_t>(x) >= vocab_)
        throw input_error("ngram target id " + std::to_string(x) + " at slot " + std::to_string(s) + " outside the vocabulary");
      if (!allowed_[static_cast<std::size_t>(x)]) continue;
      const context c = context_of(state, s);
      events_.push_back({key3(c), key_left(c), key_right(c), c.side, x});
    }
  }

  /// Counts every step of a trajectory.
  template <replayable_trajectory Trajectory>
  void observe(const Trajectory& tr) {
    for (std::size_t t = 0; t < static_cast<std::size_t>(tr.steps()); ++t) {
      const auto& s = tr.state(t + 1);
      const auto& g = detail::targets_with_none(tr, t, none_);
      const std::vector<token_id> state(std::ranges::begin(s), std::ranges::end(s));
      const std::vector<token_id> targets(std::ranges::begin(g), std::ranges::end(g));
      observe_step(state, targets);
    }
  }

  /// Builds the count tables from everything observed so far (adds to earlier tables).
  /// Complexity: O(E log E) for E observed slots.
  void finalize() {
    build(events_, [](const event& e) { return e.k3; }, c3_);
    build(events_, [](const event& e) { return e.kl; }, cl_);
    build(events_, [](const event& e) { return e.kr; }, cr_);
    for (const event& e : events_) {
      std::uint32_t& c = unigram_[e.side * vocab_ + static_cast<std::size_t>(e.x)];
      if (c == std::numeric_limits<std::uint32_t>::max())
        throw input_error("ngram count of token " + std::to_string(e.x) + " on one slot side exceeds 2^32 - 1");
      ++c;
    }
    events_.clear();
    events_.shrink_to_fit();
    for (std::size_t side = 0; side < sides; ++side) {
      total_[side] = distinct_[side] = 0;
      for (std::size_t v = 0; v < vocab_; ++v) {
        const std::uint32_t c = unigram_[side * vocab_ + v];
        total_[side] += c;
        distinct_[side] += c != 0;
      }
      auto& top = top_[side];
      top.clear();
      for (std::size_t v = 0; v < vocab_; ++v)
        if (allowed_[v]) top.push_back(static_cast<token_id>(v));
      const std::size_t keep = std::min(top.size(), max_candidates);
      std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(keep), top.end(), [&](token_id a, token_id b) {
        return unigram_[side * vocab_ + static_cast<std::size_t>(a)] > unigram_[side * vocab_ + static_cast<std::size_t>(b)];
      });
      top.resize(keep);
    }
  }

  /// Trains a model from trajectories. Complexity: O(E log E), E the slots over all their steps.
  template <std::ranges::input_range Trajectories>
  static ngram_backend train(const Trajectories& trajectories, std::size_t vocabulary, token_id none, ngram_options opt = {}) {
    ngram_backend m(vocabulary, none, std::move(opt));
    for (const auto& tr : trajectories) m.observe(tr);
    m.finalize();
    return m;
  }

  /// P(x | the context of slot s of state).
  /// Throws: error naming the value if x or a token of `state` lies outside [0, vocabulary_size()),
  /// or `slot` outside [0, Layout::slot_count(|state|)). Complexity: O(|state| + log of the tables).
  double probability(std::span<const token_id> state, std::size_t slot, token_id x) const {
    check_state(state, "probability");
    check_target(x, slot, "probability");
    if (slot >= Layout::slot_count(state.size()))
      throw input_error("ngram probability: slot " + std::to_string(slot) + " outside the " +
                        std::to_string(Layout::slot_count(state.size())) + " slots of a sequence of " + std::to_string(state.size()));
    return prob(find(context_of(state, slot)), x);
  }

  /// Mean negative log-likelihood in nats per slot (none included) of the steps of `trajectories`,
  /// and the number of slots measured (targets the model never inserts are skipped).
  /// Throws: error naming the trajectory, step and value if a token or target id lies outside
  /// [0, vocabulary_size()) or a step has the wrong number of targets.
  template <std::ranges::input_range Trajectories>
  std::pair<double, std::size_t> slot_nll(const Trajectories& trajectories) const {
    double sum = 0.0;
    std::size_t count = 0;
    std::size_t index = 0;
    for (const auto& tr : trajectories) {
      for (std::size_t t = 0; t < static_cast<std::size_t>(tr.steps()); ++t) {
        const auto& s = tr.state(t + 1);
        const auto& g = detail::targets_with_none(tr, t, none_);
        const std::vector<token_id> state(std::ranges::begin(s), std::ranges::end(s));
        const std::vector<token_id> targets(std::ranges::begin(g), std::ranges::end(g));
        const std::string where = "slot_nll: trajectory " + std::to_string(index) + " step " + std::to_string(t + 1);
        check_state(state, where.c_str());
        if (targets.size() != Layout::slot_count(state.size()))
          throw input_error("ngram " + where + " has " + std::to_string(targets.size()) + " targets for " +
                            std::to_string(Layout::slot_count(state.size())) + " slots");
        for (std::size_t slot = 0; slot < targets.size(); ++slot) {
          const token_id x = targets[slot];
          check_target(x, slot, where.c_str());
          if (allowed_[static_cast<std::size_t>(x)]) {
            sum -= std::log(prob(find(context_of(state, slot)), x));
            ++count;
          }
        }
      }
      ++index;
    }
    return {count ? sum / static_cast<double>(count) : 0.0, count};
  }

  std::size_t top_k(const ragged_batch& batch, std::size_t k, std::span<token_id> ids, std::span<float> logp) {
    if (seen_.size() != vocab_) seen_ = detail::epoch_marks(vocab_);
    std::size_t row = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto seq = batch.sequence(i);
      for (std::size_t s = 0; s < Layout::slot_count(seq.size()); ++s, ++row) {
        const lookup l = find(context_of(seq, s));
        // Outside the seen tokens of the three contexts, P is proportional to P(x | side): the exact
        // top k lies among those tokens and the k best by the side's unigram counts.
        pool_.clear();
        seen_.clear();
        auto consider = [&](token_id x) {
          if (seen_.contains(static_cast<std::size_t>(x)) || !allowed_[static_cast<std::size_t>(x)]) return;
          seen_.insert(static_cast<std::size_t>(x));
          pool_.push_back({x, static_cast<float>(std::log(prob(l, x)))});
        };
        for (const table* t : {&l.t3, &l.tl, &l.tr})
          if (t->total != 0)
            for (std::size_t e = t->begin; e < t->end; ++e) consider(t->owner->tokens[e]);
        const auto& top = top_[l.side];
        for (std::size_t j = 0, outside = 0; j < top.size() && outside < k; ++j) {
          if (seen_.contains(static_cast<std::size_t>(top[j]))) continue;
          consider(top[j]);
          ++outside;
        }
        const std::size_t kk = std::min(k, pool_.size());
        std::partial_sort(pool_.begin(), pool_.begin() + static_cast<std::ptrdiff_t>(kk), pool_.end(),
                          [](const scored& a, const scored& b) { return a.logp > b.logp || (a.logp == b.logp && a.x < b.x); });
        for (std::size_t j = 0; j < k; ++j) {
          ids[row * k + j] = j < kk ? pool_[j].x : none_;
          logp[row * k + j] = j < kk ? pool_[j].logp : -std::numeric_limits<float>::infinity();
        }
      }
    }
    return row;
  }

  std::size_t log_probs(const ragged_batch& batch, std::span<float> out) {
    std::size_t row = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto seq = batch.sequence(i);
      for (std::size_t s = 0; s < Layout::slot_count(seq.size()); ++s, ++row) {
        const lookup l = find(context_of(seq, s));
        float* o = out.data() + row * vocab_;
        for (std::size_t v = 0; v < vocab_; ++v)
          o[v] = allowed_[v] ? static_cast<float>(std::log(prob(l, static_cast<token_id>(v))))
                             : -std::numeric_limits<float>::infinity();
      }
    }
    return row;
  }

  // ---- persistence ------------------------------------------------------------------------------

  static constexpr std::string_view file_magic = "slotdiff-ngram 1\n";

  /// Writes the model atomically (write_file_atomically): to a temporary file beside `path`, then
  /// renamed over it, so a reader (or a second writer, e.g. two processes filling one cache) never
  /// sees a partial file.
  /// Throws: error naming the path if it cannot be written; `path` is then left as it was.
  void save(const std::filesystem::path& path) const {
    try {
      write_file_atomically(path, [&](std::ostream& out) { write(out); });
    } catch (const file_write_error& e) {
      throw file_write_error("ngram model: " + std::string(e.what()));
    }
  }

  static ngram_backend load(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw file_format_error("cannot open ngram model " + path.string());
    return read(in, path.string());
  }

  void write(std::ostream& out) const {
    out.write(file_magic.data(), static_cast<std::streamsize>(file_magic.size()));
    put(out, std::uint64_t{vocab_});
    put(out, static_cast<std::int64_t>(none_));
    put(out, opt_.discount);
    put(out, static_cast<std::int32_t>(opt_.order));
    put(out, std::uint64_t{std::string_view(Layout::name).size()});
    out.write(Layout::name.data(), static_cast<std::streamsize>(Layout::name.size()));
    put_vec(out, opt_.never_insert);
    put_vec(out, unigram_);
    for (const tables* t : {&c3_, &cl_, &cr_}) {
      put_vec(out, t->keys);
      put_vec(out, t->offsets);
      put_vec(out, t->tokens);
      put_vec(out, t->counts);
    }
  }

  /// Reads what write wrote. Memory is O(bytes read): every table is read in chunks and the model is
  /// built only once its per-id table is in.
  /// Throws: error naming `name`: a bad header, a layout other than Layout, truncation, sizes out of
  /// range, count tables that are not strictly ordered or name ids outside the vocabulary.
  static ngram_backend read(std::istream& in, const std::string& name) {
    std::string magic(file_magic.size(), '\0');
    in.read(magic.data(), static_cast<std::streamsize>(magic.size()));
    if (!in || magic != file_magic) throw file_format_error("" + name + " is not a slotdiff n-gram model (bad header)");
    const auto vocab = get<std::uint64_t>(in, name);
    const auto none = get<std::int64_t>(in, name);
    ngram_options opt;
    opt.discount = get<float>(in, name);
    opt.order = get<std::int32_t>(in, name);
    const auto layout_len = get<std::uint64_t>(in, name);
    if (layout_len > 64) throw file_format_error("" + name + " is corrupt (layout name length " + std::to_string(layout_len) + ")");
    std::string layout(layout_len, '\0');
    in.read(layout.data(), static_cast<std::streamsize>(layout_len));
    if (!in) throw file_format_error("" + name + " is truncated");
    if (layout != Layout::name)
      throw file_format_error("" + name + " was trained for " + layout + ", not " + std::string(Layout::name));
    if (vocab == 0 || vocab >= detail::ngram_max_vocabulary || none < 0 || static_cast<std::uint64_t>(none) >= vocab)
      throw file_format_error("" + name + " is corrupt (vocabulary " + std::to_string(vocab) + ", none " + std::to_string(none) + ")");
    opt.never_insert = get_vec<token_id>(in, name, vocab);
    // The unigram table is read before the model is built: its 4 x vocabulary entries must be in the
    // input, so a header that claims 2^23 ids costs the bytes it claims, not a 128 MB allocation.
    auto unigram = get_vec<std::uint32_t>(in, name, sides * vocab);
    if (unigram.size() != sides * vocab) throw file_format_error("" + name + " is corrupt (unigram table size)");
    ngram_backend m(static_cast<std::size_t>(vocab), static_cast<token_id>(none), std::move(opt));
    m.unigram_ = std::move(unigram);
    for (tables* t : {&m.c3_, &m.cl_, &m.cr_}) {
      t->keys = get_vec<std::uint64_t>(in, name, std::uint64_t{1} << 40);
      t->offsets = get_vec<std::uint32_t>(in, name, std::uint64_t{1} << 40);
      t->tokens = get_vec<token_id>(in, name, std::uint64_t{1} << 40);
      t->counts = get_vec<std::uint32_t>(in, name, std::uint64_t{1} << 40);
      t->validate(name, vocab);
    }
    // Training never counts a never-inserted id; a table that does would leave its discounted mass on
    // an id whose probability is 0, and the distributions would not sum to 1 (found by fuzz_ngram).
    for (std::size_t i = 0; i < m.unigram_.size(); ++i)
      if (m.unigram_[i] != 0 && !m.allowed_[i % vocab]) throw file_format_error("" + name + " is corrupt (counts for a never-inserted id)");
    for (const tables* t : {&m.c3_, &m.cl_, &m.cr_})
      for (token_id x : t->tokens)
        if (!m.allowed_[static_cast<std::size_t>(x)])
          throw file_format_error("" + name + " is corrupt (counts for the never-inserted id " + std::to_string(x) + ")");
    m.finalize();
    return m;
  }

private:
  static constexpr std::size_t sides = 4;
  static_assert(sides <= (std::size_t{1} << detail::ngram_side_bits), "a side fits the low bits of a context key");

  void check_state(std::span<const token_id> state, const char* what) const {
    for (std::size_t i = 0; i < state.size(); ++i)
      if (state[i] < 0 || static_cast<std::size_t>(state[i]) >= vocab_)
        throw input_error(std::string("ngram ") + what + ": token id " + std::to_string(state[i]) + " at position " +
                          std::to_string(i) + " outside the vocabulary of " + std::to_string(vocab_));
  }
  void check_target(token_id x, std::size_t slot, const char* what) const {
    if (x < 0 || static_cast<std::size_t>(x) >= vocab_)
      throw input_error(std::string("ngram ") + what + ": target id " + std::to_string(x) + " at slot " + std::to_string(slot) +
                        " outside the vocabulary of " + std::to_string(vocab_));
  }

  struct context {
    std::uint64_t left, right;  // token ids, or vocab_ (begin) / vocab_ + 1 (end)
    std::size_t side;
  };
  struct event {
    std::uint64_t k3, kl, kr;
    std::size_t side;
    token_id x;
  };
  // Compressed sparse rows: context keys (sorted) -> (token, count) entries sorted by token.
  struct tables {
    std::vector<std::uint64_t> keys;
    std::vector<std::uint32_t> offsets{0};
    std::vector<token_id> tokens;
    std::vector<std::uint32_t> counts;
    void validate(const std::string& name, std::uint64_t vocab) const {
      // Keys strictly increasing, every row non-empty with tokens strictly increasing (count_in's
      // binary search relies on it), every token an id, every count positive.
      bool ok = offsets.size() == keys.size() + 1 && offsets.front() == 0 && offsets.back() == tokens.size() &&
                tokens.size() == counts.size() && std::adjacent_find(keys.begin(), keys.end(), std::greater_equal<>{}) == keys.end() &&
                std::adjacent_find(offsets.begin(), offsets.end(), std::greater_equal<>{}) == offsets.end();
      for (std::size_t e = 0; ok && e < tokens.size(); ++e) ok = tokens[e] >= 0 && static_cast<std::uint64_t>(tokens[e]) < vocab && counts[e] > 0;
      for (std::size_t c = 0; ok && c + 1 < offsets.size(); ++c)
        for (std::uint32_t e = offsets[c] + 1; ok && e < offsets[c + 1]; ++e) ok = tokens[e - 1] < tokens[e];
      if (!ok) throw file_format_error("" + name + " is corrupt (count tables do not hold together)");
    }
  };
  struct table {  // one context's entries
    const tables* owner;
    std::size_t begin, end;
    std::uint64_t total, distinct;
  };
  struct lookup {  // the three contexts of a slot; a context never seen has total 0
    table t3{}, tl{}, tr{};
    std::size_t side = 0;
  };
  struct scored {
    token_id x;
    float logp;
  };

  context context_of(std::span<const token_id> x, std::size_t slot) const {
    const std::size_t n = x.size();
    const slot_place p = Layout::locate(slot, n);
    const std::uint64_t left = p.gap > 0 ? static_cast<std::uint64_t>(x[p.gap - 1]) : vocab_;
    const std::uint64_t right = p.gap < n ? static_cast<std::uint64_t>(x[p.gap]) : vocab_ + 1;
    return {left, right, static_cast<std::size_t>(p.side)};
  }
  static std::uint64_t key3(const context& c) {
    return (c.left << detail::ngram_left_shift) | (c.right << detail::ngram_side_bits) | c.side;
  }
  static std::uint64_t key_left(const context& c) { return (c.left << detail::ngram_side_bits) | c.side; }
  static std::uint64_t key_right(const context& c) { return (c.right << detail::ngram_side_bits) | c.side; }

  // Folds the events into `into`, adding to the counts it already holds (continued training). Earlier
  // tables enter as (context, token, count) triples, not as `count` repeated pairs, so a count read
  // from a file costs one entry whatever its size. Throws: error if a count would exceed 2^32 - 1.
  template <class Key>
  static void build(std::vector<event>& events, Key key, tables& into) {
    if (events.empty()) return;
    struct weighted {
      std::uint64_t key;
      token_id x;
      std::uint64_t n;
    };
    std::vector<weighted> pairs;
    pairs.reserve(events.size() + into.tokens.size());
    for (const event& e : events) pairs.push_back({key(e), e.x, 1});
    for (std::size_t c = 0; c < into.keys.size(); ++c)
      for (std::uint32_t e = into.offsets[c]; e < into.offsets[c + 1]; ++e) pairs.push_back({into.keys[c], into.tokens[e], into.counts[e]});
    std::sort(pairs.begin(), pairs.end(), [](const weighted& a, const weighted& b) { return a.key != b.key ? a.key < b.key : a.x < b.x; });
    tables t;
    for (std::size_t i = 0; i < pairs.size();) {
      std::size_t j = i;
      std::uint64_t n = 0;
      for (; j < pairs.size() && pairs[j].key == pairs[i].key && pairs[j].x == pairs[i].x; ++j) n += pairs[j].n;
      if (n > std::numeric_limits<std::uint32_t>::max())
        throw input_error("ngram count of token " + std::to_string(pairs[i].x) + " in one context exceeds 2^32 - 1");
      if (t.keys.empty() || t.keys.back() != pairs[i].key) {
        if (!t.keys.empty()) t.offsets.push_back(static_cast<std::uint32_t>(t.tokens.size()));
        t.keys.push_back(pairs[i].key);
      }
      t.tokens.push_back(pairs[i].x);
      t.counts.push_back(static_cast<std::uint32_t>(n));
      i = j;
    }
    t.offsets.push_back(static_cast<std::uint32_t>(t.tokens.size()));
    into = std::move(t);
  }

  static void find_in(const tables& t, std::uint64_t key, table& out) {
    const auto it = std::lower_bound(t.keys.begin(), t.keys.end(), key);
    if (it == t.keys.end() || *it != key) return;
    const auto c = static_cast<std::size_t>(it - t.keys.begin());
    out = {&t, t.offsets[c], t.offsets[c + 1], 0, t.offsets[c + 1] - t.offsets[c]};
    for (std::size_t e = out.begin; e < out.end; ++e) out.total += t.counts[e];
  }

  lookup find(const context& c) const {
    lookup l;
    l.side = c.side;
    if (opt_.order >= 3) find_in(c3_, key3(c), l.t3);
    if (opt_.order >= 2) find_in(cl_, key_left(c), l.tl);
    if (opt_.order >= 2) find_in(cr_, key_right(c), l.tr);
    return l;
  }

  static std::uint32_t count_in(const table& t0, token_id x) {
    if (t0.total == 0) return 0;
    const table* t = &t0;
    const auto b = t->owner->tokens.begin() + static_cast<std::ptrdiff_t>(t->begin);
    const auto e = t->owner->tokens.begin() + static_cast<std::ptrdiff_t>(t->end);
    const auto it = std::lower_bound(b, e, x);
    return it != e && *it == x ? t->owner->counts[static_cast<std::size_t>(it - t->owner->tokens.begin())] : 0;
  }

  // One interpolation level: discounted count plus the backoff mass times the lower level.
  double level(const table& t, token_id x, double lower) const {
    if (t.total == 0) return lower;
    const double d = opt_.discount;
    const double c = count_in(t, x);
    return (std::max(c - d, 0.0) + d * static_cast<double>(t.distinct) * lower) / static_cast<double>(t.total);
  }

  double prob(const lookup& l, token_id x) const {
    if (!allowed_[static_cast<std::size_t>(x)]) return 0.0;
    const double uniform = 1.0 / static_cast<double>(insertable_);
    double p1 = uniform;
    if (total_[l.side] != 0) {
      const double d = opt_.discount;
      const double c = unigram_[l.side * vocab_ + static_cast<std::size_t>(x)];
      p1 = (std::max(c - d, 0.0) + d * static_cast<double>(distinct_[l.side]) * uniform) / static_cast<double>(total_[l.side]);
    }
    if (opt_.order == 1) return p1;
    const double p2 = 0.5 * (level(l.tl, x, p1) + level(l.tr, x, p1));
    return opt_.order == 2 ? p2 : level(l.t3, x, p2);
  }

  template <class T>
  static void put(std::ostream& out, T v) {
    out.write(reinterpret_cast<const char*>(&v), sizeof v);
  }
  template <class T>
  static void put_vec(std::ostream& out, const std::vector<T>& v) {
    put(out, std::uint64_t{v.size()});
    out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
  }
  template <class T>
  static T get(std::istream& in, const std::string& name) {
    T v{};
    in.read(reinterpret_cast<char*>(&v), sizeof v);
    if (!in) throw file_format_error("" + name + " is truncated");
    return v;
  }
  template <class T>
  static std::vector<T> get_vec(std::istream& in, const std::string& name, std::uint64_t max) {
    const auto n = get<std::uint64_t>(in, name);
    if (n > max) throw file_format_error("" + name + " is corrupt (a table claims " + std::to_string(n) + " entries)");
    std::vector<T> v;
    // Read in chunks so that a corrupt size fails on the missing bytes, not on a huge allocation.
    constexpr std::uint64_t chunk = 1 << 20;
    for (std::uint64_t done = 0; done < n;) {
      const std::uint64_t m = std::min(chunk, n - done);
      v.resize(static_cast<std::size_t>(done + m));
      in.read(reinterpret_cast<char*>(v.data() + done), static_cast<std::streamsize>(m * sizeof(T)));
      if (!in) throw file_format_error("" + name + " is truncated");
      done += m;
    }
    return v;
  }

  std::size_t vocab_;
  token_id none_;
  ngram_options opt_;
  std::vector<char> allowed_;
  std::size_t insertable_ = 0;
  std::vector<event> events_;
  tables c3_, cl_, cr_;
  std::vector<std::uint32_t> unigram_ = std::vector<std::uint32_t>(sides * vocab_, 0);
  std::uint64_t total_[sides] = {}, distinct_[sides] = {};
  std::vector<token_id> top_[sides];
  // top_k scratch
  detail::epoch_marks seen_;
  std::vector<scored> pool_;
};

}  // namespace slotdiff
