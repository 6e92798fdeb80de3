// slotdiff/text/tokenizer.hpp: a word-level tokenizer with a vocabulary file.
//
// Text to ids in two passes. Pre-tokenization (split_words) is fixed and documented so that every
// tool (C++, the Python peer, a PyTorch data loader) splits text the same way:
//   - the input must be valid UTF-8 (else tokenizer_error naming the byte offset);
//   - ASCII letters are lowercased; other characters are kept as they are (no Unicode case folding:
//     "ÉTÉ" becomes "ÉtÉ");
//   - whitespace and ASCII control characters separate words;
//   - every ASCII punctuation character is a token of its own ("dog." -> "dog" "."), except an
//     apostrophe or hyphen with a word character on both sides, which stays inside the word
//     ("don't", "well-known");
//   - word characters are ASCII letters and digits and every non-ASCII character.
// Words then map to ids through the vocabulary; words not in it map to unk (counted, see encode_stats).
//
// Ids 0..3 are reserved: pad (padding in training shards), unk (unknown word), root (what a model is
// fed for an empty sequence), none ("insert nothing" in per-slot targets). Word ids follow, most
// frequent first, ties in byte order, so a vocabulary built from the same corpus is always the same.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <istream>
#include <optional>
#include <ostream>
#include <ranges>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "slotdiff/config.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/io/atomic_file.hpp"
#include "slotdiff/text/lines.hpp"

namespace slotdiff {

namespace detail {

/// The byte offset of the first invalid UTF-8 sequence in `s`, or npos if `s` is valid. Rejects
/// overlong forms, surrogates and code points above U+10FFFF (RFC 3629).
/// Complexity: O(|s|).
inline std::size_t find_invalid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (i + len > n) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (std::size_t j = 2; j < len; ++j)
      if (p[i + j] < 0x80 || p[i + j] > 0xBF) return i;
    i += len;
  }
  return std::string_view::npos;
}

enum class char_class : std::uint8_t { space, word, punct, joiner };

inline constexpr std::array<char_class, 256> char_classes = [] {
  std::array<char_class, 256> t{};
  for (unsigned c = 0; c < 256; ++c) {
    if (c <= 0x20 || c == 0x7F)
      t[c] = char_class::space;
    else if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
      t[c] = char_class::word;
    else if (c == '\'' || c == '-')
      t[c] = char_class::joiner;
    else
      t[c] = char_class::punct;
  }
  return t;
}();

inline char_class classify(char c) noexcept { return char_classes[static_cast<unsigned char>(c)]; }

inline char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

/// Transparent hashing so that lookups by string_view do not allocate.
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace detail

/// Calls `fn(std::string_view word)` for every pre-token of `text` (the rules in this header's
/// comment), in order, NOT yet lowercased. `text` must be valid UTF-8 (split_words does not check;
/// tokenizer::encode does).
/// Complexity: O(|text|).
template <class Fn>
void split_words(std::string_view text, Fn&& fn) {
  using detail::char_class;
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const char_class c = detail::classify(text[i]);
    if (c == char_class::space) {
      ++i;
      continue;
    }
    if (c != char_class::word) {  // a joiner that does not join is punctuation
      fn(text.substr(i, 1));
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    while (j < n) {
      const char_class d = detail::classify(text[j]);
      if (d == char_class::word) {
        ++j;
      } else if (d == char_class::joiner && j + 1 < n && detail::classify(text[j + 1]) == char_class::word) {
        j += 2;
      } else {
        break;
      }
    }
    fn(text.substr(i, j - i));
    i = j;
  }
}

/// What encode saw besides the ids: how many words were not in the vocabulary.
struct encode_stats {
  std::size_t words = 0;    ///< tokens produced
  std::size_t unknown = 0;  ///< of which mapped to tokenizer::unk
};

/// Text split into words with the ids a model is fed: what encode gives, plus each word as written.
/// A word the vocabulary lacks has id tokenizer::unk; `words` keeps what the user typed, so a tool can
/// print it back in place of "<unk>" (see tokenizer::shown_words and slotdiff::generation_words).
struct encoded_words {
  std::vector<token_id> ids;        ///< one per word, unk for an unknown word
  std::vector<std::string> words;   ///< the same words as written (case kept), one per id
  std::size_t unknown = 0;          ///< how many ids are unk
};

