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
#include <optional>
#include <ostream>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "slotdiff/config.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/io/atomic_file.hpp"
#include "slotdiff/text/lines.hpp"

namespace slotdiff {

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

  /// Reads the text format (lines by text_line_reader: a UTF-8 byte-order mark and CRLF are accepted).
  /// Memory is bounded by the input: the largest id may be at most max(65535, 16 x the entries), so a
  /// few bytes cannot make the reader allocate a table of 2^31 ids.
  /// Throws: model_error naming `name` and the line on any malformed or inconsistent line: numbers
  /// that are not decimal digits or do not fit (ids in [0, 2^31 - 1], counts in [1, 2^64 - 1]), df > count,
  /// df > documents, ids out of order, an id beyond the bound above, counts whose sum overflows or
  /// differs from the token total; text_encoding_error on a UTF-16/32 file.
  /// Complexity: O(bytes); memory O(bytes).
  static unigram_model read(std::istream& in, std::string_view name) {
    const std::string where(name);
    unigram_model m;
    text_line_reader lines(in, where);
    std::string line;
    if (!lines.next(line) || line != file_header)
      read_fail(where, 1, "not a slotdiff unigram model (first line must be \"" + std::string(file_header) + "\")");
    m.documents_ = read_header_number(lines, line, 2, "documents");
    m.total_ = read_header_number(lines, line, 3, "tokens");
    std::vector<file_entry> entries;
    std::uint64_t sum = 0;
    long long previous = -1;
    while (lines.next(line)) {
      const std::size_t line_no = lines.line_number();
      const file_entry e = parse_entry(line, where, line_no);
      if (static_cast<long long>(e.id) <= previous) read_fail(where, line_no, "id " + std::to_string(e.id) + " out of order");
      if (e.df > e.count || e.df > m.documents_)
        read_fail(where, line_no, "document frequency " + std::to_string(e.df) + " exceeds the count or the documents");
      if (sum > std::numeric_limits<std::uint64_t>::max() - e.count) read_fail(where, line_no, "the counts add up to more than 2^64 - 1");
      previous = static_cast<long long>(e.id);
      sum += e.count;
      entries.push_back(e);
    }
    if (sum != m.total_)
      throw model_error(where + ": counts add up to " + std::to_string(sum) + ", the header says " +
                        std::to_string(m.total_) + " tokens (truncated file?)");
    m.fill_dense(entries, where);
    return m;
  }

  /// Writes the model atomically (write_file_atomically): `path` never holds a partial model.
  /// Throws: model_error naming the path if it cannot be written (`path` is then as it was).
  void save(const std::filesystem::path& path) const {
    try {
      write_file_atomically(path, [&](std::ostream& out) { write(out); });
    } catch (const file_write_error& e) {
      throw model_error(std::string("unigram_model::save: ") + e.what());
    }
  }
  static unigram_model load(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw model_error("unigram_model::load: cannot open " + path.string());
    return read(in, path.string());
  }

private:
  bool in_range(token_id t) const noexcept { return t >= 0 && static_cast<std::size_t>(t) < count_.size(); }

  // ---- read's steps ----
  struct file_entry {
    std::size_t id;
    std::uint64_t count, df;
  };

  [[noreturn]] static void read_fail(const std::string& where, std::size_t line_no, const std::string& what) {
    throw model_error(where + ":" + std::to_string(line_no) + ": " + what);
  }

  /// Header line `line_no`: "KEY N" with N in [0, 2^64 - 1].
  static std::uint64_t read_header_number(text_line_reader& lines, std::string& line, std::size_t line_no, std::string_view key) {
    if (!lines.next(line)) read_fail(lines.name(), line_no, "expected \"" + std::string(key) + " N\", the file ends");
    const std::string_view l(line);
    if (!l.starts_with(key) || l.size() <= key.size() || l[key.size()] != ' ')
      read_fail(lines.name(), line_no, "expected \"" + std::string(key) + " N\", got \"" + line + "\"");
    const auto v = detail::parse_decimal<std::uint64_t>(l.substr(key.size() + 1));
    if (!v) read_fail(lines.name(), line_no, "expected \"" + std::string(key) + " N\" with N in [0, 2^64 - 1], got \"" + line + "\"");
    return *v;
  }

  /// An entry line: exactly three tab-separated decimal fields, id in [0, 2^31 - 1], count and df >= 1.
  static file_entry parse_entry(const std::string& line, const std::string& where, std::size_t line_no) {
    std::string_view f[3];
    std::size_t nf = 0, at = 0;
    const std::string_view l(line);
    while (at <= l.size() && nf < 4) {
      const std::size_t tab = std::min(l.find('\t', at), l.size());
      if (nf < 3) f[nf] = l.substr(at, tab - at);
      ++nf;
      at = tab + 1;
    }
    const auto id = nf == 3 ? detail::parse_decimal<token_id>(f[0]) : std::nullopt;
    const auto c = nf == 3 ? detail::parse_decimal<std::uint64_t>(f[1]) : std::nullopt;
    const auto df = nf == 3 ? detail::parse_decimal<std::uint64_t>(f[2]) : std::nullopt;
    if (!id || !c || !df || *id < 0 || *c == 0 || *df == 0)
      read_fail(where, line_no,
                "expected \"id<TAB>count<TAB>df\" with id in [0, 2^31 - 1] and counts in [1, 2^64 - 1], got \"" + line + "\"");
    return {static_cast<std::size_t>(*id), *c, *df};
  }

  /// The dense tables from the entries (increasing ids). The largest id may be at most
  /// max(65535, 16 x the entries): a few bytes cannot make the reader allocate 2^31 ids.
  void fill_dense(const std::vector<file_entry>& entries, const std::string& where) {
    if (!entries.empty()) {
      const std::size_t largest = entries.back().id;
      const std::size_t bound = std::max<std::size_t>(65535, 16 * entries.size());
      if (largest > bound)
        throw model_error(where + ": id " + std::to_string(largest) + " is too sparse for a file of " +
                          std::to_string(entries.size()) + " entries (ids up to " + std::to_string(bound) +
                          " are accepted: the model is dense by id)");
      count_.assign(largest + 1, 0);
      df_.assign(largest + 1, 0);
      for (const file_entry& e : entries) {
        count_[e.id] = e.count;
        df_[e.id] = e.df;
      }
    }
    last_doc_.assign(count_.size(), 0);
  }

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

/// A static scorer that reads one value per id from a unigram_table (idf_scorer,
/// self_information_scorer). Complexity: O(n) per sentence.
class unigram_table_scorer {
public:
  void score(std::span<const token_id> tokens, std::span<float> out) const noexcept {
    for (std::size_t i = 0; i < tokens.size(); ++i) out[i] = table_(tokens[i]);
  }

protected:
  template <class F>
  unigram_table_scorer(const unigram_model& m, F&& stat) : table_(m, std::forward<F>(stat)) {}

private:
  unigram_table table_;
};

}  // namespace detail

/// IDF importance: a token found in many documents ("the", "of") is removed first. Static.
/// A snapshot of the model at construction. Complexity: O(n) per sentence.
class idf_scorer : public detail::unigram_table_scorer {
public:
  explicit idf_scorer(const unigram_model& m) : unigram_table_scorer(m, [&](token_id t) { return m.idf(t); }) {}
};

/// Unigram self-information -log p(token): frequent tokens are removed first. Static. A snapshot.
class self_information_scorer : public detail::unigram_table_scorer {
public:
  explicit self_information_scorer(const unigram_model& m, double alpha = 1.0)
      : unigram_table_scorer(m, [&](token_id t) { return m.self_information(t, alpha); }) {}
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
