// slotdiff/eval/kneser_ney.hpp: the benchmark's independent judge of fluency, a left-to-right
// interpolated modified Kneser-Ney n-gram language model (Chen and Goodman, "An empirical study of
// smoothing techniques for language modeling", TR-10-98, Harvard 1998, section 3 and eq. 17/26),
// and its perplexity on text.
//
// The model, for order N over a vocabulary of V word ids plus </s> (the predicted set, V + 1 ids):
//
//   P_0(w)       = 1 / (V + 1)
//   P_k(w | h)   = max(a_k(h w) - D_k(a_k(h w)), 0) / A_k(h) + gamma_k(h) · P_{k-1}(w | h'),  k = 1..N
//   gamma_k(h)   = (D_k1 · N1(h ·) + D_k2 · N2(h ·) + D_k3 · N3+(h ·)) / A_k(h)
//
// where h is the last k - 1 tokens of the context, h' drops its oldest token, A_k(h) = Σ_w a_k(h w),
// and Nj(h ·) counts the words with a_k(h w) = j (N3+: >= 3). When A_k(h) = 0 (h never seen as a
// context) P_k = P_{k-1}. The counts a_k are the adjusted counts of Kneser and Ney as KenLM and SRILM
// use them: raw counts for the highest order and for every n-gram that starts with <s>; otherwise
// the continuation count N1+(· h w), the number of distinct words seen before h w. The discounts per
// order come from the count-of-counts n_j of the adjusted counts (Chen and Goodman eq. 26):
// Y = n1 / (n1 + 2 n2), D_1 = 1 - 2Y n2/n1, D_2 = 2 - 3Y n3/n2, D_3+ = 3 - 4Y n4/n3. On a corpus too
// small for that formula (n_j = 0 in a denominator) D_j falls back to D_{j-1} (D_1 to Y, Y to 0.5),
// and each D_j is clamped to [0, j], which keeps every distribution normalised.
//
// Sentences are padded with one <s> before and one </s> after (KenLM's convention, not N - 1 of each):
// the first word is predicted from the context "<s>" alone. Every P_k(· | h) sums to 1 over the V + 1
// predicted ids (tested for random contexts).
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
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "slotdiff/config.hpp"
#include "slotdiff/eval/eval_error.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff {

struct kneser_ney_options {
  std::size_t order = 5;  ///< N, 1..kneser_ney_model::max_order
  /// Empty: D_1, D_2, D_3+ of each order estimated from its count-of-counts (the header's formula).
  /// Otherwise exactly N triples {D_1, D_2, D_3+} for the orders 1..N, each D_j in [0, j] (fixed
  /// discounts, e.g. to compare with another implementation).
  std::vector<std::array<double, 3>> discounts{};
};

/// An interpolated modified Kneser-Ney language model over word ids (see the header's comment).
///
///     auto lm = kneser_ney_model::train(sentences, vocab_size, {.order = 5});
///     double lp = lm.sentence_log_prob(ids);   // ln P(ids </s>), natural log
///
/// Immutable after training: every const member may be called from several threads at once.
class kneser_ney_model {
public:
  static constexpr std::size_t max_order = 6;