/// How tokenizer::build chooses its vocabulary (also spelled tokenizer::build_options).
struct tokenizer_build_options {
  std::size_t max_size = 8192;   ///< vocabulary size including the 4 special ids
  std::uint64_t min_count = 1;   ///< words seen fewer times are left out (they encode as unk)
};

/// A word-level tokenizer: the pre-tokenization rules of this header plus a vocabulary.
///
///     auto tok = tokenizer::build(lines, {.max_size = 8192});
///     tok.save("models/vocab.txt");
///     std::vector<token_id> ids = tok.encode("A quick brown fox.");   // a quick brown fox .
///     std::string text = tok.decode(ids);                            // "a quick brown fox."
class tokenizer {
public:
  static constexpr token_id pad = 0;   ///< padding in training shards; never inside a sequence
  static constexpr token_id unk = 1;   ///< a word outside the vocabulary
  static constexpr token_id root = 2;  ///< what a model is fed for an empty sequence
  static constexpr token_id none = 3;  ///< "insert nothing" in per-slot targets
  static constexpr std::size_t special_count = 4;
  static constexpr std::array<std::string_view, special_count> special_names{"<pad>", "<unk>", "<root>", "<none>"};
  static constexpr std::string_view file_header = "slotdiff-vocabulary 1";

  /// (Defined at namespace scope: clang cannot use a nested struct's default member initializers
  /// in a default argument of the same class.)
  using build_options = tokenizer_build_options;

  /// A tokenizer that knows only the special ids.
  tokenizer() {
    for (std::size_t i = 0; i < special_count; ++i) add(std::string(special_names[i]), 0);
  }

  /// Learns a vocabulary from text lines (any range of things convertible to std::string_view). A
  /// UTF-8 byte-order mark at the start of the first line is not text and is skipped (read files with
  /// text_line_reader, which drops it and CRs too).
  /// Throws: tokenizer_error naming the line (1-based) and byte offset of invalid UTF-8;
  ///         tokenizer_error if max_size < 4.
  /// Complexity: O(total bytes) expected, plus O(V log V) to sort the vocabulary.
  template <std::ranges::input_range Lines>
  static tokenizer build(Lines&& lines, build_options opts = {}) {
    if (opts.max_size < special_count)
      throw tokenizer_error("tokenizer::build: max_size " + std::to_string(opts.max_size) +
                            " is smaller than the 4 special ids");
    std::unordered_map<std::string, std::uint64_t, detail::string_hash, std::equal_to<>> counts;
    std::string word;
    std::size_t line_no = 0;
    for (auto&& line : lines) {
      std::string_view text(line);
      if (line_no++ == 0 && text.starts_with(utf8_bom)) text.remove_prefix(utf8_bom.size());
      check_utf8(text, "tokenizer::build: line " + std::to_string(line_no));
      split_words(text, [&](std::string_view w) {
        normalize(w, word);
        auto it = counts.find(std::string_view(word));
        if (it == counts.end())
          counts.emplace(word, 1);
        else
          ++it->second;
      });
    }
    std::vector<std::pair<std::string, std::uint64_t>> sorted;
    sorted.reserve(counts.size());
    for (auto& [w, c] : counts)
      if (c >= opts.min_count && !is_special_name(w)) sorted.emplace_back(w, c);
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    if (sorted.size() > opts.max_size - special_count) sorted.resize(opts.max_size - special_count);
    tokenizer t;
    for (auto& [w, c] : sorted) t.add(std::move(w), c);
    return t;
  }

