// slotdiff/backends/reference/config.hpp: the reference denoiser's configuration, read from the
// metadata of its safetensors file, and the vocabulary fingerprint that ties weights to a tokenizer.
//
// The metadata keys are written by tools/train_reference.py (docs/reference-model.md lists them).
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "slotdiff/config.hpp"
#include "slotdiff/detail/hash.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff {

namespace detail {

/// A double as short text for messages ("1e-12", "10000").
inline std::string number_text(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

/// FNV-1a, 64 bits, as 16 lowercase hex digits. Complexity: O(|bytes|).
inline std::string fnv1a64_hex(std::string_view bytes) {
  std::uint64_t h = fnv1a64(bytes);
  static constexpr char digits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) s[static_cast<std::size_t>(i)] = digits[h & 15];
  return s;
}

/// The metadata of a reference weights file, read key by key; every error names the file, the key
/// and the value ("reference model FILE: metadata "KEY" = "VALUE" WHY").
struct reference_metadata {
  const std::map<std::string, std::string>& m;
  const std::string& file;

  /// Throws: reference_model_error if the key is missing.
  const std::string& get(const char* key) const {
    const auto it = m.find(key);
    if (it == m.end()) throw reference_model_error("reference model " + file + ": metadata has no \"" + key + "\"");
    return it->second;
  }
  reference_model_error bad(const char* key, const std::string& v, const std::string& why) const {
    return reference_model_error("reference model " + file + ": metadata \"" + key + "\" = \"" + v + "\" " + why);
  }
  /// A decimal count in [lo, hi].
  std::size_t count(const char* key, std::size_t lo, std::size_t hi) const {
    const std::string& v = get(key);
    std::size_t x = 0;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc{} || p != v.data() + v.size()) throw bad(key, v, "is not a count");
    if (x < lo || x > hi) throw bad(key, v, "lies outside " + std::to_string(lo) + ".." + std::to_string(hi));
    return x;
  }
  /// A finite decimal number in [lo, hi]: "inf", "nan", hexadecimal floats and values that over- or
  /// underflow are refused (from_chars' general format takes "inf" and "nan" otherwise).
  double real(const char* key, double lo, double hi) const {
    const std::string& v = get(key);
    double x = 0;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x, std::chars_format::general);
    const bool digits = !v.empty() && v.find_first_not_of("0123456789.eE+-") == std::string::npos;
    if (!digits || ec != std::errc{} || p != v.data() + v.size() || !std::isfinite(x)) throw bad(key, v, "is not a finite decimal number");
    if (!(x >= lo && x <= hi)) throw bad(key, v, "lies outside [" + number_text(lo) + ", " + number_text(hi) + "]");
    return x;
  }
  /// A key whose value must be `want` (a format this reader knows).
  void expect(const char* key, std::string_view want) const {
    const std::string& v = get(key);
    if (v != want) throw bad(key, v, "is not supported (expected \"" + std::string(want) + "\")");
  }
};

}  // namespace detail

/// The fingerprint the weights record: FNV-1a 64 of the vocabulary file's bytes, which for a file
/// written by `slotdiff vocab` / tokenizer::save equals the hash of tokenizer::write's output.
inline std::string vocabulary_fingerprint(const tokenizer& vocab) {
  std::ostringstream s;
  vocab.write(s);
  return detail::fnv1a64_hex(s.str());
}

/// The same fingerprint, of a vocabulary file's bytes. Throws: reference_model_error if unreadable.
inline std::string vocabulary_file_fingerprint(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw reference_model_error("vocabulary_file_fingerprint: cannot read vocabulary " + path.string());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return detail::fnv1a64_hex(bytes);
}

/// Sizes and special ids of a reference denoiser (DESIGN.md "The reference denoiser").
struct reference_config {
  std::size_t vocabulary_size = 8192;
  std::size_t d_model = 256;
  std::size_t layers = 4;
  std::size_t heads = 4;
  std::size_t mlp = 1024;
  float norm_eps = 1e-5f;
  double rope_base = 10000.0;
  /// The special ids the model was trained with (metadata pad_id, unk_id, root_id, none_id): any
  /// four distinct vocabulary ids. They must be the tokenizer's (check_vocabulary refuses others):
  /// root is what the model is fed for an empty sequence and none is its "insert nothing" answer.
  token_id pad_id = tokenizer::pad, unk_id = tokenizer::unk, root_id = tokenizer::root, none_id = tokenizer::none;
  std::vector<token_id> never_insert{0, 1, 2};  ///< ids whose log-probability is -inf (trained so)
  std::string vocabulary_fnv1a64;               ///< see vocabulary_fingerprint

  std::size_t head_dim() const noexcept { return d_model / heads; }

  /// Parses and checks the metadata of a weights file (`file` names it in errors): the fixed keys,
  /// the sizes, the special ids (four distinct vocabulary ids), never_insert and the fingerprint.
  /// Throws: reference_model_error naming the file, the key and the value.
  static reference_config from_metadata(const std::map<std::string, std::string>& m, const std::string& file) {
    const detail::reference_metadata md{m, file};
    md.expect("format", "slotdiff-reference 1");
    md.expect("layout", "side_slots");
    md.expect("activation", "gelu_tanh");
    md.expect("heads_tied_to_embedding", "true");
    reference_config c;
    c.read_sizes(md);
    c.read_special_ids(md);
    c.read_never_insert(md);
    c.vocabulary_fnv1a64 = md.get("vocabulary_fnv1a64");
    if (c.vocabulary_fnv1a64.size() != 16 || c.vocabulary_fnv1a64.find_first_not_of("0123456789abcdef") != std::string::npos)
      throw md.bad("vocabulary_fnv1a64", c.vocabulary_fnv1a64, "is not 16 lowercase hex digits");
    return c;
  }

