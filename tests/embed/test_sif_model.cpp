// Tests of slotdiff/embed/sif_model.hpp: the file round trip (float16 vectors), corruption and
// truncation named, the embedder it builds equals sif_embedder over the same (rounded) vectors, and
// the documented treatment of words outside the file (hash: own unit direction, rarest weight; skip).
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "random.hpp"
#include "slotdiff/embed/sif_model.hpp"

using namespace slotdiff;

namespace {

sif_model small_model(std::mt19937_64& g, std::size_t words = 30, std::size_t dim = 12, bool component = true) {
  std::vector<std::string> w;
  std::vector<float> p, v;
  std::normal_distribution<float> nd;
  for (std::size_t i = 0; i < words; ++i) {
    w.push_back("w" + std::to_string(i));
    p.push_back(1.0f / static_cast<float>((i + 2) * (i + 2)));
    for (std::size_t k = 0; k < dim; ++k) v.push_back(nd(g));
  }
  std::vector<float> u;
  if (component) {
    u.resize(dim);
    double n = 0;
    for (auto& x : u) x = nd(g), n += double(x) * x;
    for (auto& x : u) x = static_cast<float>(x / std::sqrt(n));
  }
  return sif_model(w, p, dim, v, u, 1e-3);
}

std::string bytes_of(const sif_model& m) {
  std::ostringstream os;
  m.write(os);
  return os.str();
}

}  // namespace

TEST_CASE("sif_model: write and read give the same model") {
  auto g = test::seeded_rng(21);
  for (bool component : {true, false}) {
    const sif_model m = small_model(g, 30, 12, component);
    const std::string b = bytes_of(m);
    std::istringstream in(b);
    const sif_model r = sif_model::read(in, "mem");
    CHECK(r.words() == m.words());
    CHECK(r.dimension() == m.dimension());
    CHECK(r.a() == m.a());
    CHECK(std::vector<float>(r.probabilities().begin(), r.probabilities().end()) ==
          std::vector<float>(m.probabilities().begin(), m.probabilities().end()));
    CHECK(std::vector<float>(r.component().begin(), r.component().end()) ==
          std::vector<float>(m.component().begin(), m.component().end()));
    CHECK(bytes_of(r) == b);
    // The size the header comment promises: 2 bytes a value, plus the words and their probabilities.
    std::size_t expect = 8 + 4 * 8 + 4 * 12 + 30 * 12 * 2 + 8;
    for (const auto& w : m.words()) expect += 4 + w.size() + 4;
    CHECK(b.size() == expect);
  }
  // Stored rows are the float16 rounding of the given values: relative error <= 2^-11.
  const std::vector<float> v{1.0f / 3, -2.5f, 1e-3f, 100.0f};
  const sif_model h({"x", "y"}, {0.5f, 0.25f}, 2, v, {}, 1e-3);
  std::vector<float> row(2);
  for (std::size_t r = 0; r < 2; ++r) {
    h.vector(r, row);
    for (std::size_t k = 0; k < 2; ++k) CHECK(std::abs(row[k] - v[r * 2 + k]) <= std::abs(v[r * 2 + k]) * 0x1.0p-11f);
  }
}

TEST_CASE("sif_model: corruption and truncation are named") {
  auto g = test::seeded_rng(22);
  const std::string b = bytes_of(small_model(g));
  auto read = [](std::string s) {
    std::istringstream in(s);
    return sif_model::read(in, "model.sdsif");
  };
  std::string flipped = b;
  flipped[b.size() / 2] = static_cast<char>(flipped[b.size() / 2] ^ 0x10);
  CHECK_THROWS_WITH(read(flipped), Catch::Contains("model.sdsif") && Catch::Contains("checksum"));
  CHECK_THROWS_WITH(read(b.substr(0, b.size() - 20)), Catch::Contains("model.sdsif") && Catch::Contains("truncated"));
  CHECK_THROWS_WITH(read(b.substr(0, 3)), Catch::Contains("truncated"));
  CHECK_THROWS_WITH(read("SDWVEC01" + b.substr(8)), Catch::Contains("bad magic"));
  std::string huge = b;
  huge[8 + 7] = 0x7f;  // the row count's top byte
  CHECK_THROWS_WITH(read(huge), Catch::Contains("implausible"));
  CHECK_THROWS_AS(sif_model::load("/nonexistent/model.sdsif"), embed_error);
  CHECK_THROWS_WITH(sif_model({"a"}, {2.0f}, 1, {1.0f}, {}, 1e-3), Catch::Contains("not a probability"));
  CHECK_THROWS_WITH(sif_model({"a"}, {0.5f}, 1, {NAN}, {}, 1e-3), Catch::Contains("\"a\""));
  CHECK_THROWS_WITH(sif_model({"a"}, {0.5f}, 1, {1.0f}, {}, 0.0), Catch::Contains("a = 0"));
}