  /// Reads a vocabulary file written by save. `name` is used in error messages. Lines are read by
  /// text_line_reader: a UTF-8 byte-order mark at the start and CRLF line ends are accepted.
  /// Throws: tokenizer_error naming the input and line on a missing header, a line without a tab,
  ///         a bad count (not decimal digits, or above 2^64 - 1), a duplicate word, a word the
  ///         pre-tokenizer would split, more than 2^31 - 1 entries, or invalid UTF-8;
  ///         text_encoding_error on a UTF-16/32 file.
  /// Complexity: O(bytes) expected; memory O(bytes).
  static tokenizer read(std::istream& in, std::string_view name) {
    const std::string where(name);
    text_line_reader lines(in, where);
    std::string line;
    if (!lines.next(line) || line != file_header)
      throw tokenizer_error(where + ": not a slotdiff vocabulary (first line must be \"" + std::string(file_header) +
                            "\")");
    tokenizer t;
    t.words_.clear();
    t.counts_.clear();
    t.index_.clear();
    while (lines.next(line)) {
      const std::string at = where + ":" + std::to_string(lines.line_number());
      const auto tab = line.find('\t');
      if (tab == std::string::npos || tab == 0) throw tokenizer_error(at + ": expected \"word<TAB>count\"");
      std::string word = line.substr(0, tab);
      check_utf8(word, at);
      const std::string count_text = line.substr(tab + 1);
      const auto count = detail::parse_decimal<std::uint64_t>(count_text);
      if (!count) throw tokenizer_error(at + ": bad count \"" + count_text + "\" (expected decimal digits, at most 2^64 - 1)");
      const auto id = t.words_.size();
      if (id > static_cast<std::size_t>(std::numeric_limits<token_id>::max()))
        throw tokenizer_error(at + ": more than " + std::to_string(std::numeric_limits<token_id>::max()) + " words");
      if (id < special_count) {
        if (word != special_names[id])
          throw tokenizer_error(at + ": expected the special token " + std::string(special_names[id]) + ", found \"" +
                                word + "\"");
      } else {
        std::size_t pieces = 0;
        std::string normalized;
        split_words(word, [&](std::string_view w) {
          ++pieces;
          normalize(w, normalized);
        });
        if (pieces != 1 || normalized != word)
          throw tokenizer_error(at + ": \"" + word + "\" is not one normalized word");
      }
      if (t.index_.contains(word)) throw tokenizer_error(at + ": duplicate word \"" + word + "\"");
      t.add(std::move(word), *count);
    }
    if (t.words_.size() < special_count)
      throw tokenizer_error(where + ": truncated (only " + std::to_string(t.words_.size()) + " entries)");
    return t;
  }

  /// Throws: tokenizer_error naming the path if it cannot be opened, or read's errors.
  static tokenizer load(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw tokenizer_error("tokenizer::load: cannot open " + path.string());
    return read(in, path.string());
  }

  /// The file format: the header line, then one line per id in id order, "word<TAB>count\n".
  void write(std::ostream& out) const {
    out << file_header << '\n';
    for (std::size_t i = 0; i < words_.size(); ++i) out << words_[i] << '\t' << counts_[i] << '\n';
  }

  /// Writes the file atomically (write_file_atomically): a temporary beside `path`, renamed over it
  /// once complete, so `path` never holds a partial vocabulary.
  /// Throws: tokenizer_error naming the path if it cannot be written (`path` is then as it was).
  void save(const std::filesystem::path& path) const {
    try {
      write_file_atomically(path, [&](std::ostream& out) { write(out); });
    } catch (const file_write_error& e) {
      throw tokenizer_error(std::string("tokenizer::save: ") + e.what());
    }
  }

  /// Vocabulary size, special ids included.
  std::size_t size() const noexcept { return words_.size(); }

  /// Appends the ids of `text` to `out`; returns what it saw.
  /// Throws: tokenizer_error naming the byte offset of invalid UTF-8 (`out` unchanged).
  /// Complexity: O(|text|) expected.
  encode_stats encode_into(std::string_view text, std::vector<token_id>& out) const {
    check_utf8(text, "tokenizer::encode");
    encode_stats stats;
    each_word_id(text, [&](std::string_view, token_id id) {
      stats.unknown += id == unk;
      ++stats.words;
      out.push_back(id);
    });
    return stats;
  }

  /// The ids of `text`; unknown words become unk. Throws: as encode_into.
  std::vector<token_id> encode(std::string_view text) const {
    std::vector<token_id> out;
    encode_into(text, out);
    return out;
  }
  std::vector<token_id> encode(std::string_view text, encode_stats& stats) const {
    std::vector<token_id> out;
    stats = encode_into(text, out);
    return out;
  }

  /// Splits `text` like encode and keeps every word as written beside its id (unk for a word the
  /// vocabulary lacks: never an error). Throws: tokenizer_error naming the byte offset of invalid UTF-8.
  /// Complexity: O(|text|) expected.
  encoded_words encode_words(std::string_view text) const {
    check_utf8(text, "tokenizer::encode_words");
    encoded_words out;
    each_word_id(text, [&](std::string_view w, token_id id) {
      out.unknown += id == unk;
      out.ids.push_back(id);
      out.words.emplace_back(w);
    });
    return out;
  }

  /// What to print for each word of `e` in a model's output: the word as written where its id is unk,
  /// "" (print the vocabulary's word) elsewhere. The form generation_words takes as start_words.
  static std::vector<std::string> shown_words(const encoded_words& e) {
    std::vector<std::string> out(e.ids.size());
    for (std::size_t i = 0; i < e.ids.size(); ++i)
      if (e.ids[i] == unk) out[i] = e.words[i];
    return out;
  }