  /// Counts `sentences` (word ids in [0, vocabulary_size); no padding: the model adds <s> and </s>).
  /// Throws: eval_error on an order outside 1..max_order, an id outside the vocabulary (naming the
  /// sentence and position), a vocabulary of 0 or >= 2^31 - 2 ids, or bad fixed discounts.
  /// Complexity: O(N · T log T) time, O(N · T) memory, T = Σ (|sentence| + 2).
  static kneser_ney_model train(const std::vector<std::vector<token_id>>& sentences, std::size_t vocabulary_size,
                                const kneser_ney_options& opt = {}) {
    if (opt.order == 0 || opt.order > max_order)
      throw eval_error("kneser_ney_model: order must lie in 1.." + std::to_string(max_order) + ", got " +
                       std::to_string(opt.order));
    if (vocabulary_size == 0 || vocabulary_size >= static_cast<std::size_t>(std::numeric_limits<token_id>::max()) - 2)
      throw eval_error("kneser_ney_model: vocabulary size " + std::to_string(vocabulary_size) + " is outside 1..2^31-3");
    if (!opt.discounts.empty() && opt.discounts.size() != opt.order)
      throw eval_error("kneser_ney_model: " + std::to_string(opt.discounts.size()) + " discount triples for order " +
                       std::to_string(opt.order));
    kneser_ney_model m;
    m.order_ = opt.order;
    m.vocab_ = vocabulary_size;
    const auto V = static_cast<std::uint32_t>(vocabulary_size);
    const std::uint32_t eos = V, bos = V + 1;

    // Padded sentences, back to back.
    std::vector<std::uint32_t> text;
    std::vector<std::size_t> starts;
    for (std::size_t s = 0; s < sentences.size(); ++s) {
      starts.push_back(text.size());
      text.push_back(bos);
      for (std::size_t j = 0; j < sentences[s].size(); ++j) {
        const token_id t = sentences[s][j];
        if (t < 0 || static_cast<std::size_t>(t) >= vocabulary_size)
          throw eval_error("kneser_ney_model: sentence " + std::to_string(s) + " holds id " + std::to_string(t) +
                           " at position " + std::to_string(j) + ", outside the vocabulary of " +
                           std::to_string(vocabulary_size));
        text.push_back(static_cast<std::uint32_t>(t));
      }
      text.push_back(eos);
    }
    starts.push_back(text.size());

    m.grams_.resize(opt.order + 1);
    m.contexts_.resize(opt.order + 1);
    m.discounts_.resize(opt.order + 1);
    for (std::size_t k = opt.order; k >= 1; --k) {
      std::vector<std::uint32_t> keys;
      if (k == opt.order) {  // raw counts of every window
        for (std::size_t s = 0; s + 1 < starts.size(); ++s)
          for (std::size_t p = starts[s]; p + k <= starts[s + 1]; ++p)
            if (k > 1 || text[p] != bos) keys.insert(keys.end(), &text[p], &text[p] + k);  // <s> is never predicted
      } else {
        // Raw counts of the windows that start with <s> (never the unigram <s>: it is not predicted) ...
        if (k >= 2) {
          for (std::size_t s = 0; s + 1 < starts.size(); ++s)
            if (starts[s] + k <= starts[s + 1]) keys.insert(keys.end(), &text[starts[s]], &text[starts[s]] + k);
        }
        // ... and one count per distinct left extension for all others: each (k+1)-gram type adds its suffix.
        const table& up = m.grams_[k + 1];
        for (std::size_t i = 0; i < up.size(); ++i) {
          const auto key = up.key(i);
          keys.insert(keys.end(), key.begin() + 1, key.end());
        }
      }
      m.grams_[k] = table::count(k, keys);
      m.discounts_[k] = opt.discounts.empty() ? estimate_discounts(m.grams_[k]) : checked(opt.discounts[k - 1], k);
      m.contexts_[k] = context_stats(m.grams_[k]);
      if (k == 1) break;
    }
    return m;
  }

  std::size_t order() const noexcept { return order_; }
  /// V: the word ids are 0..V-1; the model also predicts end_id() = V.
  std::size_t vocabulary_size() const noexcept { return vocab_; }
  token_id end_id() const noexcept { return static_cast<token_id>(vocab_); }
  /// <s>: only ever part of a context.
  token_id begin_id() const noexcept { return static_cast<token_id>(vocab_ + 1); }
  /// {D_1, D_2, D_3+} of order k (1..N).
  std::array<double, 3> discounts(std::size_t k) const {
    if (k == 0 || k > order_) throw eval_error("kneser_ney_model::discounts: order " + std::to_string(k) + " outside 1.." + std::to_string(order_));
    return discounts_[k];
  }
  /// Distinct n-grams stored for order k (1..N).
  std::size_t ngram_count(std::size_t k) const {
    if (k == 0 || k > order_) throw eval_error("kneser_ney_model::ngram_count: order " + std::to_string(k) + " outside 1.." + std::to_string(order_));
    return grams_[k].size();
  }

