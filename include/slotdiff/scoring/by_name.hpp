// slotdiff/scoring/by_name.hpp: an importance scorer chosen by name at run time.
//
// The library's scorers are compile-time types (scoring/unigram.hpp, random.hpp, embedding_shift.hpp,
// mix.hpp). A tool that reads the scorer from its command line or from Python needs one type for
// all of them: named_scorer, built from a scorer_spec ("idf", "mix:idf=0.5,shift=0.5", ...) and the
// statistics, embedder and protected ids it reads. `slotdiff noise` (tools/cli/noise.cpp) and the
// Python Noiser (python/src/text_noise.cpp) both use it, so the same name gives the same trajectory.
//
//     const scorer_spec spec = scorer_spec::parse("mix:idf=0.5,random=0.5", "--scorer");
//     const named_scorer s(spec, {.statistics = &model, .protect = {fox_id}});
//     auto tr = s.with_seed(opts.seed, [&](const auto& bound) { return noise<side_layout>(ids, bound, opts); });
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "slotdiff/concepts/importance_scorer.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/embed/pooling.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/metrics/vector.hpp"
#include "slotdiff/scoring/embedding_shift.hpp"
#include "slotdiff/scoring/mix.hpp"
#include "slotdiff/scoring/random.hpp"
#include "slotdiff/scoring/unigram.hpp"

namespace slotdiff {

// ---- distances by name ------------------------------------------------------------------------------

/// The names named_distance accepts, in its order.
inline constexpr std::array<std::string_view, 4> distance_names{"cosine", "euclidean", "sqeuclidean", "ip"};

/// A distance_metric chosen by name: cosine (cosine_distance), euclidean, sqeuclidean (squared
/// euclidean) or ip (inner_product_distance), all of metrics/vector.hpp. Default: cosine.
class named_distance {
public:
  named_distance() = default;
  /// Throws: options_error "WHERE: expected cosine, euclidean, sqeuclidean or ip, got "NAME"".
  explicit named_distance(std::string_view name, std::string_view where = "metric") {
    const auto it = std::find(distance_names.begin(), distance_names.end(), name);
    if (it == distance_names.end())
      throw options_error(std::string(where) + ": expected cosine, euclidean, sqeuclidean or ip, got \"" + std::string(name) + "\"");
    which_ = static_cast<std::size_t>(it - distance_names.begin());
  }
  std::string_view name() const noexcept { return distance_names[which_]; }

  /// Requires: a.size() == b.size(). Complexity: O(d).
  float operator()(std::span<const float> a, std::span<const float> b) const {
    switch (which_) {
      case 1: return euclidean_distance{}(a, b);
      case 2: return squared_euclidean_distance{}(a, b);
      case 3: return inner_product_distance{}(a, b);
      default: return cosine_distance{}(a, b);
    }
  }

private:
  std::size_t which_ = 0;
};

// ---- the scorer spec ----------------------------------------------------------------------------------

/// The scorers a named_scorer makes, and that a mix: adds up.
inline constexpr std::array<std::string_view, 5> mixable_scorer_names{"idf", "info", "tfidf", "random", "shift"};

/// One part of a scorer_spec and its weight (1 for a single scorer).
struct scorer_term {
  std::string name;
  float weight = 1.0f;
  friend bool operator==(const scorer_term&, const scorer_term&) = default;
};

/// A scorer named at run time (the names of `slotdiff noise --scorer`, docs/noising.md):
///   idf | info (self-information) | tfidf | random   unigram statistics, or uniform noise
///   shift                                            leave-one-out embedding shift (dynamic)
///   dynamic                                          the embedding objective (noise/objective.hpp):
///                                                    no per-token scores, so no named_scorer
///   mix:NAME=W,NAME=W,...                            sum of W times the part's rank / (n - 1) over
///                                                    the parts above but dynamic ("=W" may be left out: 1)
struct scorer_spec {
  std::string text;                ///< as given
  std::vector<scorer_term> terms;  ///< the parts: one (weight 1) for a single scorer, none for dynamic
  bool mix = false;                ///< text starts with "mix:"

  /// Whether the spec is "dynamic" (the embedding objective, not a per-token scorer).
  bool is_objective() const noexcept { return text == "dynamic"; }
  /// Whether `part` is the scorer or one of the mix's parts.
  bool uses(std::string_view part) const {
    return std::any_of(terms.begin(), terms.end(), [&](const scorer_term& t) { return t.name == part; });
  }
  /// Whether a part reads unigram statistics (idf, info, tfidf).
  bool needs_statistics() const { return uses("idf") || uses("info") || uses("tfidf"); }
  /// Whether a part reads a sentence embedder (shift, or the dynamic objective).
  bool needs_embedder() const { return uses("shift") || is_objective(); }