  /// Words joined as decode joins them: single spaces, none before closing punctuation
  /// (. , ; : ! ? ) ] } %) and none after an opening bracket (( [ {). Complexity: O(total bytes).
  static std::string join(std::span<const std::string> words) {
    std::string out;
    bool glue = true;
    for (const std::string& w : words) append_word(out, w, glue);
    return out;
  }

  /// Text from ids: words joined by single spaces, with no space before closing punctuation
  /// (. , ; : ! ? ) ] } %) and none after opening brackets (( [ {). decode(encode(s)) equals s up to
  /// lowercasing and whitespace for ordinary prose; pad ids are skipped, other special ids print as
  /// their names (<unk>, ...).
  /// Throws: tokenizer_error naming the position and id outside [0, size()).
  std::string decode(std::span<const token_id> ids) const {
    std::string out;
    bool glue = true;  // no space before the first word or after an opening bracket
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const token_id id = ids[i];
      if (id < 0 || static_cast<std::size_t>(id) >= words_.size())
        throw tokenizer_error("tokenizer::decode: id " + std::to_string(id) + " at position " + std::to_string(i) +
                              " is outside the vocabulary of " + std::to_string(words_.size()));
      if (id == pad) continue;
      append_word(out, words_[static_cast<std::size_t>(id)], glue);
    }
    return out;
  }

  /// The text of one id. Throws: tokenizer_error if id is outside [0, size()).
  const std::string& word(token_id id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= words_.size())
      throw tokenizer_error("tokenizer::word: id " + std::to_string(id) + " is outside the vocabulary of " +
                            std::to_string(words_.size()));
    return words_[static_cast<std::size_t>(id)];
  }

  /// How often the word was seen when the vocabulary was built (0 for special ids).
  std::uint64_t count(token_id id) const { return (void)word(id), counts_[static_cast<std::size_t>(id)]; }

  /// The id of an already normalized word, if the vocabulary has it.
  std::optional<token_id> find(std::string_view normalized_word) const {
    const auto it = index_.find(normalized_word);
    if (it == index_.end()) return std::nullopt;
    return it->second;
  }

  /// Lowercases ASCII letters of `w` into `out` (the normalization of every word).
  static void normalize(std::string_view w, std::string& out) {
    out.resize(w.size());
    std::transform(w.begin(), w.end(), out.begin(), detail::ascii_lower);
  }

private:
  /// Calls f(word as written, id) for every word of `text` in order (unk for a word the vocabulary
  /// lacks). The caller has checked the UTF-8. Complexity: O(|text|) expected.
  template <class F>
  void each_word_id(std::string_view text, F&& f) const {
    std::string word;
    split_words(text, [&](std::string_view w) {
      normalize(w, word);
      const auto it = index_.find(std::string_view(word));
      f(w, it == index_.end() ? unk : it->second);
    });
  }

  // One word onto decoded text; `glue` says the previous word was an opening bracket (or none).
  static void append_word(std::string& out, std::string_view w, bool& glue) {
    const bool closing = w.size() == 1 && std::string_view(".,;:!?)]}%").find(w[0]) != std::string_view::npos;
    if (!glue && !closing) out.push_back(' ');
    out += w;
    glue = w.size() == 1 && (w[0] == '(' || w[0] == '[' || w[0] == '{');
  }

  static void check_utf8(std::string_view text, const std::string& where) {
    const std::size_t bad = detail::find_invalid_utf8(text);
    if (bad != std::string_view::npos) {
      std::ostringstream msg;
      msg << where << ": invalid UTF-8 at byte " << bad << " (0x" << std::hex
          << static_cast<unsigned>(static_cast<unsigned char>(text[bad])) << ")";
      throw tokenizer_error(msg.str());
    }
  }

  static bool is_special_name(std::string_view w) {
    return std::find(special_names.begin(), special_names.end(), w) != special_names.end();
  }

  void add(std::string word, std::uint64_t count) {
    index_.emplace(word, static_cast<token_id>(words_.size()));
    words_.push_back(std::move(word));
    counts_.push_back(count);
  }

  std::vector<std::string> words_;
  std::vector<std::uint64_t> counts_;
  std::unordered_map<std::string, token_id, detail::string_hash, std::equal_to<>> index_;
};

}  // namespace slotdiff