  /// P(w | context): `context` holds the tokens before w, oldest first (begin_id() may open it; only
  /// the last N - 1 are used). w is a word id or end_id().
  /// Throws: eval_error naming an id outside the predicted set (w) or outside [0, V + 1] (context).
  /// Complexity: O(N^2 log G), G the largest table.
  double probability(std::span<const token_id> context, token_id w) const {
    if (w < 0 || static_cast<std::size_t>(w) > vocab_)
      throw eval_error("kneser_ney_model::probability: word id " + std::to_string(w) + " outside 0.." + std::to_string(vocab_));
    for (std::size_t j = 0; j < context.size(); ++j)
      if (context[j] < 0 || static_cast<std::size_t>(context[j]) > vocab_ + 1)
        throw eval_error("kneser_ney_model::probability: context id " + std::to_string(context[j]) + " at position " +
                         std::to_string(j) + " outside 0.." + std::to_string(vocab_ + 1));
    const std::size_t h = std::min(context.size(), order_ - 1);
    std::array<std::uint32_t, max_order> key{};
    for (std::size_t j = 0; j < h; ++j) key[j] = static_cast<std::uint32_t>(context[context.size() - h + j]);
    key[h] = static_cast<std::uint32_t>(w);
    double p = 1.0 / static_cast<double>(vocab_ + 1);
    for (std::size_t k = 1; k <= h + 1; ++k) {
      // the context of order k: the last k - 1 tokens of key[0, h)
      const std::span<const std::uint32_t> ctx(key.data() + (h - (k - 1)), k - 1);
      const std::size_t ci = contexts_[k].keys.find(ctx);
      if (ci == npos) break;  // no longer context can have been seen either
      const std::size_t gi = grams_[k].find(std::span<const std::uint32_t>(key.data() + (h - (k - 1)), k));
      const double a = gi == npos ? 0.0 : static_cast<double>(grams_[k].value[gi]);
      const auto& d = discounts_[k];
      const auto& c = contexts_[k].stats[ci];
      const double gamma_mass = d[0] * c.n1 + d[1] * c.n2 + d[2] * c.n3;
      const double discounted = a == 0 ? 0.0 : std::max(a - d[std::min<std::size_t>(static_cast<std::size_t>(a), 3) - 1], 0.0);
      p = (discounted + gamma_mass * p) / c.total;
    }
    return p;
  }

  /// ln P(<s> s </s>) = Σ_i ln P(s_i | <s> s_1..s_{i-1}) + ln P(</s> | <s> s), natural log; |s| + 1
  /// predictions. Throws: as probability().
  double sentence_log_prob(std::span<const token_id> sentence) const {
    std::vector<token_id> padded;
    padded.reserve(sentence.size() + 2);
    padded.push_back(begin_id());
    double lp = 0;
    for (std::size_t i = 0; i <= sentence.size(); ++i) {
      const token_id w = i < sentence.size() ? sentence[i] : end_id();
      if (w == begin_id()) throw eval_error("kneser_ney_model::sentence_log_prob: <s> inside the sentence at position " + std::to_string(i));
      lp += std::log(probability(padded, w));
      padded.push_back(w);
    }
    return lp;
  }

private:
  static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

