// Tests of slotdiff/text/tokenizer.hpp: pre-tokenization rules, vocabulary building and files,
// encode/decode round trips (random and over the bundled corpus), and bad input.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "random.hpp"
#include "slotdiff/text/tokenizer.hpp"

using slotdiff::token_id;
using slotdiff::tokenizer;
using slotdiff::tokenizer_error;

namespace {

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  slotdiff::split_words(text, [&](std::string_view w) { out.emplace_back(w); });
  return out;
}

std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

const std::filesystem::path data_dir = SLOTDIFF_DATA_DIR;

}  // namespace

TEST_CASE("split_words: whitespace separates, punctuation stands alone, joiners join words") {
  using V = std::vector<std::string>;
  CHECK(words_of("a quick  brown\tfox\n") == V{"a", "quick", "brown", "fox"});
  CHECK(words_of("dog.") == V{"dog", "."});
  CHECK(words_of("(he said: \"no!\")") == V{"(", "he", "said", ":", "\"", "no", "!", "\"", ")"});
  CHECK(words_of("don't well-known") == V{"don't", "well-known"});
  CHECK(words_of("'quoted' -dash- a--b") == V{"'", "quoted", "'", "-", "dash", "-", "a", "-", "-", "b"});
  CHECK(words_of("café naïve") == V{"café", "naïve"});
  CHECK(words_of("3.14") == V{"3", ".", "14"});
  CHECK(words_of("").empty());
  CHECK(words_of(" \t\r\n\x01 ").empty());
}

TEST_CASE("the special ids are fixed") {
  STATIC_REQUIRE(tokenizer::pad == 0);
  STATIC_REQUIRE(tokenizer::unk == 1);
  STATIC_REQUIRE(tokenizer::root == 2);
  STATIC_REQUIRE(tokenizer::none == 3);
  const tokenizer t;
  CHECK(t.size() == 4);
  CHECK(t.word(tokenizer::none) == "<none>");
}

TEST_CASE("build: lowercased, most frequent first, ties in byte order, size and count limits") {
  const std::vector<std::string> lines{"The cat sat.", "the dog sat", "THE end", "zebra apple"};
  const auto t = tokenizer::build(lines);
  REQUIRE(t.size() == 4 + 8);
  CHECK(t.word(4) == "the");  // 3 times
  CHECK(t.word(5) == "sat");  // 2 times
  // then the count-1 words in byte order
  CHECK(t.word(6) == ".");
  CHECK(t.word(7) == "apple");
  CHECK(t.word(11) == "zebra");
  CHECK(t.count(4) == 3);
  CHECK(t.encode("The Cat") == std::vector<token_id>{4, *t.find("cat")});

  const auto small = tokenizer::build(lines, {.max_size = 6});
  CHECK(small.size() == 6);
  CHECK(small.encode("the sat cat") == std::vector<token_id>{4, 5, tokenizer::unk});
  const auto frequent = tokenizer::build(lines, {.min_count = 2});
  CHECK(frequent.size() == 6);
  CHECK_THROWS_AS(tokenizer::build(lines, {.max_size = 3}), tokenizer_error);
}

TEST_CASE("encode counts unknown words") {
  const std::vector<std::string> lines{"a b c"};
  const auto t = tokenizer::build(lines);
  slotdiff::encode_stats stats;
  const auto ids = t.encode("a x b y z", stats);
  CHECK(ids.size() == 5);
  CHECK(stats.words == 5);
  CHECK(stats.unknown == 3);
  CHECK(ids[1] == tokenizer::unk);
  CHECK(t.encode("").empty());
}

