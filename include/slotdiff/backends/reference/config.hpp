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
  if (!in) throw reference_model_error("slotdiff: cannot read vocabulary " + path.string());
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
  token_id pad_id = 0, unk_id = 1, root_id = 2, none_id = 3;
  std::vector<token_id> never_insert{0, 1, 2};  ///< ids whose log-probability is -inf (trained so)
  std::string vocabulary_fnv1a64;               ///< see vocabulary_fingerprint

  std::size_t head_dim() const noexcept { return d_model / heads; }

  /// Parses and checks the metadata of a weights file (`file` names it in errors).
  /// Throws: reference_model_error naming the file, the key and the value.
  static reference_config from_metadata(const std::map<std::string, std::string>& m, const std::string& file) {
    auto get = [&](const char* key) -> const std::string& {
      const auto it = m.find(key);
      if (it == m.end()) throw reference_model_error("slotdiff: reference model " + file + ": metadata has no \"" + key + "\"");
      return it->second;
    };
    auto bad = [&](const char* key, const std::string& v, const std::string& why) {
      return reference_model_error("slotdiff: reference model " + file + ": metadata \"" + key + "\" = \"" + v + "\" " + why);
    };
    auto count = [&](const char* key, std::size_t lo, std::size_t hi) {
      const std::string& v = get(key);
      std::size_t x = 0;
      const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
      if (ec != std::errc{} || p != v.data() + v.size()) throw bad(key, v, "is not a count");
      if (x < lo || x > hi) throw bad(key, v, "lies outside " + std::to_string(lo) + ".." + std::to_string(hi));
      return x;
    };
    // A finite decimal number in [lo, hi]: "inf", "nan", hexadecimal floats and values that
    // over- or underflow are refused (from_chars' general format takes "inf" and "nan" otherwise).
    auto real = [&](const char* key, double lo, double hi) {
      const std::string& v = get(key);
      double x = 0;
      const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x, std::chars_format::general);
      const bool digits = !v.empty() && v.find_first_not_of("0123456789.eE+-") == std::string::npos;
      if (!digits || ec != std::errc{} || p != v.data() + v.size() || !std::isfinite(x))
        throw bad(key, v, "is not a finite decimal number");
      if (!(x >= lo && x <= hi)) throw bad(key, v, "lies outside [" + detail::number_text(lo) + ", " + detail::number_text(hi) + "]");
      return x;
    };
    auto expect = [&](const char* key, std::string_view want) {
      const std::string& v = get(key);
      if (v != want) throw bad(key, v, "is not supported (expected \"" + std::string(want) + "\")");
    };
    expect("format", "slotdiff-reference 1");
    expect("layout", "side_slots");
    expect("activation", "gelu_tanh");
    expect("heads_tied_to_embedding", "true");
    reference_config c;
    c.vocabulary_size = count("vocabulary_size", 5, std::size_t{1} << 24);
    c.d_model = count("d_model", 2, 1u << 16);
    c.layers = count("layers", 1, 256);
    c.heads = count("heads", 1, c.d_model);
    c.mlp = count("mlp", 1, 1u << 20);
    if (c.d_model % c.heads != 0 || c.head_dim() % 2 != 0)
      throw bad("heads", get("heads"), "does not split d_model " + std::to_string(c.d_model) + " into heads of even size");
    c.norm_eps = static_cast<float>(real("norm_eps", 1e-12, 1.0));  // a float normal number after narrowing
    c.rope_base = real("rope_base", 2.0, 1e12);
    const std::size_t top = c.vocabulary_size - 1;
    c.pad_id = static_cast<token_id>(count("pad_id", 0, top));
    c.unk_id = static_cast<token_id>(count("unk_id", 0, top));
    c.root_id = static_cast<token_id>(count("root_id", 0, top));
    c.none_id = static_cast<token_id>(count("none_id", 0, top));
    if (c.pad_id != tokenizer::pad || c.unk_id != tokenizer::unk || c.root_id != tokenizer::root || c.none_id != tokenizer::none)
      throw reference_model_error("slotdiff: reference model " + file + ": special ids pad/unk/root/none = " + std::to_string(c.pad_id) +
                                  "/" + std::to_string(c.unk_id) + "/" + std::to_string(c.root_id) + "/" + std::to_string(c.none_id) +
                                  ", the tokenizer's are 0/1/2/3");
    // never_insert: "" (none) or decimal ids separated by single commas, each in the vocabulary,
    // no repeats, not the none id ("1,,2", "1," and " 1" are malformed).
    c.never_insert.clear();
    const std::string& ni = get("never_insert");
    for (std::size_t at = 0; !ni.empty();) {
      const std::size_t comma = std::min(ni.find(',', at), ni.size());
      std::size_t x = 0;
      const auto [p, ec] = std::from_chars(ni.data() + at, ni.data() + comma, x);
      if (comma == at || ec != std::errc{} || p != ni.data() + comma || x > top)
        throw bad("never_insert", ni, "is not a comma-separated list of vocabulary ids");
      if (static_cast<token_id>(x) == c.none_id) throw bad("never_insert", ni, "contains the none id");
      if (std::find(c.never_insert.begin(), c.never_insert.end(), static_cast<token_id>(x)) != c.never_insert.end())
        throw bad("never_insert", ni, "lists id " + std::to_string(x) + " twice");
      c.never_insert.push_back(static_cast<token_id>(x));
      if (comma == ni.size()) break;
      at = comma + 1;
    }
    c.vocabulary_fnv1a64 = get("vocabulary_fnv1a64");
    if (c.vocabulary_fnv1a64.size() != 16 || c.vocabulary_fnv1a64.find_first_not_of("0123456789abcdef") != std::string::npos)
      throw bad("vocabulary_fnv1a64", c.vocabulary_fnv1a64, "is not 16 lowercase hex digits");
    return c;
  }

  /// Refuses a tokenizer this model was not trained with.
  /// Throws: reference_model_error naming both sizes or both fingerprints (and `file`).
  void check_vocabulary(std::size_t size, const std::string& fingerprint, const std::string& file) const {
    if (size != vocabulary_size)
      throw reference_model_error("slotdiff: reference model " + file + " has a vocabulary of " + std::to_string(vocabulary_size) +
                                  " ids, the tokenizer has " + std::to_string(size));
    if (fingerprint != vocabulary_fnv1a64)
      throw reference_model_error("slotdiff: reference model " + file + " was trained with vocabulary fnv1a64 " + vocabulary_fnv1a64 +
                                  ", the tokenizer's is " + fingerprint);
  }
};

}  // namespace slotdiff
