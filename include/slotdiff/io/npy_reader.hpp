// slotdiff/io/npy_reader.hpp: a strict reader of NumPy .npy files (the arrays of a training shard,
// io/npy.hpp), with no dependency beyond the standard library.
//
// Format (NumPy's NEP 1, "A Simple File Format for NumPy Arrays"; versions 1.0, 2.0 and 3.0):
//   6 bytes "\x93NUMPY", 1 byte major (1, 2 or 3), 1 byte minor (0);
//   header length: u16 little-endian (1.0) or u32 (2.0, 3.0);
//   header: a Python dict literal {'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), } padded
//           with spaces and ended by '\n' (ASCII; UTF-8 in 3.0);
//   data: product(shape) elements of the dtype, C order (Fortran order when fortran_order is True).
//
// What is checked before anything is handed out: the magic and version; the header length within
// max_header_bytes and inside the input; the dict exactly the three keys, each once, with values of
// the right kind (a literal subset: quoted strings without escapes, True/False, tuples of decimal
// integers); a little-endian (or byte-sized) dtype among b1 i1 u1 i2 u2 i4 u4 i8 u8 f2 f4 f8; at most
// 64 dimensions; an element count and byte size that do not overflow; exactly that many data bytes
// and nothing after them. Memory grows with the bytes actually read (1 MiB chunks), so a header
// claiming 2^60 elements fails on the missing data, not on an allocation.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "slotdiff/error.hpp"

namespace slotdiff {

/// Limits read_npy enforces.
struct npy_read_options {
  std::size_t max_header_bytes = 1u << 20;  ///< NumPy's own default limit is 10,000 bytes
};

/// One array read from a .npy file.
struct npy_array {
  std::string descr;                ///< the dtype as written: "<i4", "|u1", ...
  bool fortran_order = false;
  std::vector<std::size_t> shape;   ///< empty for a 0-d array (one element)
  std::vector<unsigned char> data;  ///< element_count() * item_size() little-endian bytes

  /// Bytes per element (the digits of descr).
  std::size_t item_size() const noexcept { return static_cast<std::size_t>(descr[2] - '0'); }
  std::size_t element_count() const noexcept {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;
    return n;
  }

  /// The elements as T, which must match descr exactly (std::int32_t for "<i4", float for "<f4",
  /// bool or std::uint8_t for "|b1", ...). Throws: npy_error naming `name`, the dtype and T's size.
  template <class T>
  std::vector<T> values(std::string_view name = "npy") const {
    static_assert(std::is_arithmetic_v<T>);
    const char kind = descr[1];
    const bool ok = sizeof(T) == item_size() &&
                    (std::is_same_v<T, bool> ? kind == 'b'
                     : std::is_floating_point_v<T> ? kind == 'f'
                     : std::is_signed_v<T> ? kind == 'i'
                                            : kind == 'u' || kind == 'b');
    if (!ok)
      throw npy_error(std::string(name) + ": the array is " + descr + ", not " + (std::is_floating_point_v<T> ? "a float" : "an integer") +
                      " type of " + std::to_string(sizeof(T)) + " bytes");
    static_assert(std::endian::native == std::endian::little || sizeof(T) == 1, "big-endian hosts would need a byte swap here");
    std::vector<T> out(element_count());
    if constexpr (std::is_same_v<T, bool>) {
      for (std::size_t i = 0; i < out.size(); ++i) {
        if (data[i] > 1) throw npy_error(std::string(name) + ": boolean element " + std::to_string(i) + " is " + std::to_string(data[i]));
        out[i] = data[i] != 0;
      }
    } else if (!out.empty()) {
      std::memcpy(out.data(), data.data(), data.size());
    }
    return out;
  }
};

namespace detail {

// A cursor over the header dict with the literal grammar of this header's comment.
class npy_header_parser {
public:
  npy_header_parser(std::string_view text, std::string_view name) : s_(text), name_(name) {}

