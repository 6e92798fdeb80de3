// slotdiff/scoring/unigram.hpp: a unigram statistical model of a corpus and the scorers built on it:
// self-information, IDF and TF-IDF.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <ostream>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "slotdiff/config.hpp"
#include "slotdiff/error.hpp"

namespace slotdiff {

/// A unigram model file that cannot be read, or a token id the model refuses.
class model_error : public error {
public:
  using error::error;
};

/// Token and document counts of a corpus, updatable as more text streams in (observe, merge), and
/// saved/loaded as a small text file. Dense by id: memory O(largest id seen).
///
///     unigram_model m;
///     for (auto& s : sentences) m.observe(s);
///     idf_scorer idf(m);          // a snapshot: rebuild it after more observe() calls
class unigram_model {
public:
  static constexpr std::string_view file_header = "slotdiff-unigram 1";

  /// Counts one document (a sentence). Throws: model_error on a negative id (model unchanged).
  /// Complexity: O(n) amortised.
  void observe(std::span<const token_id> document) {
    for (std::size_t i = 0; i < document.size(); ++i)
      if (document[i] < 0)
        throw model_error("unigram_model::observe: negative token id " + std::to_string(document[i]) +
                          " at position " + std::to_string(i));
    ++documents_;
    for (token_id t : document) {
      const auto id = static_cast<std::size_t>(t);
      if (id >= count_.size()) {
        count_.resize(id + 1, 0);
        df_.resize(id + 1, 0);
        last_doc_.resize(id + 1, 0);
      }
      ++count_[id];
      ++total_;
      if (last_doc_[id] != documents_) {  // first occurrence in this document
        last_doc_[id] = documents_;
        ++df_[id];
      }
    }
  }

  /// Adds another model's counts (e.g. one learned by another thread).
  void merge(const unigram_model& other) {
    if (other.count_.size() > count_.size()) {
      count_.resize(other.count_.size(), 0);
      df_.resize(other.count_.size(), 0);
      last_doc_.resize(other.count_.size(), 0);
    }
    for (std::size_t i = 0; i < other.count_.size(); ++i) {
      count_[i] += other.count_[i];
      df_[i] += other.df_[i];
    }
    documents_ += other.documents_;
    total_ += other.total_;
  }

  std::uint64_t documents() const noexcept { return documents_; }
  std::uint64_t total_tokens() const noexcept { return total_; }
  /// One past the largest id seen.
  std::size_t id_bound() const noexcept { return count_.size(); }
  std::uint64_t count(token_id t) const noexcept { return in_range(t) ? count_[static_cast<std::size_t>(t)] : 0; }
  std::uint64_t document_frequency(token_id t) const noexcept {
    return in_range(t) ? df_[static_cast<std::size_t>(t)] : 0;
  }

  /// Smoothed inverse document frequency, log((1 + N) / (1 + df)) + 1 (scikit-learn's smooth form):
  /// finite for unseen ids (the largest value), 1 for a token in every document.
  double idf(token_id t) const noexcept {
    return std::log((1.0 + static_cast<double>(documents_)) / (1.0 + static_cast<double>(document_frequency(t)))) +
           1.0;
  }

  /// Self-information -log p(t) in nats with add-`alpha` smoothing over the ids seen plus one
  /// (for everything unseen).
  double self_information(token_id t, double alpha = 1.0) const noexcept {
    const double v = static_cast<double>(count_.size() + 1);
    return -std::log((static_cast<double>(count(t)) + alpha) / (static_cast<double>(total_) + alpha * v));
  }

  /// Text format: the header line, "documents N", "tokens T", then "id<TAB>count<TAB>df" for every id
  /// with a non-zero count, in id order.
  void write(std::ostream& out) const {
    out << file_header << "\ndocuments " << documents_ << "\ntokens " << total_ << '\n';
    for (std::size_t i = 0; i < count_.size(); ++i)
      if (count_[i] != 0) out << i << '\t' << count_[i] << '\t' << df_[i] << '\n';
  }

