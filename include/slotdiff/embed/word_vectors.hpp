// slotdiff/embed/word_vectors.hpp: static word vectors: text .vec files, our binary form, and the
// per-token-id table the pooling embedders read.
//
// word_vectors   words -> rows of a rows x dim float matrix (what a file holds)
// token_vectors  token id -> vector, for one tokenizer's vocabulary, with the unknown-word policy applied
//
// Text format (word2vec / fastText / GloVe): UTF-8 lines `word v1 ... vd`, separated by spaces or
// tabs; an optional first line `<rows> <dim>` (detected: exactly two integers). Without a header the
// dimension is the first line's count. Duplicate words keep their first row (fastText convention).
//
// Binary format "SDWV" (little-endian; written by save_binary):
//   8 bytes  magic "SDWVEC01"
//   u64      rows,  u64 dim
//   rows x   { u32 byte length, UTF-8 word bytes }
//   f32      rows x dim, row-major
//   u64      FNV-1a 64 of every preceding byte (detects corruption and truncation)
//
// Unknown words (ids whose word has no vector) follow unknown_word:
//   skip  (default) their vector is zero and the pooling embedders leave them out of the average (a
//         token we know nothing about neither adds meaning nor dilutes it; its leave-one-out vector is
//         the full sentence vector)
//   mean  their vector is the mean of all known vectors, and they count as ordinary tokens
//   error the embedders throw embed_error naming the id
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <ostream>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "slotdiff/config.hpp"
#include "slotdiff/detail/hash.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/io/atomic_file.hpp"
#include "slotdiff/text/lines.hpp"

namespace slotdiff {

enum class unknown_word { skip, mean, error };

namespace detail {
/// Throws embed_error with the parts as its message (error.hpp's throw_as).
template <class... Parts>
[[noreturn]] inline void throw_embed(const Parts&... parts) {
  throw_as<embed_error>(parts...);
}
inline constexpr char sdwv_magic[8] = {'S', 'D', 'W', 'V', 'E', 'C', '0', '1'};

// The two checksummed binary forms (.sdwv word vectors here, .sdsif embedders in sif_model.hpp) share
// their framing: little-endian integers, and a trailing u64 FNV-1a 64 of every byte before it.

/// Writes little-endian values to a stream, hashing each byte; finish() appends the checksum.
class checksummed_writer {
public:
  explicit checksummed_writer(std::ostream& out) : out_(out) {}
  void bytes(const void* p, std::size_t n) {
    out_.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
    h_.add(p, n);
  }
  void u32(std::uint32_t v) { little_endian<4>(v); }
  void u64(std::uint64_t v) { little_endian<8>(v); }
  /// Appends the checksum of everything written so far (the checksum itself is not hashed).
  void finish() {
    unsigned char b[8];
    for (int k = 0; k < 8; ++k) b[k] = static_cast<unsigned char>(h_.h >> (8 * k));
    out_.write(reinterpret_cast<const char*>(b), 8);
  }

private:
  template <int N>
  void little_endian(std::uint64_t v) {
    unsigned char b[N];
    for (int k = 0; k < N; ++k) b[k] = static_cast<unsigned char>(v >> (8 * k));
    bytes(b, N);
  }
  std::ostream& out_;
  fnv1a h_;
};

/// Reads what checksummed_writer wrote, counting and hashing the bytes.
/// Throws: embed_error "NAME: truncated at byte B while reading WHAT" when the input ends early, and
/// "NAME: checksum mismatch (...)" from check_checksum().
class checksummed_reader {
public:
  checksummed_reader(std::istream& in, std::string_view name) : in_(in), name_(name) {}
  void bytes(void* p, std::size_t n, const char* what) {
    in_.read(static_cast<char*>(p), static_cast<std::streamsize>(n));
    if (static_cast<std::size_t>(in_.gcount()) != n)
      throw_embed(name_, ": truncated at byte ", off_ + static_cast<std::uint64_t>(in_.gcount()), " while reading ", what);
    h_.add(p, n);
    off_ += n;
  }
  std::uint32_t u32(const char* what) { return static_cast<std::uint32_t>(little_endian<4>(what)); }
  std::uint64_t u64(const char* what) { return little_endian<8>(what); }
  /// Reads 8 bytes and throws "NAME: not a slotdiff KIND file (bad magic)" unless they are `magic`.
  void expect_magic(const char (&magic)[8], const char* kind) {
    char got[8];
    bytes(got, 8, "the magic");
    if (std::memcmp(got, magic, 8) != 0) throw_embed(name_, ": not a slotdiff ", kind, " file (bad magic)");
  }
  /// Bytes read so far.
  std::uint64_t offset() const noexcept { return off_; }
  /// Reads the trailing checksum and compares it with the hash of every byte read before it.
  void check_checksum() {
    const std::uint64_t expect = h_.h;
    unsigned char b[8];
    in_.read(reinterpret_cast<char*>(b), 8);
    if (in_.gcount() != 8)
      throw_embed(name_, ": truncated at byte ", off_ + static_cast<std::uint64_t>(in_.gcount()), " while reading the checksum");
    std::uint64_t sum = 0;
    for (int k = 0; k < 8; ++k) sum |= std::uint64_t(b[k]) << (8 * k);
    if (sum != expect) throw_embed(name_, ": checksum mismatch (file says ", sum, ", content gives ", expect, "): corrupt");
  }

private:
  template <int N>
  std::uint64_t little_endian(const char* what) {
    unsigned char b[N];
    bytes(b, N, what);
    std::uint64_t v = 0;
    for (int k = 0; k < N; ++k) v |= std::uint64_t(b[k]) << (8 * k);
    return v;
  }
  std::istream& in_;
  std::string_view name_;
  fnv1a h_;
  std::uint64_t off_ = 0;
};

/// write_file_atomically(path, write), a failure rethrown as embed_error "WHERE: <reason>".
template <class Write>
void save_embed_file(const std::filesystem::path& path, std::string_view where, Write&& write) {
  try {
    write_file_atomically(path, std::forward<Write>(write));
  } catch (const file_write_error& e) {
    throw_embed(where, ": ", e.what());
  }
}

}  // namespace detail

/// Words and their vectors (rows x dim, row-major).
class word_vectors {
public:
  word_vectors() = default;
  /// Requires: data.size() == words.size() * dim, dim > 0, all finite. Throws embed_error otherwise.
  word_vectors(std::vector<std::string> words, std::size_t dim, std::vector<float> data)
      : words_(std::move(words)), dim_(dim), data_(std::move(data)) {
    if (dim_ == 0) detail::throw_embed("word_vectors: dimension 0");
    if (data_.size() != words_.size() * dim_)
      detail::throw_embed("word_vectors: ", data_.size(), " values for ", words_.size(), " words of dimension ", dim_);
    for (std::size_t i = 0; i < data_.size(); ++i)
      if (!std::isfinite(data_[i]))
        detail::throw_embed("word_vectors: the vector of \"", words_[i / dim_], "\" has ", data_[i], " at ", i % dim_);
    index_.reserve(words_.size());
    for (std::size_t i = 0; i < words_.size(); ++i) index_.emplace(words_[i], i);  // first wins
  }

