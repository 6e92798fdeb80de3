// slotdiff/embed/sif_model.hpp: a self-contained SIF sentence embedder on disk: words, their unigram
// probabilities, their vectors (IEEE half precision) and the common component, so that a tool can
// embed any tokenizer's sentences from one small file (see embed/sif_train.hpp for building one).
//
// SIF (Arora, Liang & Ma 2017, "A Simple but Tough-to-Beat Baseline for Sentence Embeddings"):
//   v(s) = (1/c) sum_{i in s} a / (a + p(w_i)) x_{w_i},   then  v <- v - (u.v) u
// with p the unigram probability of the training text, a the smoothing and u the first principal
// component of the training sentences' vectors. sif_model::embedder_for() returns the library's
// sif_embedder (embed/pooling.hpp) for a given vocabulary.
//
// Binary format "SDSIF001" (little-endian):
//   8 bytes  magic "SDSIF001"
//   u64      rows, u64 dim, f64 a, u64 has_component (0 or 1)
//   f32      dim values: the component u (zeros when has_component is 0)
//   rows x   { u32 byte length, UTF-8 word bytes, f32 probability p(w) }
//   u16      rows x dim IEEE binary16 values, row-major (the word vectors)
//   u64      FNV-1a 64 of every preceding byte
// 100 dimensions cost 200 bytes a word plus the word itself: 10k words are about 2.1 MB.
//
// Words outside the file (sif_unknown):
//   hash (default) a pseudo-random unit vector derived from the word's bytes (so the same word always
//        gets the same vector, nearly orthogonal to every other: |cos| ~ 1/sqrt(d)) and the
//        probability of the rarest word in the file. A rare word the embedder never learned (a name,
//        a misspelling) then counts as a distinct, content-bearing word: its removal moves the
//        sentence about as much as removing a rare known word, never less.
//   skip the pooling leaves it out (unknown_word::skip): its removal moves nothing, so an embedding
//        shift scorer removes it first.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <memory>
#include <numbers>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "slotdiff/detail/splitmix.hpp"
#include "slotdiff/embed/pooling.hpp"
#include "slotdiff/embed/word_vectors.hpp"
#include "slotdiff/io/atomic_file.hpp"
#include "slotdiff/metrics/half.hpp"

namespace slotdiff {

/// What sif_model::embedder_for does with a word the file lacks (see the header comment).
enum class sif_unknown : std::uint8_t { hash, skip };

namespace detail {
inline constexpr char sdsif_magic[8] = {'S', 'D', 'S', 'I', 'F', '0', '0', '1'};

/// The vector sif_unknown::hash gives `word`: d standard normal draws (Box-Muller on splitmix64 of
/// the word's FNV-1a hash), scaled to unit length. Complexity: O(d + |word|).
inline void hashed_unit_vector(std::string_view word, std::span<float> out) {
  fnv1a h;
  h.add(word.data(), word.size());
  std::uint64_t state = h.h;
  double norm = 0;
  for (std::size_t k = 0; k < out.size(); k += 2) {
    state = splitmix64(state);
    const double u1 = (static_cast<double>(state >> 11) + 0.5) * 0x1.0p-53;
    state = splitmix64(state);
    const double u2 = static_cast<double>(state >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2.0 * std::log(u1));
    out[k] = static_cast<float>(r * std::cos(2 * std::numbers::pi * u2));
    if (k + 1 < out.size()) out[k + 1] = static_cast<float>(r * std::sin(2 * std::numbers::pi * u2));
  }
  for (float x : out) norm += double(x) * x;
  norm = std::sqrt(norm);
  for (float& x : out) x = static_cast<float>(x / norm);
}
}  // namespace detail

/// Words, probabilities, half-precision vectors and the common component of a SIF embedder.
///
///     sif_model m = sif_model::load("data/corpus/embedder.sdsif");
///     sif_embedder e = m.embedder_for(my_vocabulary_words);   // id i -> my_vocabulary_words[i]
class sif_model {
public:
  sif_model() = default;
  /// Requires: probabilities.size() == words.size(), vectors.size() == words.size() * dim, component
  /// empty or of size dim, a > 0, all values finite, probabilities in [0, 1].
  /// Throws: embed_error naming the bad value.
  sif_model(std::vector<std::string> words, std::vector<float> probabilities, std::size_t dim, std::vector<float> vectors,
            std::vector<float> component, double a)
      : words_(std::move(words)), p_(std::move(probabilities)), dim_(dim), u_(std::move(component)), a_(a) {
    if (dim_ == 0) detail::throw_embed("sif_model: dimension 0");
    if (p_.size() != words_.size())
      detail::throw_embed("sif_model: ", p_.size(), " probabilities for ", words_.size(), " words");
    if (vectors.size() != words_.size() * dim_)
      detail::throw_embed("sif_model: ", vectors.size(), " values for ", words_.size(), " words of dimension ", dim_);
    if (!u_.empty() && u_.size() != dim_) detail::throw_embed("sif_model: component of dimension ", u_.size(), ", vectors have ", dim_);
    if (!(a_ > 0) || !std::isfinite(a_)) detail::throw_embed("sif_model: a = ", a_, " must be finite and > 0");
    for (std::size_t i = 0; i < p_.size(); ++i)
      if (!(p_[i] >= 0.0f && p_[i] <= 1.0f)) detail::throw_embed("sif_model: p(\"", words_[i], "\") = ", p_[i], " is not a probability");
    for (float x : u_)
      if (!std::isfinite(x)) detail::throw_embed("sif_model: the component has ", x);
    half_.resize(vectors.size());
    for (std::size_t i = 0; i < vectors.size(); ++i) {
      if (!std::isfinite(vectors[i]))
        detail::throw_embed("sif_model: the vector of \"", words_[i / dim_], "\" has ", vectors[i], " at ", i % dim_);
      half_[i] = f16::from_float(vectors[i]);
    }
    index();
  }