TEST_CASE("invalid UTF-8 is refused with the byte offset") {
  const tokenizer t;
  const std::vector<std::string> bad{
      std::string("ab\xC0\x80"),          // overlong NUL
      std::string("abc\xED\xA0\x80"),     // surrogate
      std::string("\xF5\x80\x80\x80"),    // above U+10FFFF
      std::string("abcd\xE2\x82"),        // truncated
      std::string("\x80"),                // stray continuation byte
      std::string("x\xF0\x8F\xBF\xBF"),  // overlong 4-byte
  };
  for (const auto& s : bad) {
    INFO("input of " << s.size() << " bytes");
    CHECK_THROWS_AS(t.encode(s), tokenizer_error);
    CHECK_THROWS_WITH(t.encode(s), Catch::Contains("invalid UTF-8 at byte"));
  }
  CHECK_THROWS_WITH(t.encode(bad[1]), Catch::Contains("byte 3"));
  CHECK_NOTHROW(t.encode("\xF0\x9F\x98\x80 \xE2\x82\xAC \xC3\xA9"));  // emoji, euro, e-acute
  const std::vector<std::string> lines{"fine", bad[0]};
  CHECK_THROWS_WITH(tokenizer::build(lines), Catch::Contains("line 2"));
}

TEST_CASE("decode: glued punctuation, skipped pad, bad ids refused") {
  const std::vector<std::string> lines{"a quick ( brown ) fox . , jumps"};
  const auto t = tokenizer::build(lines);
  CHECK(t.decode(t.encode("A quick (brown) fox, jumps.")) == "a quick (brown) fox, jumps.");
  std::vector<token_id> with_pad = t.encode("a fox");
  with_pad.push_back(tokenizer::pad);
  CHECK(t.decode(with_pad) == "a fox");
  const std::vector<token_id> bad{4, static_cast<token_id>(t.size())};
  CHECK_THROWS_WITH(t.decode(bad), Catch::Contains("position 1"));
  const std::vector<token_id> negative{-1};
  CHECK_THROWS_AS(t.decode(negative), tokenizer_error);
}

TEST_CASE("save and load round-trip; corrupt files are refused with the line") {
  const std::vector<std::string> lines{"the cat sat on the mat", "don't stop", "café"};
  const auto t = tokenizer::build(lines);
  std::stringstream buf;
  t.write(buf);
  const auto back = tokenizer::read(buf, "buf");
  REQUIRE(back.size() == t.size());
  for (token_id i = 0; i < static_cast<token_id>(t.size()); ++i) {
    CHECK(back.word(i) == t.word(i));
    CHECK(back.count(i) == t.count(i));
  }

  const auto path = std::filesystem::temp_directory_path() / "slotdiff_test_vocab.txt";
  t.save(path);
  CHECK(tokenizer::load(path).encode("the mat") == t.encode("the mat"));
  std::filesystem::remove(path);
  CHECK_THROWS_WITH(tokenizer::load(path), Catch::Contains(path.string()));

  const std::string header = std::string(tokenizer::file_header) + "\n<pad>\t0\n<unk>\t0\n<root>\t0\n<none>\t0\n";
  auto refuse = [](const std::string& text, const std::string& what) {
    std::istringstream in(text);
    CHECK_THROWS_WITH(tokenizer::read(in, "v.txt"), Catch::Contains(what));
  };
  refuse("not a vocabulary\n", "not a slotdiff vocabulary");
  refuse(header + "cat 3\n", "v.txt:6");
  refuse(header + "cat\tmany\n", "bad count");
  refuse(header + "cat\t-1\n", "bad count");
  refuse(header + "cat\t3\ncat\t2\n", "duplicate word");
  refuse(header + "Cat\t3\n", "not one normalized word");
  refuse(header + "two words\t3\n", "not one normalized word");
  refuse(std::string(tokenizer::file_header) + "\n<pad>\t0\n<unk>\t0\n", "truncated");
  refuse(std::string(tokenizer::file_header) + "\n<pad>\t0\nfoo\t0\n", "special token <unk>");
  refuse(header + "ca\xFFt\t3\n", "invalid UTF-8");
}