  /// Throws: model_error naming `name` and the line on any malformed or inconsistent line
  /// (df > count, df > documents, counts that do not add up to the token total, ids out of order).
  static unigram_model read(std::istream& in, std::string_view name) {
    const std::string where(name);
    unigram_model m;
    std::string line;
    auto fail = [&](std::size_t line_no, const std::string& what) {
      throw model_error(where + ":" + std::to_string(line_no) + ": " + what);
    };
    if (!std::getline(in, line) || line != file_header) fail(1, "not a slotdiff unigram model");
    std::string key;
    if (!std::getline(in, line) || !(std::istringstream(line) >> key >> m.documents_) || key != "documents")
      fail(2, "expected \"documents N\"");
    if (!std::getline(in, line) || !(std::istringstream(line) >> key >> m.total_) || key != "tokens")
      fail(3, "expected \"tokens T\"");
    std::uint64_t sum = 0;
    std::size_t line_no = 3;
    long long previous = -1;
    while (std::getline(in, line)) {
      ++line_no;
      std::istringstream fields(line);
      long long id = -1;
      long long c = -1, df = -1;
      std::string rest;
      if (!(fields >> id >> c >> df) || (fields >> rest) || id < 0 || c <= 0 || df <= 0)
        fail(line_no, "expected \"id<TAB>count<TAB>df\" with id >= 0 and positive counts, got \"" + line + "\"");
      if (id <= previous) fail(line_no, "id " + std::to_string(id) + " out of order");
      if (id > std::numeric_limits<token_id>::max()) fail(line_no, "id " + std::to_string(id) + " too large");
      if (df > c || static_cast<std::uint64_t>(df) > m.documents_)
        fail(line_no, "document frequency " + std::to_string(df) + " exceeds the count or the documents");
      previous = id;
      const auto i = static_cast<std::size_t>(id);
      m.count_.resize(i + 1, 0);
      m.df_.resize(i + 1, 0);
      m.count_[i] = static_cast<std::uint64_t>(c);
      m.df_[i] = static_cast<std::uint64_t>(df);
      sum += static_cast<std::uint64_t>(c);
    }
    if (sum != m.total_)
      throw model_error(where + ": counts add up to " + std::to_string(sum) + ", the header says " +
                        std::to_string(m.total_) + " tokens (truncated file?)");
    m.last_doc_.assign(m.count_.size(), 0);
    return m;
  }

  void save(const std::filesystem::path& path) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw model_error("unigram_model::save: cannot open " + path.string() + " for writing");
    write(out);
    out.flush();
    if (!out) throw model_error("unigram_model::save: write to " + path.string() + " failed");
  }
  static unigram_model load(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw model_error("unigram_model::load: cannot open " + path.string());
    return read(in, path.string());
  }

private:
  bool in_range(token_id t) const noexcept { return t >= 0 && static_cast<std::size_t>(t) < count_.size(); }

  std::vector<std::uint64_t> count_, df_;
  std::vector<std::uint64_t> last_doc_;  // the last document (1-based) that counted this id's df
  std::uint64_t documents_ = 0;
  std::uint64_t total_ = 0;
};

namespace detail {

/// A per-id table of a unigram statistic, frozen when the scorer is built: scoring is one load per
/// token. Ids past the table (unseen when it was built) get `unseen`.
class unigram_table {
public:
  unigram_table() = default;
  template <class F>
  unigram_table(const unigram_model& m, F&& stat) : unseen_(static_cast<float>(stat(static_cast<token_id>(m.id_bound())))) {
    table_.resize(m.id_bound());
    for (std::size_t i = 0; i < table_.size(); ++i) table_[i] = static_cast<float>(stat(static_cast<token_id>(i)));
  }
  float operator()(token_id t) const noexcept {
    return t >= 0 && static_cast<std::size_t>(t) < table_.size() ? table_[static_cast<std::size_t>(t)] : unseen_;
  }

private:
  std::vector<float> table_;
  float unseen_ = 0;
};

}  // namespace detail

/// IDF importance: a token found in many documents ("the", "of") is removed first. Static.
/// A snapshot of the model at construction. Complexity: O(n) per sentence.
class idf_scorer {
public:
  explicit idf_scorer(const unigram_model& m) : table_(m, [&](token_id t) { return m.idf(t); }) {}
  void score(std::span<const token_id> tokens, std::span<float> out) const noexcept {
    for (std::size_t i = 0; i < tokens.size(); ++i) out[i] = table_(tokens[i]);
  }

private:
  detail::unigram_table table_;
};

/// Unigram self-information -log p(token): frequent tokens are removed first. Static. A snapshot.
class self_information_scorer {
public:
  explicit self_information_scorer(const unigram_model& m, double alpha = 1.0)
      : table_(m, [&](token_id t) { return m.self_information(t, alpha); }) {}
  void score(std::span<const token_id> tokens, std::span<float> out) const noexcept {
    for (std::size_t i = 0; i < tokens.size(); ++i) out[i] = table_(tokens[i]);
  }

private:
  detail::unigram_table table_;
};

/// TF-IDF against the corpus: (occurrences of the token in the current sequence / length) * idf.
/// Dynamic, because the term frequencies change as tokens are removed. A snapshot of the model.
/// Complexity: O(n log n) per call (a sort to count repeats).
class tfidf_scorer {
public:
  static constexpr bool dynamic = true;
  explicit tfidf_scorer(const unigram_model& m) : idf_(m, [&](token_id t) { return m.idf(t); }) {}
  void score(std::span<const token_id> tokens, std::span<float> out) const {
    const std::size_t n = tokens.size();
    if (n == 0) return;
    thread_local std::vector<token_id> sorted;
    sorted.assign(tokens.begin(), tokens.end());
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < n; ++i) {
      const auto [lo, hi] = std::equal_range(sorted.begin(), sorted.end(), tokens[i]);
      const float tf = static_cast<float>(hi - lo) / static_cast<float>(n);
      out[i] = tf * idf_(tokens[i]);
    }
  }

private:
  detail::unigram_table idf_;
};

}  // namespace slotdiff