  std::size_t size() const noexcept { return words_.size(); }
  std::size_t dimension() const noexcept { return dim_; }
  double a() const noexcept { return a_; }
  const std::vector<std::string>& words() const noexcept { return words_; }
  std::span<const float> probabilities() const noexcept { return p_; }
  /// The common component u (empty when the model removes none).
  std::span<const float> component() const noexcept { return u_; }
  /// The row of `word` (already normalised as the tokenizer does), or -1.
  std::ptrdiff_t find(std::string_view word) const {
    const auto it = index_.find(std::string(word));
    return it == index_.end() ? -1 : static_cast<std::ptrdiff_t>(it->second);
  }
  /// Row r's vector, widened to float. Requires r < size().
  void vector(std::size_t r, std::span<float> out) const {
    for (std::size_t k = 0; k < dim_; ++k) out[k] = half_[r * dim_ + k].to_float();
  }

  /// The SIF embedder for a vocabulary: token id i is vocabulary[i] (any range of string-like words,
  /// e.g. a tokenizer's word list). Words the file lacks follow `unknown` (header comment).
  /// Complexity: O(V d). Throws: embed_error if the vocabulary is empty.
  template <class Vocabulary>
  sif_embedder embedder_for(const Vocabulary& vocabulary, sif_unknown unknown = sif_unknown::hash) const {
    const float rarest = p_.empty() ? 0.0f : *std::min_element(p_.begin(), p_.end());
    std::vector<float> data;
    std::vector<std::uint8_t> known;
    std::vector<double> p;
    std::vector<float> row(dim_);
    for (const auto& w : vocabulary) {
      const std::string_view word(w);
      const std::ptrdiff_t r = find(word);
      if (r >= 0) {
        vector(static_cast<std::size_t>(r), row);
        p.push_back(p_[static_cast<std::size_t>(r)]);
        known.push_back(1);
      } else if (unknown == sif_unknown::hash) {
        detail::hashed_unit_vector(word, row);
        p.push_back(rarest);
        known.push_back(1);
      } else {
        std::fill(row.begin(), row.end(), 0.0f);
        p.push_back(0.0);
        known.push_back(0);
      }
      data.insert(data.end(), row.begin(), row.end());
    }
    if (known.empty()) detail::throw_embed("sif_model::embedder_for: empty vocabulary");
    auto table = std::make_shared<const token_vectors>(dim_, std::move(data), std::move(known), unknown_word::skip);
    return sif_embedder(std::move(table), std::move(p), u_, a_);
  }

  // ---- binary ------------------------------------------------------------------------------------
  void write(std::ostream& out) const {
    detail::checksummed_writer w(out);
    w.bytes(detail::sdsif_magic, 8);
    w.u64(words_.size());
    w.u64(dim_);
    w.u64(std::bit_cast<std::uint64_t>(a_));
    w.u64(u_.empty() ? 0 : 1);
    for (std::size_t k = 0; k < dim_; ++k) w.u32(std::bit_cast<std::uint32_t>(u_.empty() ? 0.0f : u_[k]));
    for (std::size_t i = 0; i < words_.size(); ++i) {
      w.u32(static_cast<std::uint32_t>(words_[i].size()));
      w.bytes(words_[i].data(), words_[i].size());
      w.u32(std::bit_cast<std::uint32_t>(p_[i]));
    }
    std::vector<unsigned char> raw(half_.size() * 2);
    for (std::size_t i = 0; i < half_.size(); ++i) {
      raw[2 * i] = static_cast<unsigned char>(half_[i].bits);
      raw[2 * i + 1] = static_cast<unsigned char>(half_[i].bits >> 8);
    }
    w.bytes(raw.data(), raw.size());
    w.finish();
  }
  /// Writes the file atomically (write_file_atomically): `path` never holds a partial embedder.
  /// Throws: embed_error naming the path on I/O failure (`path` is then as it was).
  void save(const std::filesystem::path& path) const {
    detail::save_embed_file(path, "sif_model::save", [&](std::ostream& out) { write(out); });
  }

