// slotdiff/text/lines.hpp: the one way slotdiff reads a text file line by line.
//
// Every text reader of the library (vocabulary, unigram model, .vec word vectors, JSONL trajectories,
// corpus lines) goes through text_line_reader, so they all treat line ends and byte-order marks alike:
//   - a UTF-8 byte-order mark (EF BB BF) at the very start of the input is dropped (Unicode 15, section
//     23.8: at the start of a UTF-8 file it is a signature, not text);
//   - a line ends at LF; one CR just before the LF (CRLF, Windows) or at the end of the input is dropped;
//   - a UTF-16 or UTF-32 byte-order mark at the start is refused with a text_encoding_error that says
//     the file is UTF-16/32 and must be converted to UTF-8.
// A BOM anywhere else is left alone (it is then text, U+FEFF, and the caller's rules apply).
#pragma once

#include <charconv>
#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "slotdiff/error.hpp"

namespace slotdiff {

/// The UTF-8 encoding of U+FEFF, the byte-order mark.
inline constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

namespace detail {

/// The integer `text` spells in decimal, if it is one of type T: optional '-' (signed T only), then
/// digits only (no '+', spaces or trailing characters), and in T's range. Complexity: O(|text|).
template <class T>
std::optional<T> parse_decimal(std::string_view text) noexcept {
  T x{};
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, x);
  if (text.empty() || ec != std::errc{} || p != end) return std::nullopt;
  return x;
}

}  // namespace detail

/// Drops one trailing CR from `line` (the rest of a CRLF line end). Complexity: O(1).
inline void strip_cr(std::string& line) noexcept {
  if (!line.empty() && line.back() == '\r') line.pop_back();
}

/// Reads lines from a stream by the rules in this header's comment. Not copyable (it refers to the
/// stream).
///
///     text_line_reader lines(in, "corpus.txt");
///     for (std::string line; lines.next(line);) use(line, lines.line_number());
class text_line_reader {
public:
  /// `name` is used in error messages.
  text_line_reader(std::istream& in, std::string_view name) : in_(in), name_(name) {}
  text_line_reader(const text_line_reader&) = delete;
  text_line_reader& operator=(const text_line_reader&) = delete;

  /// The next line into `line` (without its line end); false at the end of the input.
  /// Throws: text_encoding_error naming the input on a UTF-16/UTF-32 byte-order mark, or when the
  /// stream reports a read error (badbit).
  bool next(std::string& line) {
    if (!std::getline(in_, line)) {
      if (in_.bad()) throw text_encoding_error(name_ + ": read error after line " + std::to_string(line_no_));
      return false;
    }
    if (line_no_++ == 0) {
      check_utf16_or_32(line);
      if (line.starts_with(utf8_bom)) line.erase(0, utf8_bom.size());
    }
    strip_cr(line);
    return true;
  }

  /// The 1-based number of the line last returned by next (0 before the first).
  std::size_t line_number() const noexcept { return line_no_; }
  const std::string& name() const noexcept { return name_; }

private:
  void check_utf16_or_32(std::string_view first) const {
    auto starts = [&](std::string_view m) { return first.substr(0, m.size()) == m; };
    using namespace std::string_view_literals;
    if (starts("\xFF\xFE\0\0"sv) || starts("\0\0\xFE\xFF"sv))
      throw text_encoding_error(name_ + ": the file is UTF-32 (it starts with a UTF-32 byte-order mark); convert it to UTF-8");
    if (starts("\xFF\xFE"sv) || starts("\xFE\xFF"sv))
      throw text_encoding_error(name_ + ": the file is UTF-16 (it starts with a UTF-16 byte-order mark); convert it to UTF-8");
  }

  std::istream& in_;
  std::string name_;
  std::size_t line_no_ = 0;
};

/// Every line of `in` by text_line_reader's rules. Throws: as text_line_reader::next.
/// Complexity: O(bytes).
inline std::vector<std::string> read_text_lines(std::istream& in, std::string_view name) {
  std::vector<std::string> lines;
  text_line_reader reader(in, name);
  for (std::string line; reader.next(line);) lines.push_back(std::move(line));
  return lines;
}

}  // namespace slotdiff