  /// Sorted distinct keys of one length, flat.
  struct key_list {
    std::size_t width = 0;
    std::vector<std::uint32_t> flat;
    std::size_t size() const noexcept { return width == 0 ? (flat.empty() ? 0 : 1) : flat.size() / width; }
    std::span<const std::uint32_t> key(std::size_t i) const { return {flat.data() + i * width, width}; }
    std::size_t find(std::span<const std::uint32_t> k) const {
      if (width == 0) return flat.empty() ? npos : 0;
      std::size_t lo = 0, hi = size();
      while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        const auto m = key(mid);
        if (std::lexicographical_compare(m.begin(), m.end(), k.begin(), k.end())) lo = mid + 1;
        else hi = mid;
      }
      return lo < size() && std::equal(k.begin(), k.end(), key(lo).begin()) ? lo : npos;
    }
  };

  /// The n-grams of one order and their adjusted counts.
  struct table {
    key_list keys;
    std::vector<std::uint32_t> value;
    std::size_t size() const noexcept { return value.size(); }
    std::span<const std::uint32_t> key(std::size_t i) const { return keys.key(i); }
    std::size_t find(std::span<const std::uint32_t> k) const { return keys.find(k); }

    /// Sorts the flat windows of width k and counts equal ones.
    static table count(std::size_t k, const std::vector<std::uint32_t>& windows) {
      const std::size_t n = windows.size() / k;
      std::vector<std::uint32_t> order(n);
      std::iota(order.begin(), order.end(), 0u);
      auto at = [&](std::uint32_t i) { return windows.data() + static_cast<std::size_t>(i) * k; };
      std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
        return std::lexicographical_compare(at(a), at(a) + k, at(b), at(b) + k);
      });
      table t;
      t.keys.width = k;
      for (std::size_t i = 0; i < n;) {
        std::size_t j = i + 1;
        while (j < n && std::equal(at(order[i]), at(order[i]) + k, at(order[j]))) ++j;
        t.keys.flat.insert(t.keys.flat.end(), at(order[i]), at(order[i]) + k);
        t.value.push_back(static_cast<std::uint32_t>(j - i));
        i = j;
      }
      return t;
    }
  };

  struct context_stat {
    double total = 0;         ///< A_k(h)
    double n1 = 0, n2 = 0, n3 = 0;  ///< words with adjusted count 1, 2, >= 3 after h
  };
  struct context_table {
    key_list keys;
    std::vector<context_stat> stats;
  };

  /// The contexts of order k: the distinct (k-1)-prefixes of the sorted k-gram table (adjacent runs).
  static context_table context_stats(const table& t) {
    context_table c;
    const std::size_t w = t.keys.width - 1;
    c.keys.width = w;
    for (std::size_t i = 0; i < t.size(); ++i) {
      const auto k = t.key(i);
      if (c.stats.empty() || (w > 0 && !std::equal(k.begin(), k.begin() + static_cast<std::ptrdiff_t>(w),
                                                    c.keys.flat.end() - static_cast<std::ptrdiff_t>(w)))) {
        c.keys.flat.insert(c.keys.flat.end(), k.begin(), k.begin() + static_cast<std::ptrdiff_t>(w));
        if (w == 0) c.keys.flat.push_back(0);  // one empty context, marked present
        c.stats.emplace_back();
      }
      auto& s = c.stats.back();
      const std::uint32_t a = t.value[i];
      s.total += a;
      (a == 1 ? s.n1 : a == 2 ? s.n2 : s.n3) += 1;
    }
    if (w == 0) c.keys.flat.resize(c.stats.empty() ? 0 : 1);
    return c;
  }

  static std::array<double, 3> estimate_discounts(const table& t) {
    std::array<double, 5> n{};
    for (std::uint32_t a : t.value)
      if (a <= 4) n[a] += 1;
    const double y = n[1] + 2 * n[2] > 0 ? n[1] / (n[1] + 2 * n[2]) : 0.5;
    std::array<double, 3> d{};
    d[0] = n[1] > 0 ? 1 - 2 * y * n[2] / n[1] : y;
    d[1] = n[2] > 0 ? 2 - 3 * y * n[3] / n[2] : d[0];
    d[2] = n[3] > 0 ? 3 - 4 * y * n[4] / n[3] : d[1];
    for (std::size_t j = 0; j < 3; ++j) d[j] = std::clamp(d[j], 0.0, static_cast<double>(j + 1));
    return d;
  }

  static std::array<double, 3> checked(const std::array<double, 3>& d, std::size_t k) {
    for (std::size_t j = 0; j < 3; ++j)
      if (!(d[j] >= 0 && d[j] <= static_cast<double>(j + 1)))
        throw eval_error("kneser_ney_model: discount D_" + std::to_string(j + 1) + " of order " + std::to_string(k) + " is " +
                         std::to_string(d[j]) + ", outside [0, " + std::to_string(j + 1) + "]");
    return d;
  }

  std::size_t order_ = 0, vocab_ = 0;
  std::vector<table> grams_;               // [1..N]
  std::vector<context_table> contexts_;    // [1..N]
  std::vector<std::array<double, 3>> discounts_;  // [1..N]
};

/// The words of a line as every slotdiff tool sees them: the tokenizer's pre-tokenization
/// (split_words) and ASCII lowercasing. Throws: eval_error naming `where` and the byte offset of
/// invalid UTF-8.
inline std::vector<std::string> text_words(std::string_view line, std::string_view where = "a line") {
  if (const std::size_t bad = detail::find_invalid_utf8(line); bad != std::string_view::npos)
    throw eval_error(std::string(where) + ": invalid UTF-8 at byte " + std::to_string(bad));
  std::vector<std::string> out;
  split_words(line, [&](std::string_view w) {
    std::string s;
    tokenizer::normalize(w, s);
    out.push_back(std::move(s));
  });
  return out;
}