  /// Throws: embed_error naming `name` and the byte offset: bad magic, truncation, implausible sizes,
  /// a checksum mismatch, or values the constructor refuses.
  static sif_model read(std::istream& in, std::string_view name = "<stream>") {
    detail::checksummed_reader r(in, name);
    r.expect_magic(detail::sdsif_magic, "SIF embedder");
    const std::uint64_t rows = r.u64("the row count");
    const std::uint64_t dim = r.u64("the dimension");
    const double a = std::bit_cast<double>(r.u64("a"));
    const std::uint64_t has_component = r.u64("the component flag");
    constexpr std::uint64_t limit = std::uint64_t(1) << 32;
    if (dim == 0 || dim > 65536 || rows > limit || rows > limit / dim || has_component > 1)
      detail::throw_embed(name, ": implausible header (", rows, " words x ", dim, ", component flag ", has_component, "): corrupt");
    std::vector<float> u(dim);
    for (auto& x : u) x = std::bit_cast<float>(r.u32("the component"));
    if (!has_component) u.clear();
    // Memory grows with the bytes actually read (words one by one, vectors in chunks), so a header
    // that claims 2^32 words fails on the missing bytes, not on one huge allocation.
    std::vector<std::string> words;
    std::vector<float> p;
    for (std::uint64_t i = 0; i < rows; ++i) {
      const std::uint32_t len = r.u32("a word length");
      if (len > (1u << 16)) detail::throw_embed(name, ": a word of ", len, " bytes at byte ", r.offset() - 4, " (corrupt)");
      std::string w(len, '\0');
      r.bytes(w.data(), len, "a word");
      words.push_back(std::move(w));
      p.push_back(std::bit_cast<float>(r.u32("a probability")));
    }
    std::vector<unsigned char> raw;
    constexpr std::uint64_t chunk = std::uint64_t(1) << 20;  // bytes per read
    for (std::uint64_t done = 0, total = rows * dim * 2; done < total;) {
      const std::uint64_t m = std::min(chunk, total - done);
      raw.resize(static_cast<std::size_t>(done + m));
      r.bytes(raw.data() + done, static_cast<std::size_t>(m), "the vectors");
      done += m;
    }
    r.check_checksum();
    sif_model m;
    m.words_ = std::move(words);
    m.p_ = std::move(p);
    m.dim_ = dim;
    m.u_ = std::move(u);
    m.a_ = a;
    m.half_.resize(rows * dim);
    for (std::size_t i = 0; i < m.half_.size(); ++i)
      m.half_[i].bits = static_cast<std::uint16_t>(raw[2 * i] | (raw[2 * i + 1] << 8));
    m.validate(name);
    m.index();
    return m;
  }
  static sif_model load(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) detail::throw_embed("sif_model::load: cannot open ", path.string());
    return read(in, path.string());
  }

private:
  void validate(std::string_view name) const {
    if (!(a_ > 0) || !std::isfinite(a_)) detail::throw_embed(name, ": a = ", a_, " must be finite and > 0");
    for (std::size_t i = 0; i < p_.size(); ++i)
      if (!(p_[i] >= 0.0f && p_[i] <= 1.0f)) detail::throw_embed(name, ": p(\"", words_[i], "\") = ", p_[i], " is not a probability");
    for (std::size_t i = 0; i < half_.size(); ++i)
      if (!std::isfinite(half_[i].to_float()))
        detail::throw_embed(name, ": the vector of \"", words_[i / dim_], "\" is not finite at ", i % dim_);
    for (float x : u_)
      if (!std::isfinite(x)) detail::throw_embed(name, ": the component is not finite");
  }
  void index() {
    index_.clear();
    index_.reserve(words_.size());
    for (std::size_t i = 0; i < words_.size(); ++i) index_.emplace(words_[i], i);  // first wins
  }

  std::vector<std::string> words_;
  std::vector<float> p_;
  std::size_t dim_ = 0;
  std::vector<f16> half_;
  std::vector<float> u_;
  double a_ = 1e-3;
  std::unordered_map<std::string, std::size_t> index_;
};

}  // namespace slotdiff