  std::size_t size() const noexcept { return words_.size(); }
  std::size_t dimension() const noexcept { return dim_; }
  const std::vector<std::string>& words() const noexcept { return words_; }
  std::span<const float> data() const noexcept { return data_; }
  std::span<const float> row(std::size_t i) const { return {data_.data() + i * dim_, dim_}; }
  /// The row of `word`, or -1.
  std::ptrdiff_t find(std::string_view word) const {
    const auto it = index_.find(std::string(word));
    return it == index_.end() ? -1 : static_cast<std::ptrdiff_t>(it->second);
  }

  // ---- text .vec ---------------------------------------------------------------------------------
  /// Reads the text format (header optional). `name` appears in error messages. Lines are read by
  /// text_line_reader: a UTF-8 byte-order mark at the start and CRLF line ends are accepted.
  /// Memory is O(bytes read): the header's counts are checked, never used to allocate.
  /// Throws embed_error naming the line: wrong value count, a value that is not a finite float, a
  /// header that disagrees with the body, an empty input; text_encoding_error on UTF-16/32.
  static word_vectors read_text(std::istream& in, std::string_view name = "<stream>") {
    std::string line;
    std::size_t lineno = 0, dim = 0, declared_rows = 0;
    bool header = false;
    std::vector<std::string> words;
    std::vector<float> data;
    text_line_reader lines(in, name);
    while (lines.next(line)) {
      lineno = lines.line_number();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      std::vector<std::string_view> f = split(line);
      if (lineno == 1 && f.size() == 2 && is_uint(f[0]) && is_uint(f[1])) {
        declared_rows = std::stoull(std::string(f[0]));
        dim = std::stoull(std::string(f[1]));
        if (dim == 0) detail::throw_embed(name, ":1: header declares dimension 0");
        header = true;
        continue;
      }
      if (dim == 0) dim = f.size() - 1;
      if (dim == 0) detail::throw_embed(name, ":", lineno, ": a word with no values");
      if (f.size() != dim + 1)
        detail::throw_embed(name, ":", lineno, ": \"", f[0], "\" has ", f.size() - 1, " values, expected ", dim);
      words.emplace_back(f[0]);
      for (std::size_t k = 1; k < f.size(); ++k) {
        const std::string s(f[k]);
        char* end = nullptr;
        const float v = std::strtof(s.c_str(), &end);
        if (end != s.c_str() + s.size() || !std::isfinite(v))
          detail::throw_embed(name, ":", lineno, ": value ", k, " of \"", f[0], "\" is \"", s, "\", not a finite number");
        data.push_back(v);
      }
    }
    if (words.empty()) detail::throw_embed(name, ": no word vectors");
    if (header && declared_rows != words.size())
      detail::throw_embed(name, ": the header declares ", declared_rows, " words but the file has ", words.size(),
                          " (truncated?)");
    return word_vectors(std::move(words), dim, std::move(data));
  }
  static word_vectors load_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) detail::throw_embed("word_vectors::load_text: cannot open ", path.string());
    return read_text(in, path.string());
  }
  /// Writes `rows dim` then one line per word (shortest round-trip float text, 9 significant digits).
  void write_text(std::ostream& out) const {
    out << words_.size() << ' ' << dim_ << '\n';
    out.precision(9);
    for (std::size_t i = 0; i < words_.size(); ++i) {
      out << words_[i];
      for (float v : row(i)) out << ' ' << v;
      out << '\n';
    }
  }

  // ---- binary ------------------------------------------------------------------------------------
  void write_binary(std::ostream& out) const {
    detail::checksummed_writer w(out);
    w.bytes(detail::sdwv_magic, 8);
    w.u64(words_.size());
    w.u64(dim_);
    for (const auto& word : words_) {
      w.u32(static_cast<std::uint32_t>(word.size()));
      w.bytes(word.data(), word.size());
    }
    for (float v : data_) w.u32(std::bit_cast<std::uint32_t>(v));
    w.finish();
  }
  /// Writes the binary form atomically (write_file_atomically): `path` never holds a partial file.
  /// Throws: embed_error naming the path if it cannot be written (`path` is then as it was).
  void save_binary(const std::filesystem::path& path) const {
    detail::save_embed_file(path, "word_vectors::save_binary", [&](std::ostream& out) { write_binary(out); });
  }
  /// Throws embed_error naming the byte offset: bad magic, truncation, a checksum mismatch, sizes
  /// that cannot fit the input.
  static word_vectors read_binary(std::istream& in, std::string_view name = "<stream>") {
    detail::checksummed_reader r(in, name);
    r.expect_magic(detail::sdwv_magic, "word-vector");
    const std::uint64_t rows = r.u64("the row count");
    const std::uint64_t dim = r.u64("the dimension");
    constexpr std::uint64_t limit = std::uint64_t(1) << 40;
    if (dim == 0 || rows > limit || dim > limit || rows > limit / dim)
      detail::throw_embed(name, ": implausible sizes ", rows, " x ", dim, " (corrupt header)");
    // Memory grows with the bytes actually read (words one by one, vectors in 1 MiB chunks), so a
    // header that claims 2^40 rows fails on the missing bytes, not on one huge allocation.
    std::vector<std::string> words;
    for (std::uint64_t i = 0; i < rows; ++i) {
      const std::uint32_t len = r.u32("a word length");
      if (len > (1u << 20)) detail::throw_embed(name, ": a word of ", len, " bytes at byte ", r.offset() - 4, " (corrupt)");
      std::string w(len, '\0');
      r.bytes(w.data(), len, "a word");
      words.push_back(std::move(w));
    }
    std::vector<float> data;
    std::vector<unsigned char> raw;
    constexpr std::uint64_t chunk = std::uint64_t(1) << 18;  // floats per read
    for (std::uint64_t done = 0, total = rows * dim; done < total;) {
      const std::uint64_t m = std::min(chunk, total - done);
      raw.resize(static_cast<std::size_t>(m * 4));
      r.bytes(raw.data(), raw.size(), "the vectors");
      for (std::size_t i = 0; i < m; ++i) {
        const std::uint32_t u = raw[4 * i] | (raw[4 * i + 1] << 8) | (raw[4 * i + 2] << 16) | (std::uint32_t(raw[4 * i + 3]) << 24);
        data.push_back(std::bit_cast<float>(u));
      }
      done += m;
    }
    r.check_checksum();
    return word_vectors(std::move(words), dim, std::move(data));
  }
  static word_vectors load_binary(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) detail::throw_embed("word_vectors::load_binary: cannot open ", path.string());
    return read_binary(in, path.string());
  }