struct judge_options {
  std::size_t order = 5;        ///< the n-gram order N
  std::uint64_t min_count = 2;  ///< training words seen fewer times become <unk>, which so learns real counts
};

/// Perplexity of a set of sentences.
struct perplexity_report {
  double perplexity = 0;     ///< exp(-log_prob / predictions)
  double log_prob = 0;       ///< Σ ln P over every prediction
  std::size_t predictions = 0;  ///< Σ (|sentence| + 1): every word and each sentence's </s>
  std::size_t unknown = 0;      ///< words scored as <unk>
};

/// The judge: a kneser_ney_model over the words of training text. The vocabulary is <unk> (id 0)
/// plus every word seen at least min_count times (ids by descending count, then byte order); other
/// training words and every unseen word are read as <unk>. Perplexity counts each word and each
/// sentence's </s> (so an empty sentence still costs one prediction).
///
///     const auto judge = kneser_ney_judge::train(train_lines, {});
///     double ppl = judge.perplexity(outputs).perplexity;   // outputs: lists of text_words
class kneser_ney_judge {
public:
  /// Throws: eval_error on invalid UTF-8 (naming the line, 1-based) or bad options.
  static kneser_ney_judge train(std::span<const std::string> lines, const judge_options& opt = {}) {
    std::vector<std::vector<std::string>> sentences;
    sentences.reserve(lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i) sentences.push_back(text_words(lines[i], "training line " + std::to_string(i + 1)));
    return train_words(sentences, opt);
  }

  /// The same from already split, lowercased words.
  static kneser_ney_judge train_words(const std::vector<std::vector<std::string>>& sentences, const judge_options& opt = {}) {
    if (opt.min_count == 0) throw eval_error("kneser_ney_judge: min_count must be at least 1, got 0");
    std::unordered_map<std::string, std::uint64_t> counts;
    for (const auto& s : sentences)
      for (const auto& w : s) ++counts[w];
    std::vector<std::pair<std::string, std::uint64_t>> kept;
    for (auto& [w, c] : counts)
      if (c >= opt.min_count) kept.emplace_back(w, c);
    std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    kneser_ney_judge j;
    j.words_.push_back("<unk>");
    for (auto& [w, c] : kept) {
      j.index_.emplace(w, static_cast<token_id>(j.words_.size()));
      j.words_.push_back(w);
    }
    std::vector<std::vector<token_id>> ids;
    ids.reserve(sentences.size());
    for (const auto& s : sentences) ids.push_back(j.encode(s));
    j.model_ = kneser_ney_model::train(ids, j.words_.size(), {.order = opt.order});
    return j;
  }

  /// Word ids (0 for <unk>).
  std::vector<token_id> encode(const std::vector<std::string>& words) const {
    std::vector<token_id> ids;
    ids.reserve(words.size());
    for (const auto& w : words) {
      const auto it = index_.find(w);
      ids.push_back(it == index_.end() ? 0 : it->second);
    }
    return ids;
  }

  /// Corpus perplexity of `sentences` (each a list of text_words). 0 predictions give perplexity 0.
  perplexity_report perplexity(const std::vector<std::vector<std::string>>& sentences) const {
    perplexity_report r;
    for (const auto& s : sentences) {
      const auto ids = encode(s);
      r.unknown += static_cast<std::size_t>(std::count(ids.begin(), ids.end(), 0));
      r.log_prob += model_.sentence_log_prob(ids);
      r.predictions += ids.size() + 1;
    }
    r.perplexity = r.predictions == 0 ? 0.0 : std::exp(-r.log_prob / static_cast<double>(r.predictions));
    return r;
  }

  const kneser_ney_model& model() const noexcept { return model_; }
  /// The vocabulary, id 0 = <unk>.
  const std::vector<std::string>& words() const noexcept { return words_; }

private:
  kneser_ney_model model_;
  std::vector<std::string> words_;
  std::unordered_map<std::string, token_id> index_;
};

}  // namespace slotdiff
