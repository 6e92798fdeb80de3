// Word-vector files: text .vec with and without a header, our binary form, corrupt and truncated
// inputs, the unknown-word policies.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "slotdiff/embed/word_vectors.hpp"

using namespace slotdiff;
using Catch::Contains;

TEST_CASE("text .vec with and without a header", "[embed][vectors]") {
  std::istringstream with("3 2\nthe 0.5 -1\ncat 1e-3 2\ndog\t3 4\r\n");
  const auto a = word_vectors::read_text(with, "with");
  CHECK(a.size() == 3);
  CHECK(a.dimension() == 2);
  CHECK(a.row(a.find("dog"))[1] == 4.0f);
  CHECK(a.find("cow") == -1);
  std::istringstream without("the 0.5 -1\n\ncat 1e-3 2\n");
  const auto b = word_vectors::read_text(without, "without");
  CHECK(b.size() == 2);
  CHECK(b.row(b.find("cat"))[0] == 1e-3f);
  std::ostringstream out;
  a.write_text(out);
  std::istringstream again(out.str());
  const auto c = word_vectors::read_text(again);
  CHECK(std::vector<float>(c.data().begin(), c.data().end()) == std::vector<float>(a.data().begin(), a.data().end()));
}

TEST_CASE("bad text files name the line", "[embed][vectors][errors]") {
  auto bad = [](const std::string& s) {
    std::istringstream in(s);
    return word_vectors::read_text(in, "f.vec");
  };
  CHECK_THROWS_WITH(bad("the 1 2\ncat 1\n"), Contains("f.vec:2") && Contains("has 1 values, expected 2"));
  CHECK_THROWS_WITH(bad("the 1 x2\n"), Contains("value 2 of \"the\" is \"x2\""));
  CHECK_THROWS_WITH(bad("the 1 nan\n"), Contains("not a finite number"));
  CHECK_THROWS_WITH(bad("5 2\nthe 1 2\n"), Contains("declares 5 words but the file has 1"));
  CHECK_THROWS_WITH(bad(""), Contains("no word vectors"));
  CHECK_THROWS_AS(word_vectors::load_text("/nonexistent/x.vec"), embed_error);
}

TEST_CASE("binary form round-trips and refuses corruption and truncation", "[embed][vectors][errors]") {
  const word_vectors v({"a", "bb", "ccc"}, 3, {1, 2, 3, 4, 5, 6, 7, 8, -9.5f});
  std::ostringstream out(std::ios::binary);
  v.write_binary(out);
  const std::string bytes = out.str();
  {
    std::istringstream in(bytes, std::ios::binary);
    const auto r = word_vectors::read_binary(in);
    CHECK(r.words() == v.words());
    CHECK(std::vector<float>(r.data().begin(), r.data().end()) == std::vector<float>(v.data().begin(), v.data().end()));
  }
  for (std::size_t cut : {std::size_t(0), std::size_t(5), std::size_t(20), bytes.size() - 9, bytes.size() - 1}) {
    std::istringstream in(bytes.substr(0, cut), std::ios::binary);
    INFO("cut at " << cut);
    CHECK_THROWS_AS(word_vectors::read_binary(in, "v.sdwv"), embed_error);
  }
  std::string flipped = bytes;
  flipped[bytes.size() - 12] ^= 0x01;  // inside the last float
  std::istringstream in(flipped, std::ios::binary);
  CHECK_THROWS_WITH(word_vectors::read_binary(in, "v.sdwv"), Contains("checksum mismatch"));
  std::string magic = bytes;
  magic[0] = 'X';
  std::istringstream in2(magic, std::ios::binary);
  CHECK_THROWS_WITH(word_vectors::read_binary(in2, "v.sdwv"), Contains("bad magic"));
  std::string huge = bytes;
  huge[15] = 0x7f;  // top byte of the row count
  std::istringstream in3(huge, std::ios::binary);
  CHECK_THROWS_WITH(word_vectors::read_binary(in3, "v.sdwv"), Contains("implausible"));
}

TEST_CASE("token_vectors: vocabulary mapping and the unknown-word policies", "[embed][vectors]") {
  const word_vectors v({"cat", "dog"}, 2, {1, 0, 0, 3});
  const std::vector<std::string> vocab{"<pad>", "dog", "cat", "emu"};
  const auto skip = token_vectors::for_vocabulary(v, vocab);
  CHECK(skip.known(1));
  CHECK_FALSE(skip.known(3));
  CHECK(skip.row(3)[0] == 0.0f);
  CHECK(skip.row(1)[1] == 3.0f);
  const auto mean = token_vectors::for_vocabulary(v, vocab, unknown_word::mean);
  CHECK(mean.known(3));
  CHECK(mean.row(3)[0] == 0.5f);
  CHECK(mean.row(3)[1] == 1.5f);
  CHECK(mean.to_word_vectors(vocab).size() == 2);  // filled rows are not saved as words
  const auto err = token_vectors::for_vocabulary(v, vocab, unknown_word::error);
  CHECK_THROWS_WITH(err.row(3), Contains("token id 3 has no vector"));
  CHECK_THROWS_WITH(skip.row(4), Contains("token id 4 is outside the vocabulary [0, 4)"));
  CHECK_THROWS_WITH(skip.row(-1), Contains("token id -1"));
}

TEST_CASE("binary form: memory follows the bytes read, not the header's claims", "[embed][vectors][errors]") {
  // A 24-byte header that claims 2^30 words of dimension 2^10 (2^40 values, within the plausible
  // limit) and then ends: the reader must report the truncation, not try to allocate 2^30 strings.
  std::string bytes("SDWVEC01", 8);
  auto u64 = [&](std::uint64_t v) {
    for (int k = 0; k < 8; ++k) bytes.push_back(static_cast<char>(v >> (8 * k)));
  };
  u64(std::uint64_t(1) << 30);
  u64(std::uint64_t(1) << 10);
  bytes += std::string("\x01\0\0\0a", 5);  // one word, then nothing
  std::istringstream in(bytes, std::ios::binary);
  CHECK_THROWS_WITH(word_vectors::read_binary(in, "bomb.sdwv"), Contains("bomb.sdwv") && Contains("truncated"));
  // rows x dim that overflows 64 bits is refused as implausible, not wrapped into a small product
  std::string wrap("SDWVEC01", 8);
  bytes.swap(wrap);
  u64(std::uint64_t(1) << 33);
  u64(std::uint64_t(1) << 33);
  std::istringstream in2(bytes, std::ios::binary);
  CHECK_THROWS_WITH(word_vectors::read_binary(in2, "wrap.sdwv"), Contains("implausible"));
}