  /// Parses a name. `where` names the input in messages ("--scorer", "scorer").
  /// Throws: options_error, "WHERE: expected idf, info, tfidf, random, shift, dynamic or
  /// mix:NAME=W,..., got "TEXT"" for an unknown name; for a mix, one naming the piece that names no
  /// mixable scorer, has a weight that is not a finite number >= 0, or repeats a scorer, and one for a
  /// mix with no part or only zero weights. Complexity: O(|text|).
  static scorer_spec parse(std::string_view text, std::string_view where = "scorer") {
    scorer_spec s;
    s.text = std::string(text);
    if (!text.starts_with("mix:")) {
      if (s.is_objective()) return s;
      if (!is_mixable(text))
        throw options_error(std::string(where) + ": expected idf, info, tfidf, random, shift, dynamic or mix:NAME=W,..., got \"" +
                            s.text + "\"");
      s.terms.push_back({s.text, 1.0f});
      return s;
    }
    s.mix = true;
    auto bad = [&](std::string_view piece, std::string_view why) {
      return options_error(std::string(where) + ": \"" + s.text + "\": \"" + std::string(piece) + "\" " + std::string(why) +
                           " (expected mix:NAME=WEIGHT,... with NAME one of idf, info, tfidf, random, shift)");
    };
    // Pieces between commas; a trailing comma ends the list (as std::getline splits).
    std::string_view rest = text.substr(4);
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view piece = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      const std::size_t eq = piece.find('=');
      const std::string_view name = piece.substr(0, eq);
      if (!is_mixable(name)) throw bad(piece, "names no scorer that can be mixed");
      float w = 1.0f;
      if (eq != std::string_view::npos && !parse_weight(piece.substr(eq + 1), w))
        throw bad(piece, "has a weight that is not a finite number >= 0");
      if (s.uses(name)) throw bad(piece, "repeats a scorer");
      s.terms.push_back({std::string(name), w});
    }
    if (s.terms.empty()) throw options_error(std::string(where) + ": \"" + s.text + "\" mixes nothing (expected mix:NAME=WEIGHT,...)");
    if (std::all_of(s.terms.begin(), s.terms.end(), [](const scorer_term& t) { return t.weight == 0.0f; }))
      throw options_error(std::string(where) + ": \"" + s.text + "\" has only zero weights");
    return s;
  }

private:
  static bool is_mixable(std::string_view name) {
    return std::find(mixable_scorer_names.begin(), mixable_scorer_names.end(), name) != mixable_scorer_names.end();
  }
  // A decimal or scientific number, whole `text`, finite as a float and >= 0 (no sign, no space).
  static bool parse_weight(std::string_view text, float& w) {
    double x = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), x, std::chars_format::general);
    if (text.empty() || ec != std::errc{} || p != text.data() + text.size() || !std::isfinite(x) || !(x >= 0)) return false;
    w = static_cast<float>(x);
    return std::isfinite(w);
  }
};

// ---- the scorer ---------------------------------------------------------------------------------------

/// What a named_scorer reads. The pointers must outlive the scorer.
struct named_scorer_options {
  const unigram_model* statistics = nullptr;  ///< idf, info, tfidf: unigram counts over the scoring ids
  const sif_embedder* embedder = nullptr;     ///< shift: a sentence embedder over the scoring ids
  named_distance metric{};                    ///< shift: the distance between sentence embeddings
  std::vector<token_id> protect{};            ///< ids scored +infinity, never removed (any order)
};

/// An importance scorer chosen by a scorer_spec at run time, with protected ids. The random part
/// draws from a seed given per call (noise_options::seed), so every trajectory of a sentence gets
/// its own random order; with_seed() binds one and hands noise() an importance_scorer.
///
/// A single scorer is dynamic exactly when its type is (shift); a mix is always dynamic: the rank of a
/// static part among x_t's tokens changes as tokens go. Thread-safe: score is const and its scratch
/// buffers are thread_local.
class named_scorer {
public:
  /// Throws: options_error naming the spec if it is the dynamic objective (no per-token scores), or
  /// if a part needs options.statistics or options.embedder and it is null.
  named_scorer(const scorer_spec& spec, named_scorer_options options) : mix_(spec.mix), protect_(std::move(options.protect)) {
    if (spec.is_objective() || spec.terms.empty())
      throw options_error("named_scorer: expected a per-token scorer (the dynamic objective has no scores), got \"" + spec.text +
                          "\"");
    for (const scorer_term& t : spec.terms) parts_.emplace_back(t.weight, make_part(t.name, spec.text, options));
    std::sort(protect_.begin(), protect_.end());
    protect_.erase(std::unique(protect_.begin(), protect_.end()), protect_.end());
  }

  /// Whether noise() must rescore after every step.
  bool dynamic() const noexcept { return mix_ || parts_.front().second->dynamic(); }