  npy_array parse() {
    npy_array a;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    skip();
    while (peek() != '}') {
      const std::string key = quoted();
      skip();
      expect(':');
      skip();
      if (key == "descr") {
        if (have_descr) fail("key 'descr' appears twice");
        have_descr = true;
        a.descr = quoted();
      } else if (key == "fortran_order") {
        if (have_order) fail("key 'fortran_order' appears twice");
        have_order = true;
        a.fortran_order = boolean();
      } else if (key == "shape") {
        if (have_shape) fail("key 'shape' appears twice");
        have_shape = true;
        a.shape = tuple();
      } else {
        fail("unknown key '" + key + "' (expected descr, fortran_order, shape)");
      }
      skip();
      if (peek() == ',') {
        ++i_;
        skip();
      } else if (peek() != '}') {
        fail("expected ',' or '}' at header byte " + std::to_string(i_));
      }
    }
    ++i_;
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
    if (i_ + 1 != s_.size() || s_[i_] != '\n') fail("the header must end with spaces and one newline after the dict");
    if (!have_descr || !have_order || !have_shape) fail("the header lacks one of 'descr', 'fortran_order', 'shape'");
    check_descr(a.descr);
    return a;
  }

private:
  [[noreturn]] void fail(const std::string& what) const { throw npy_error(std::string(name_) + ": malformed .npy header: " + what); }
  char peek() const {
    if (i_ >= s_.size()) fail("it ends inside the dict");
    return s_[i_];
  }
  void skip() {
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "' at header byte " + std::to_string(i_));
    ++i_;
  }
  std::string quoted() {
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted string at header byte " + std::to_string(i_));
    const std::size_t b = ++i_;
    while (peek() != q)
      if (s_[i_++] == '\\') fail("escapes in strings are not supported");
    return std::string(s_.substr(b, i_++ - b));
  }
  bool boolean() {
    if (s_.substr(i_, 4) == "True") return i_ += 4, true;
    if (s_.substr(i_, 5) == "False") return i_ += 5, false;
    fail("'fortran_order' must be True or False");
  }
  std::vector<std::size_t> tuple() {
    std::vector<std::size_t> dims;
    bool comma_after_last = false;
    expect('(');
    skip();
    while (peek() != ')') {
      std::uint64_t d = 0;
      const std::size_t b = i_;
      while (peek() >= '0' && peek() <= '9') {
        if (d > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) fail("a dimension does not fit 64 bits");
        d = d * 10 + static_cast<std::uint64_t>(s_[i_++] - '0');
      }
      if (i_ == b) fail("a shape entry is not a non-negative decimal integer (header byte " + std::to_string(i_) + ")");
      if (dims.size() == 64) fail("more than 64 dimensions");
      dims.push_back(static_cast<std::size_t>(d));
      skip();
      comma_after_last = peek() == ',';
      if (comma_after_last) {
        ++i_;
        skip();
      } else if (peek() != ')') {
        fail("expected ',' or ')' in the shape at header byte " + std::to_string(i_));
      }
    }
    ++i_;
    // Python: (3) is the integer 3, not a tuple; (3,) is.
    if (dims.size() == 1 && !comma_after_last) fail("a 1-d shape needs a trailing comma: (n,)");
    return dims;
  }
  void check_descr(const std::string& d) const {
    const bool shape_ok = d.size() == 3 && (d[0] == '<' || d[0] == '|' || d[0] == '>' || d[0] == '=');
    const std::string_view known[] = {"b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8"};
    bool type_ok = false;
    for (auto k : known) type_ok |= shape_ok && d.substr(1) == k;
    if (!type_ok) fail("unsupported dtype '" + d + "' (supported: b1 i1 u1 i2 u2 i4 u4 i8 u8 f2 f4 f8)");
    if (d[2] != '1' && d[0] != '<') fail("dtype '" + d + "' is not little-endian ('<'); convert it with numpy's astype('<" + d.substr(1) + "')");
  }

  std::string_view s_, name_;
  std::size_t i_ = 0;
};

}  // namespace detail

/// Reads one .npy array (the format of this header's comment). `name` is used in error messages.
/// Throws: npy_error naming `name` and the problem (bad magic or version, a header too long or
/// malformed, an unsupported or big-endian dtype, a size that overflows, truncated data, bytes after
/// the data). Complexity: O(bytes); memory O(bytes).
inline npy_array read_npy(std::istream& in, std::string_view name, const npy_read_options& opt = {}) {
  const std::string where(name);
  auto get = [&](void* p, std::size_t n, const char* what) {
    in.read(static_cast<char*>(p), static_cast<std::streamsize>(n));
    if (static_cast<std::size_t>(in.gcount()) != n) throw npy_error(where + ": truncated while reading " + what);
  };
  unsigned char pre[8];
  get(pre, 8, "the magic and version");
  if (std::memcmp(pre, "\x93NUMPY", 6) != 0) throw npy_error(where + ": not a .npy file (bad magic)");
  if (pre[6] < 1 || pre[6] > 3 || pre[7] != 0)
    throw npy_error(where + ": .npy version " + std::to_string(pre[6]) + "." + std::to_string(pre[7]) + " is not 1.0, 2.0 or 3.0");
  std::size_t header_len = 0;
  unsigned char len[4] = {0, 0, 0, 0};
  get(len, pre[6] == 1 ? 2 : 4, "the header length");
  header_len = std::size_t{len[0]} | (std::size_t{len[1]} << 8) | (std::size_t{len[2]} << 16) | (std::size_t{len[3]} << 24);
  if (header_len > opt.max_header_bytes)
    throw npy_error(where + ": header length " + std::to_string(header_len) + " exceeds the limit of " + std::to_string(opt.max_header_bytes));
  std::string header;
  for (std::size_t done = 0; done < header_len;) {  // chunked: the length is only a claim
    const std::size_t m = std::min<std::size_t>(header_len - done, 1u << 16);
    header.resize(done + m);
    get(header.data() + done, m, "the header");
    done += m;
  }
  npy_array a = detail::npy_header_parser(header, where).parse();
  std::size_t count = 1;
  for (std::size_t d : a.shape) {
    if (d != 0 && count > std::numeric_limits<std::size_t>::max() / d)
      throw npy_error(where + ": the shape's element count overflows");
    count *= d;
  }
  if (count > std::numeric_limits<std::size_t>::max() / a.item_size()) throw npy_error(where + ": the data size overflows");
  const std::size_t bytes = count * a.item_size();
  for (std::size_t done = 0; done < bytes;) {
    const std::size_t m = std::min<std::size_t>(bytes - done, 1u << 20);
    a.data.resize(done + m);
    in.read(reinterpret_cast<char*>(a.data.data() + done), static_cast<std::streamsize>(m));
    if (static_cast<std::size_t>(in.gcount()) != m)
      throw npy_error(where + ": truncated: the shape needs " + std::to_string(bytes) + " data bytes, the input has " +
                      std::to_string(done + static_cast<std::size_t>(in.gcount())));
    done += m;
  }
  if (in.peek() != std::char_traits<char>::eof()) throw npy_error(where + ": bytes after the array's data");
  return a;
}

/// read_npy on a file. Throws: npy_error naming the path if it cannot be opened, or read_npy's errors.
inline npy_array load_npy(const std::filesystem::path& path, const npy_read_options& opt = {}) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw npy_error("cannot open " + path.string());
  return read_npy(in, path.string(), opt);
}

}  // namespace slotdiff
