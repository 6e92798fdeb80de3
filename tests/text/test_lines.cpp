// Tests of slotdiff/text/lines.hpp and of every text reader that goes through it: a UTF-8 byte-order
// mark and CRLF line ends are accepted by the vocabulary, unigram, .vec and corpus readers and give
// exactly what the plain LF file gives; UTF-16/32 files are refused with a message that says so; the
// numbers of the vocabulary file are checked, never wrapped.
#include <catch2/catch.hpp>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "random.hpp"
#include "slotdiff/embed/word_vectors.hpp"
#include "slotdiff/scoring/unigram.hpp"
#include "slotdiff/text/lines.hpp"
#include "slotdiff/text/tokenizer.hpp"

using namespace slotdiff;

namespace {

// The same text with CRLF line ends and, if asked, a UTF-8 byte-order mark in front.
std::string windows_form(const std::string& text, bool bom) {
  std::string out = bom ? std::string(utf8_bom) : std::string();
  for (char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::istringstream in(text);
  return read_text_lines(in, "t.txt");
}

}  // namespace

TEST_CASE("text_line_reader: BOM only at the start, CR only before LF or at the end, UTF-16/32 refused") {
  CHECK(lines_of("a\nb\n") == std::vector<std::string>{"a", "b"});
  CHECK(lines_of("\xEF\xBB\xBF" "a\r\nb\r\n") == std::vector<std::string>{"a", "b"});
  CHECK(lines_of("a\r\nb\r") == std::vector<std::string>{"a", "b"});  // last line without LF
  CHECK(lines_of("a\rb\n") == std::vector<std::string>{"a\rb"});     // a lone CR inside a line is text
  CHECK(lines_of("a\n\xEF\xBB\xBF" "b\n") == std::vector<std::string>{"a", "\xEF\xBB\xBF" "b"});  // BOM elsewhere: text
  CHECK(lines_of("\xEF\xBB\xBF").size() == 1);
  CHECK(lines_of("\xEF\xBB\xBF")[0].empty());
  CHECK(lines_of("").empty());

  std::istringstream u16(std::string("\xFF\xFEt\0h\0e\0\n\0", 10));
  CHECK_THROWS_WITH(read_text_lines(u16, "u16.txt"), Catch::Contains("u16.txt") && Catch::Contains("UTF-16") &&
                                                         Catch::Contains("convert it to UTF-8"));
  std::istringstream u16be(std::string("\xFE\xFF\0t", 4));
  CHECK_THROWS_AS(read_text_lines(u16be, "x"), text_encoding_error);
  std::istringstream u32(std::string("\xFF\xFE\0\0t\0\0\0", 8));
  CHECK_THROWS_WITH(read_text_lines(u32, "u32.txt"), Catch::Contains("UTF-32"));

  std::istringstream two("x\r\ny\n");
  text_line_reader r(two, "n");
  std::string line;
  CHECK(r.line_number() == 0);
  CHECK((r.next(line) && line == "x" && r.line_number() == 1));
  CHECK((r.next(line) && line == "y" && r.line_number() == 2));
  CHECK_FALSE(r.next(line));
}

TEST_CASE("parse_decimal: digits only, in range, never wrapped") {
  CHECK(detail::parse_decimal<std::uint64_t>("18446744073709551615") == std::uint64_t(-1));
  CHECK_FALSE(detail::parse_decimal<std::uint64_t>("18446744073709551616"));
  CHECK_FALSE(detail::parse_decimal<std::uint64_t>("-1"));
  CHECK_FALSE(detail::parse_decimal<std::uint64_t>("+1"));
  CHECK_FALSE(detail::parse_decimal<std::uint64_t>(" 1"));
  CHECK_FALSE(detail::parse_decimal<std::uint64_t>("1 "));
  CHECK_FALSE(detail::parse_decimal<std::uint64_t>("5x"));
  CHECK_FALSE(detail::parse_decimal<std::uint64_t>(""));
  CHECK(detail::parse_decimal<std::int32_t>("2147483647") == 2147483647);
  CHECK_FALSE(detail::parse_decimal<std::int32_t>("2147483648"));
  CHECK_FALSE(detail::parse_decimal<std::int32_t>("4294967301"));
  CHECK(detail::parse_decimal<std::int32_t>("-7") == -7);
}

TEST_CASE("vocabulary: a BOM and CRLF read exactly as the LF file, and the issue's BOM never reaches a word") {
  // The input: printf '\xef\xbb\xbfthe cat sat\n' | slotdiff vocab
  const auto lines = lines_of("\xEF\xBB\xBFthe cat sat\n");
  const auto t = tokenizer::build(lines);
  CHECK(t.find("the"));
  CHECK(t.size() == tokenizer::special_count + 3);
  for (token_id i = 0; i < static_cast<token_id>(t.size()); ++i) CHECK(t.word(i).find('\xEF') == std::string::npos);
  // build itself skips a BOM at the start of its first line (a caller that read the file another way)
  const std::vector<std::string> raw{"\xEF\xBB\xBFthe cat", "the \xEF\xBB\xBFsat"};
  const auto t2 = tokenizer::build(raw);
  CHECK(t2.find("the"));
  CHECK(t2.find("\xEF\xBB\xBFsat"));  // inside the text it is a character, as the pre-tokenizer's rules say
  CHECK(t.encode("the cat") == std::vector<token_id>{*t.find("the"), *t.find("cat")});

  // Random vocabularies: the BOM/CRLF form of the file reads back to the same tokenizer.
  auto rng = test::seeded_rng();
  for (int round = 0; round < 20; ++round) {
    std::vector<std::string> corpus;
    for (int l = 0; l < 10; ++l) {
      std::string line;
      for (int w = 0; w < 8; ++w) line += std::string(1, static_cast<char>('a' + rng() % 6)) + static_cast<char>('a' + rng() % 6) + ' ';
      corpus.push_back(line);
    }
    const auto v = tokenizer::build(corpus);
    std::ostringstream plain;
    v.write(plain);
    for (bool bom : {false, true}) {
      std::istringstream in(windows_form(plain.str(), bom));
      const auto back = tokenizer::read(in, "crlf.txt");
      REQUIRE(back.size() == v.size());
      for (token_id i = 0; i < static_cast<token_id>(v.size()); ++i) {
        CHECK(back.word(i) == v.word(i));
        CHECK(back.count(i) == v.count(i));
      }
    }
  }
  std::istringstream u16(std::string("\xFF\xFEs\0l\0", 6));
  CHECK_THROWS_WITH(tokenizer::read(u16, "v16.txt"), Catch::Contains("UTF-16"));
}

TEST_CASE("vocabulary: counts are decimal digits within 2^64 - 1") {
  const std::string header = std::string(tokenizer::file_header) + "\n<pad>\t0\n<unk>\t0\n<root>\t0\n<none>\t0\n";
  auto refuse = [&](const std::string& line) {
    std::istringstream in(header + line);
    CHECK_THROWS_WITH(tokenizer::read(in, "v.txt"), Catch::Contains("v.txt:6") && Catch::Contains("bad count"));
  };
  refuse("cat\t18446744073709551616\n");
  refuse("cat\t+3\n");
  refuse("cat\t 3\n");
  refuse("cat\t3x\n");
  refuse("cat\t\n");
  std::istringstream ok(header + "cat\t18446744073709551615\n");
  CHECK(tokenizer::read(ok, "v.txt").count(4) == std::uint64_t(-1));
}

TEST_CASE("unigram model: a BOM and CRLF read exactly as the LF file") {
  unigram_model m;
  auto rng = test::seeded_rng();
  for (int d = 0; d < 50; ++d) {
    std::vector<token_id> doc(rng() % 10);
    for (auto& t : doc) t = static_cast<token_id>(rng() % 40);
    m.observe(doc);
  }
  std::ostringstream plain;
  m.write(plain);
  for (bool bom : {false, true}) {
    std::istringstream in(windows_form(plain.str(), bom));
    const auto back = unigram_model::read(in, "u.txt");
    CHECK(back.documents() == m.documents());
    CHECK(back.total_tokens() == m.total_tokens());
    REQUIRE(back.id_bound() == m.id_bound());
    for (token_id t = 0; t < static_cast<token_id>(m.id_bound()); ++t) {
      CHECK(back.count(t) == m.count(t));
      CHECK(back.document_frequency(t) == m.document_frequency(t));
    }
  }
}

TEST_CASE(".vec word vectors: a BOM and CRLF read exactly as the LF file, with or without a header") {
  for (const std::string& text : {std::string("2 3\nthe 1 2 3\ncat 4 5 6.5\n"), std::string("the 1 2 3\ncat 4 5 6.5\n")})
    for (bool bom : {false, true}) {
      std::istringstream in(windows_form(text, bom));
      const auto v = word_vectors::read_text(in, "w.vec");
      REQUIRE(v.size() == 2);
      CHECK(v.words()[0] == "the");  // no BOM glued to the first word, and the header still detected
      CHECK(v.find("cat") == 1);
      CHECK(v.row(1)[2] == 6.5f);
    }
}