TEST_CASE("encode(decode(ids)) == ids for random id sequences") {
  const std::vector<std::string> lines{
      "a quick brown fox jumps over the lazy dog . , ; : ! ? ( ) [ ] { } ' - \" don't well-known 42 café"};
  const auto t = tokenizer::build(lines);
  auto rng = slotdiff::test::seeded_rng();
  std::uniform_int_distribution<token_id> pick(tokenizer::special_count, static_cast<token_id>(t.size()) - 1);
  std::uniform_int_distribution<std::size_t> len(0, 30);
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<token_id> ids(len(rng));
    for (auto& id : ids) id = pick(rng);
    const std::string text = t.decode(ids);
    INFO("text: " << text);
    CHECK(t.encode(text) == ids);
  }
}

TEST_CASE("the bundled corpus: every line tokenizes, and decode is stable under re-encoding") {
  const auto examples = read_lines(data_dir / "wordnet" / "examples.txt");
  const auto glosses = read_lines(data_dir / "wordnet" / "glosses.txt");
  REQUIRE(examples.size() > 25000);
  REQUIRE(glosses.size() > 100000);
  auto all = examples;
  all.insert(all.end(), glosses.begin(), glosses.end());
  const auto t = tokenizer::build(all, {.max_size = 8192});
  const auto full = tokenizer::build(all, {.max_size = std::size_t{1} << 30});  // no unk: <unk> does not round-trip
  CHECK(t.size() == 8192);
  CHECK(full.size() > 8192);
  std::size_t unknown = 0, words = 0;
  for (std::size_t i = 0; i < all.size(); i += 7) {  // a fixed sample keeps the test fast under ASan
    slotdiff::encode_stats stats;
    const auto ids = t.encode(all[i], stats);
    unknown += stats.unknown;
    words += stats.words;
    const auto full_ids = full.encode(all[i]);
    REQUIRE(full.encode(full.decode(full_ids)) == full_ids);
  }
  // An 8k vocabulary covers the bulk of WordNet's prose; a broken splitter would not.
  CHECK(static_cast<double>(unknown) / static_cast<double>(words) < 0.12);
}

TEST_CASE("encode_words: an unknown keyword is unk for the model and the typed word for the reader") {
  const std::vector<std::string> lines{"the quick fox saw the dog ."};
  const auto t = tokenizer::build(lines);
  // The notes' sentence, with "jumps" outside the vocabulary.
  const slotdiff::encoded_words e = t.encode_words("Fox JUMPS dog.");
  REQUIRE(e.ids == std::vector<token_id>{*t.find("fox"), tokenizer::unk, *t.find("dog"), *t.find(".")});
  CHECK(e.words == std::vector<std::string>{"Fox", "JUMPS", "dog", "."});
  CHECK(e.unknown == 1);
  CHECK(e.ids == t.encode("Fox JUMPS dog."));  // the same ids as encode
  // What a tool prints: the vocabulary's word where it knows it, the typed word where it does not.
  const auto shown = tokenizer::shown_words(e);
  CHECK(shown == std::vector<std::string>{"", "JUMPS", "", ""});
  std::vector<std::string> printed;
  for (std::size_t i = 0; i < e.ids.size(); ++i) printed.push_back(shown[i].empty() ? t.word(e.ids[i]) : shown[i]);
  CHECK(tokenizer::join(printed) == "fox JUMPS dog.");
  // join is decode's spacing rule on text.
  CHECK(tokenizer::join(std::vector<std::string>{"a", "(", "b", ")", "c", ","}) == "a (b) c,");
  CHECK(tokenizer::join(std::vector<std::string>{}).empty());
  // A made-up word, against the bundled fluent vocabulary when it is there.
  const auto corpus_vocab = data_dir / "corpus" / "vocab.txt";
  const tokenizer bundled = std::filesystem::exists(corpus_vocab) ? tokenizer::load(corpus_vocab) : t;
  const auto made_up = bundled.encode_words("flibbertigib");
  REQUIRE(made_up.ids == std::vector<token_id>{tokenizer::unk});
  CHECK(tokenizer::shown_words(made_up) == std::vector<std::string>{"flibbertigib"});
  CHECK(bundled.encode_words("").ids.empty());
  CHECK_THROWS_WITH(t.encode_words("fox \xC0\x80"), Catch::Contains("byte 4"));
}