  /// One score per token (low: removed first), the protected ids +infinity; `seed` seeds the random
  /// part. Requires: out.size() >= tokens.size().
  /// Throws: input_error if a mixed part scores NaN; what the parts throw.
  /// Complexity: the parts' costs, plus O(n log n) per part of a mix and O(n log P) for P protected ids.
  void score(std::span<const token_id> tokens, std::span<float> out, std::uint64_t seed) const {
    if (!mix_) parts_.front().second->score(tokens, out, seed);
    else score_mix(tokens, out, seed);
    if (protect_.empty()) return;
    for (std::size_t i = 0; i < tokens.size(); ++i)
      if (std::binary_search(protect_.begin(), protect_.end(), tokens[i])) out[i] = std::numeric_limits<float>::infinity();
  }

  /// The scorer bound to one seed: an importance_scorer (dynamic when Dynamic) for noise().
  template <bool Dynamic>
  struct seeded {
    static constexpr bool dynamic = Dynamic;
    const named_scorer* scorer;
    std::uint64_t seed;
    void score(std::span<const token_id> tokens, std::span<float> out) const { scorer->score(tokens, out, seed); }
  };

  /// f(seeded<dynamic()>{this, seed}): the one place the run-time choice meets noise()'s compile-time one.
  template <class F>
  decltype(auto) with_seed(std::uint64_t seed, F&& f) const {
    if (dynamic()) return std::forward<F>(f)(seeded<true>{this, seed});
    return std::forward<F>(f)(seeded<false>{this, seed});
  }

  std::span<const token_id> protected_ids() const noexcept { return protect_; }

private:
  // One part behind a virtual call; `seed` is the trajectory's seed.
  struct part {
    virtual ~part() = default;
    virtual bool dynamic() const noexcept = 0;
    virtual void score(std::span<const token_id> tokens, std::span<float> out, std::uint64_t seed) const = 0;
  };
  template <importance_scorer S>
  struct fixed final : part {
    explicit fixed(S s) : scorer(std::move(s)) {}
    bool dynamic() const noexcept override { return is_dynamic_scorer_v<S>; }
    void score(std::span<const token_id> tokens, std::span<float> out, std::uint64_t) const override { scorer.score(tokens, out); }
    S scorer;
  };
  struct seeded_random final : part {
    bool dynamic() const noexcept override { return false; }
    void score(std::span<const token_id> tokens, std::span<float> out, std::uint64_t seed) const override {
      random_scorer{seed}.score(tokens, out);
    }
  };

  static std::unique_ptr<part> make_part(std::string_view name, const std::string& spec, const named_scorer_options& o) {
    auto need = [&](const void* p, const char* what) {
      if (!p)
        throw options_error("named_scorer: the " + std::string(name) + " part of \"" + spec + "\" needs " + what + ", got none");
    };
    if (name == "random") return std::make_unique<seeded_random>();
    if (name == "shift") {
      need(o.embedder, "an embedder");
      using shift = embedding_shift_scorer<sif_embedder, named_distance>;
      return std::make_unique<fixed<shift>>(shift(*o.embedder, o.metric));
    }
    need(o.statistics, "unigram statistics");
    if (name == "idf") return std::make_unique<fixed<idf_scorer>>(idf_scorer(*o.statistics));
    if (name == "info") return std::make_unique<fixed<self_information_scorer>>(self_information_scorer(*o.statistics));
    if (name == "tfidf") return std::make_unique<fixed<tfidf_scorer>>(tfidf_scorer(*o.statistics));
    throw options_error("named_scorer: \"" + spec + "\" names no scorer, got \"" + std::string(name) + "\"");
  }

  // sum_j w_j rank_j / (n - 1) (the rule of weighted_mix with mix_normalize::rank, but a single token
  // ranks 0), each part rescored on the current tokens.
  void score_mix(std::span<const token_id> tokens, std::span<float> out, std::uint64_t seed) const {
    const std::size_t n = tokens.size();
    thread_local std::vector<float> scores;
    thread_local std::vector<std::size_t> order;
    scores.resize(n);
    std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), 0.0f);
    for (std::size_t j = 0; j < parts_.size(); ++j) {
      parts_[j].second->score(tokens, std::span<float>(scores), seed);
      detail::check_part_scores(scores, j, "named_scorer mix");
      if (n > 1) detail::rank_normalize(scores, order);
      else if (n == 1 && scores[0] != std::numeric_limits<float>::infinity()) scores[0] = 0.0f;
      detail::add_weighted(scores, out.first(n), parts_[j].first);
    }
  }

  bool mix_ = false;
  std::vector<std::pair<float, std::unique_ptr<part>>> parts_;
  std::vector<token_id> protect_;  // sorted, unique
};

}  // namespace slotdiff