private:
  static std::vector<std::string_view> split(std::string_view s) {
    std::vector<std::string_view> f;
    std::size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
      const std::size_t b = i;
      while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
      if (i > b) f.push_back(s.substr(b, i - b));
    }
    return f;
  }
  static bool is_uint(std::string_view s) {
    if (s.empty() || s.size() > 15) return false;
    for (char c : s)
      if (c < '0' || c > '9') return false;
    return true;
  }

  std::vector<std::string> words_;
  std::size_t dim_ = 0;
  std::vector<float> data_;
  std::unordered_map<std::string, std::size_t> index_;
};

/// Token id -> vector for one vocabulary (ids 0 .. size()-1), with the unknown-word policy applied.
class token_vectors {
public:
  token_vectors() = default;
  /// data: size x dim row-major; known[i] says whether id i has a real vector. Under unknown_word::mean
  /// the unknown rows are filled with the mean known vector and marked known.
  /// Throws embed_error on size mismatches or NaN.
  token_vectors(std::size_t dim, std::vector<float> data, std::vector<std::uint8_t> known, unknown_word policy = unknown_word::skip)
      : dim_(dim), data_(std::move(data)), known_(std::move(known)), policy_(policy) {
    if (dim_ == 0) detail::throw_embed("token_vectors: dimension 0");
    if (data_.size() != known_.size() * dim_)
      detail::throw_embed("token_vectors: ", data_.size(), " values for ", known_.size(), " ids of dimension ", dim_);
    for (std::size_t i = 0; i < data_.size(); ++i)
      if (!std::isfinite(data_[i])) detail::throw_embed("token_vectors: id ", i / dim_, " has ", data_[i], " at ", i % dim_);
    apply_policy();
  }
  /// The rows of `vectors` for each word of `vocabulary` (id i -> vocabulary[i]); words without a
  /// vector are unknown. `vocabulary` is any range of string-like words.
  template <class Vocabulary>
  static token_vectors for_vocabulary(const word_vectors& vectors, const Vocabulary& vocabulary, unknown_word policy = unknown_word::skip) {
    std::vector<float> data;
    std::vector<std::uint8_t> known;
    for (const auto& w : vocabulary) {
      const std::ptrdiff_t r = vectors.find(std::string_view(w));
      known.push_back(r >= 0);
      if (r >= 0) {
        const auto row = vectors.row(static_cast<std::size_t>(r));
        data.insert(data.end(), row.begin(), row.end());
      } else {
        data.insert(data.end(), vectors.dimension(), 0.0f);
      }
    }
    return token_vectors(vectors.dimension(), std::move(data), std::move(known), policy);
  }
  /// The known rows as word_vectors keyed by vocabulary[i] (for saving).
  template <class Vocabulary>
  word_vectors to_word_vectors(const Vocabulary& vocabulary) const {
    std::vector<std::string> words;
    std::vector<float> data;
    std::size_t i = 0;
    for (const auto& w : vocabulary) {
      if (i >= size()) break;
      if (known_[i] && !filled_[i]) {
        words.emplace_back(std::string_view(w));
        const auto r = row(static_cast<token_id>(i));
        data.insert(data.end(), r.begin(), r.end());
      }
      ++i;
    }
    return word_vectors(std::move(words), dim_, std::move(data));
  }