  /// The special ids as "pad/unk/root/none" text ("0/1/2/3"), for messages.
  std::string special_ids_text() const { return special_ids_text(pad_id, unk_id, root_id, none_id); }
  static std::string special_ids_text(token_id pad, token_id unk, token_id root, token_id none) {
    return std::to_string(pad) + "/" + std::to_string(unk) + "/" + std::to_string(root) + "/" + std::to_string(none);
  }

  /// Refuses a tokenizer of another size or content (vocabulary_fingerprint) than the model's.
  /// Does not look at the special ids: prefer check_vocabulary(const tokenizer&, file).
  /// Throws: reference_model_error naming both sizes or both fingerprints (and `file`).
  void check_vocabulary(std::size_t size, const std::string& fingerprint, const std::string& file) const {
    if (size != vocabulary_size)
      throw reference_model_error("reference model " + file + " has a vocabulary of " + std::to_string(vocabulary_size) +
                                  " ids, the tokenizer has " + std::to_string(size));
    if (fingerprint != vocabulary_fnv1a64)
      throw reference_model_error("reference model " + file + " was trained with vocabulary fnv1a64 " + vocabulary_fnv1a64 +
                                  ", the tokenizer's is " + fingerprint);
  }

  /// Refuses a tokenizer this model was not trained with: another size, another fingerprint, or
  /// special ids (pad/unk/root/none) other than the model's.
  /// Throws: reference_model_error naming the model's value, the tokenizer's, and `file`.
  /// Complexity: O(vocabulary bytes) (the fingerprint).
  void check_vocabulary(const tokenizer& vocab, const std::string& file) const {
    check_vocabulary(vocab.size(), vocabulary_fingerprint(vocab), file);
    // Read through the object: the ids are the tokenizer's, whether or not they stay constants.
    const std::string ours = special_ids_text(), theirs = special_ids_text(vocab.pad, vocab.unk, vocab.root, vocab.none);
    if (ours != theirs)
      throw reference_model_error("reference model " + file + ": special ids pad/unk/root/none = " + ours + ", the tokenizer's are " +
                                  theirs);
  }

private:
  void read_sizes(const detail::reference_metadata& md) {
    vocabulary_size = md.count("vocabulary_size", 5, std::size_t{1} << 24);
    d_model = md.count("d_model", 2, 1u << 16);
    layers = md.count("layers", 1, 256);
    heads = md.count("heads", 1, d_model);
    mlp = md.count("mlp", 1, 1u << 20);
    if (d_model % heads != 0 || head_dim() % 2 != 0)
      throw md.bad("heads", md.get("heads"), "does not split d_model " + std::to_string(d_model) + " into heads of even size");
    norm_eps = static_cast<float>(md.real("norm_eps", 1e-12, 1.0));  // a float normal number after narrowing
    rope_base = md.real("rope_base", 2.0, 1e12);
  }

  // Four distinct vocabulary ids; whether they are the tokenizer's is check_vocabulary's question
  // (the metadata alone does not say which tokenizer the model will be used with).
  void read_special_ids(const detail::reference_metadata& md) {
    const std::size_t top = vocabulary_size - 1;
    const std::pair<const char*, token_id*> special[] = {{"pad_id", &pad_id}, {"unk_id", &unk_id}, {"root_id", &root_id}, {"none_id", &none_id}};
    for (std::size_t i = 0; i < std::size(special); ++i) {
      *special[i].second = static_cast<token_id>(md.count(special[i].first, 0, top));
      for (std::size_t j = 0; j < i; ++j)
        if (*special[i].second == *special[j].second)
          throw md.bad(special[i].first, md.get(special[i].first), std::string("is also the ") + special[j].first);
    }
  }

  // never_insert: "" (none) or decimal ids separated by single commas, each in the vocabulary, no
  // repeats, not the none id ("1,,2", "1," and " 1" are malformed).
  void read_never_insert(const detail::reference_metadata& md) {
    never_insert.clear();
    const std::string& ni = md.get("never_insert");
    for (std::size_t at = 0; !ni.empty();) {
      const std::size_t comma = std::min(ni.find(',', at), ni.size());
      std::size_t x = 0;
      const auto [p, ec] = std::from_chars(ni.data() + at, ni.data() + comma, x);
      if (comma == at || ec != std::errc{} || p != ni.data() + comma || x >= vocabulary_size)
        throw md.bad("never_insert", ni, "is not a comma-separated list of vocabulary ids");
      if (static_cast<token_id>(x) == none_id) throw md.bad("never_insert", ni, "contains the none id");
      if (std::find(never_insert.begin(), never_insert.end(), static_cast<token_id>(x)) != never_insert.end())
        throw md.bad("never_insert", ni, "lists id " + std::to_string(x) + " twice");
      never_insert.push_back(static_cast<token_id>(x));
      if (comma == ni.size()) break;
      at = comma + 1;
    }
  }
};

}  // namespace slotdiff