TEST_CASE("sif_model::embedder_for: known words as sif_embedder over the stored vectors; unknown words hashed or skipped") {
  auto g = test::seeded_rng(23);
  const sif_model m = small_model(g, 20, 10);
  const std::size_t d = m.dimension();
  // Vocabulary: specials-like names, known words in another order, two unknown words.
  const std::vector<std::string> vocab{"<unk>", "w3", "w0", "zebra", "w19", "quokka"};
  const sif_embedder e = m.embedder_for(vocab);
  // Reference: sif_embedder over the same float16-rounded rows, with the documented unknown rows.
  std::vector<float> data(vocab.size() * d), row(d);
  std::vector<double> p(vocab.size());
  const float rarest = *std::min_element(m.probabilities().begin(), m.probabilities().end());
  for (std::size_t i = 0; i < vocab.size(); ++i) {
    const auto r = m.find(vocab[i]);
    if (r >= 0) {
      m.vector(static_cast<std::size_t>(r), row);
      p[i] = m.probabilities()[static_cast<std::size_t>(r)];
    } else {
      detail::hashed_unit_vector(vocab[i], row);
      p[i] = rarest;
    }
    std::copy(row.begin(), row.end(), data.begin() + static_cast<std::ptrdiff_t>(i * d));
  }
  const sif_embedder ref(std::make_shared<const token_vectors>(d, data, std::vector<std::uint8_t>(vocab.size(), 1)), p,
                         std::vector<float>(m.component().begin(), m.component().end()), m.a());
  const std::vector<token_id> s{1, 2, 3, 4, 5, 0, 2};
  std::vector<float> a(d), b(d), la(s.size() * d), lb(s.size() * d);
  e.embed(s, a);
  ref.embed(s, b);
  for (std::size_t k = 0; k < d; ++k) CHECK(a[k] == Approx(b[k]).margin(1e-6));
  e.embed_leave_one_out(s, la);
  ref.embed_leave_one_out(s, lb);
  for (std::size_t k = 0; k < la.size(); ++k) CHECK(la[k] == Approx(lb[k]).margin(1e-6));
  // Hashed vectors: deterministic, unit length, nearly orthogonal to each other.
  std::vector<float> h1(64), h2(64), h3(64);
  detail::hashed_unit_vector("zebra", h1);
  detail::hashed_unit_vector("zebra", h2);
  detail::hashed_unit_vector("quokka", h3);
  CHECK(h1 == h2);
  double n1 = 0, c13 = 0;
  for (std::size_t k = 0; k < 64; ++k) n1 += double(h1[k]) * h1[k], c13 += double(h1[k]) * h3[k];
  CHECK(n1 == Approx(1.0).epsilon(1e-6));
  CHECK(std::abs(c13) < 0.5);
  CHECK(e.weight(3) == Approx(m.a() / (m.a() + rarest)));
  // skip: an unknown word's removal leaves the sentence vector unchanged.
  const sif_embedder sk = m.embedder_for(vocab, sif_unknown::skip);
  const std::vector<token_id> t{1, 3, 2};
  std::vector<float> full(d), loo(t.size() * d);
  sk.embed(t, full);
  sk.embed_leave_one_out(t, loo);
  for (std::size_t k = 0; k < d; ++k) CHECK(loo[1 * d + k] == Approx(full[k]).margin(1e-7));
  CHECK_THROWS_AS(m.embedder_for(std::vector<std::string>{}), embed_error);
}

TEST_CASE("sif_model: memory follows the bytes read, not the header's claims") {
  // A header that claims 2^32 words of dimension 1 and then ends after one word.
  std::string b("SDSIF001", 8);
  auto u64 = [&](std::uint64_t v) {
    for (int k = 0; k < 8; ++k) b.push_back(static_cast<char>(v >> (8 * k)));
  };
  u64(std::uint64_t(1) << 32);
  u64(1);
  u64(std::bit_cast<std::uint64_t>(1e-3));
  u64(0);
  b += std::string(4, '\0');                     // the component (1 value)
  b += std::string("\x01\0\0\0a\0\0\0\x3f", 9);  // one word "a", p = 0.5
  std::istringstream in(b);
  CHECK_THROWS_WITH(sif_model::read(in, "bomb.sdsif"), Catch::Contains("bomb.sdsif") && Catch::Contains("truncated"));
}