  std::size_t size() const noexcept { return known_.size(); }
  std::size_t dimension() const noexcept { return dim_; }
  unknown_word policy() const noexcept { return policy_; }
  /// Whether id has a vector that pooling uses (under `mean`, every id).
  bool known(token_id id) const { return known_[check(id)] != 0; }
  std::span<const float> row(token_id id) const { return {data_.data() + check(id) * dim_, dim_}; }
  /// Throws embed_error for an id outside [0, size()) or, under unknown_word::error, an unknown id.
  std::size_t check(token_id id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= known_.size())
      detail::throw_embed("token_vectors: token id ", id, " is outside the vocabulary [0, ", known_.size(), ")");
    if (policy_ == unknown_word::error && !known_[static_cast<std::size_t>(id)])
      detail::throw_embed("token_vectors: token id ", id, " has no vector (unknown_word::error)");
    return static_cast<std::size_t>(id);
  }

private:
  void apply_policy() {
    filled_.assign(known_.size(), 0);
    if (policy_ != unknown_word::mean) return;
    std::vector<double> mean(dim_, 0.0);
    std::size_t n = 0;
    for (std::size_t i = 0; i < known_.size(); ++i)
      if (known_[i]) {
        ++n;
        for (std::size_t k = 0; k < dim_; ++k) mean[k] += data_[i * dim_ + k];
      }
    for (std::size_t i = 0; i < known_.size(); ++i)
      if (!known_[i]) {
        for (std::size_t k = 0; k < dim_; ++k) data_[i * dim_ + k] = n ? static_cast<float>(mean[k] / double(n)) : 0.0f;
        known_[i] = 1;
        filled_[i] = 1;
      }
  }

  std::size_t dim_ = 0;
  std::vector<float> data_;
  std::vector<std::uint8_t> known_, filled_;
  unknown_word policy_ = unknown_word::skip;
};

}  // namespace slotdiff
