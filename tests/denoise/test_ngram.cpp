#include <slotdiff/backends/ngram.hpp>
#include <slotdiff/backends/ngram_text.hpp>
#include <slotdiff/denoise/denoise.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <vector>

#include "random.hpp"
#include "test_trajectory.hpp"

using namespace slotdiff;
using slotdiff::test::test_none;
using slotdiff::test::test_vocab;

namespace {

// A tiny grammar, so that neighbours predict what goes between them:
// det (adj) noun verb det (adj) noun, with ids by word class.
std::vector<token_id> grammatical(std::mt19937_64& rng) {
  auto pick = [&](token_id lo, token_id hi) { return std::uniform_int_distribution<token_id>(lo, hi)(rng); };
  std::vector<token_id> x{pick(4, 6)};
  if (rng() % 2) x.push_back(pick(10, 19));
  x.push_back(pick(20, 39));
  x.push_back(pick(40, 59));
  x.push_back(pick(4, 6));
  if (rng() % 2) x.push_back(pick(10, 19));
  x.push_back(pick(20, 39));
  return x;
}

template <class Layout>
std::vector<test::test_trajectory<Layout>> corpus(std::size_t count, std::mt19937_64& rng) {
  std::vector<test::test_trajectory<Layout>> trs;
  for (std::size_t i = 0; i < count; ++i) trs.push_back(test::random_trajectory<Layout>(grammatical(rng), rng));
  return trs;
}

const std::vector<token_id> never{0, 1, 2};

}  // namespace

TEMPLATE_TEST_CASE("every n-gram distribution sums to 1, seen context or not, at every order", "[ngram][property]",
                   side_layout, gap_layout) {
  auto rng = test::seeded_rng(21);
  const auto trs = corpus<TestType>(300, rng);
  for (int order = 1; order <= 3; ++order) {
    const auto m = ngram_backend<TestType>::train(trs, test_vocab, test_none, {.order = order, .never_insert = never});
    for (int probe = 0; probe < 30; ++probe) {
      const auto x = probe % 3 == 0 ? test::random_sentence(rng, 6) : grammatical(rng);  // random: mostly unseen contexts
      for (std::size_t s = 0; s < TestType::slot_count(x.size()); ++s) {
        double sum = 0;
        for (std::size_t v = 0; v < test_vocab; ++v) sum += m.probability(x, s, static_cast<token_id>(v));
        INFO("order " << order << ", slot " << s);
        REQUIRE(sum == Approx(1.0).margin(1e-9));
        REQUIRE(m.probability(x, s, 1) == 0.0);  // never_insert
      }
    }
  }
}

TEST_CASE("n-gram top-k is exactly the top of the full distribution", "[ngram][property]") {
  auto rng = test::seeded_rng(22);
  auto m = ngram_backend<side_layout>::train(corpus<side_layout>(300, rng), test_vocab, test_none, {.never_insert = never});
  std::vector<token_id> tokens;
  std::vector<std::size_t> offsets{0};
  for (int i = 0; i < 10; ++i) {
    const auto x = i % 2 ? grammatical(rng) : test::random_sentence(rng, 5);
    tokens.insert(tokens.end(), x.begin(), x.end());
    offsets.push_back(tokens.size());
  }
  const ragged_batch batch{tokens, offsets};
  std::size_t slots = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) slots += side_layout::slot_count(batch.length(i));
  std::vector<float> full(slots * test_vocab);
  REQUIRE(m.log_probs(batch, full) == slots);
  const std::size_t k = 12;
  std::vector<token_id> ids(slots * k);
  std::vector<float> lp(slots * k);
  REQUIRE(m.top_k(batch, k, ids, lp) == slots);
  for (std::size_t r = 0; r < slots; ++r) {
    std::vector<float> row(full.begin() + static_cast<std::ptrdiff_t>(r * test_vocab),
                           full.begin() + static_cast<std::ptrdiff_t>((r + 1) * test_vocab));
    std::vector<float> sorted = row;
    std::sort(sorted.begin(), sorted.end(), std::greater<>());
    for (std::size_t j = 0; j < k; ++j) {
      INFO("slot row " << r << ", rank " << j);
      REQUIRE(lp[r * k + j] == Approx(sorted[j]).margin(1e-6));
      REQUIRE(row[static_cast<std::size_t>(ids[r * k + j])] == Approx(lp[r * k + j]).margin(1e-6));
    }
  }
}

TEST_CASE("on held-out sentences the n-gram beats its unigram baseline", "[ngram]") {
  auto rng = test::seeded_rng(23);
  const auto train = corpus<side_layout>(2000, rng);
  const auto held = corpus<side_layout>(300, rng);
  const auto tri = ngram_backend<side_layout>::train(train, test_vocab, test_none, {.order = 3, .never_insert = never});
  const auto uni = ngram_backend<side_layout>::train(train, test_vocab, test_none, {.order = 1, .never_insert = never});
  const auto [nll3, n3] = tri.slot_nll(held);
  const auto [nll1, n1] = uni.slot_nll(held);
  std::printf("synthetic grammar, held-out nats/slot: trigram-context %.4f, unigram %.4f over %zu slots\n", nll3, nll1, n3);
  REQUIRE(n3 == n1);
  REQUIRE(n3 > 1000);
  CHECK(nll3 < nll1 - 0.1);  // measured about 0.15 nats/slot better
}

TEST_CASE("n-gram models save and load to identical probabilities; damaged files are refused", "[ngram][io]") {
  auto rng = test::seeded_rng(24);
  const auto m = ngram_backend<side_layout>::train(corpus<side_layout>(200, rng), test_vocab, test_none, {.never_insert = never});
  std::stringstream buf;
  m.write(buf);
  const std::string bytes = buf.str();
  std::istringstream in(bytes);
  const auto back = ngram_backend<side_layout>::read(in, "model");
  for (int probe = 0; probe < 20; ++probe) {
    const auto x = grammatical(rng);
    for (std::size_t s = 0; s < side_layout::slot_count(x.size()); ++s)
      for (token_id v = 0; v < static_cast<token_id>(test_vocab); ++v) REQUIRE(back.probability(x, s, v) == m.probability(x, s, v));
  }
  for (std::size_t cut : {std::size_t{5}, bytes.size() / 3, bytes.size() - 1}) {
    std::istringstream part(bytes.substr(0, cut));
    REQUIRE_THROWS_WITH(ngram_backend<side_layout>::read(part, "cut.bin"), Catch::Contains("cut.bin"));
  }
  std::istringstream wrong_layout(bytes);
  REQUIRE_THROWS_WITH(ngram_backend<gap_layout>::read(wrong_layout, "m"), Catch::Contains("trained for side_slots"));
  std::string bad = bytes;
  bad[0] = 'X';
  std::istringstream bad_magic(bad);
  REQUIRE_THROWS_WITH(ngram_backend<side_layout>::read(bad_magic, "m"), Catch::Contains("not a slotdiff n-gram model"));
  const auto path = std::filesystem::temp_directory_path() / "slotdiff_test_ngram.bin";
  m.save(path);
  m.save(path);  // over an existing file: replaced whole, no temporary file left beside it
  const auto loaded = ngram_backend<side_layout>::load(path);
  std::size_t beside = 0;
  for (const auto& e : std::filesystem::directory_iterator(path.parent_path()))
    beside += e.path().filename().string().starts_with("slotdiff_test_ngram.bin.tmp");
  CHECK(beside == 0);
  std::filesystem::remove(path);
  REQUIRE_THROWS_WITH(m.save("/nonexistent/dir/m.bin"), Catch::Contains("/nonexistent/dir/m.bin"));
  CHECK(loaded.probability(std::vector<token_id>{5, 25}, 1, 44) == m.probability(std::vector<token_id>{5, 25}, 1, 44));
  REQUIRE_THROWS_WITH(ngram_backend<side_layout>::load("/nonexistent/m.bin"), Catch::Contains("/nonexistent/m.bin"));
}

TEST_CASE("the n-gram backend drives denoise: keywords kept, specials never inserted", "[ngram][denoise]") {
  auto rng = test::seeded_rng(25);
  auto m = ngram_backend<side_layout>::train(corpus<side_layout>(1000, rng), test_vocab, test_none, {.never_insert = never});
  const std::vector<std::vector<token_id>> starts{{25, 45}, {}, {5, 30}};
  const auto gens = denoise(m, std::span(starts), stop::any_of(stop::max_steps{8}, stop::probability_below{0.01f}),
                            {.sampling = {.temperature = 0.7f}, .seed = 1});
  for (std::size_t i = 0; i < starts.size(); ++i) {
    std::vector<token_id> kept;
    for (std::size_t j = 0; j < gens[i].tokens.size(); ++j) if (gens[i].births[j] == 0) kept.push_back(gens[i].tokens[j]);
    CHECK(kept == starts[i]);
    for (token_id t : gens[i].tokens) CHECK(t > 3);
  }
  CHECK(gens[1].tokens.size() > 0);
}

TEST_CASE("n-gram probability and slot_nll check every id, slot and target count", "[ngram][errors]") {
  auto rng = test::seeded_rng(25);
  const auto trs = corpus<side_layout>(50, rng);
  const auto m = ngram_backend<side_layout>::train(trs, test_vocab, test_none, {.never_insert = never});
  const std::vector<token_id> x{5, 25};
  const auto v = static_cast<token_id>(test_vocab);
  CHECK_NOTHROW(m.probability(x, 3, v - 1));
  CHECK_THROWS_WITH(m.probability(x, 0, v), Catch::Contains("target id " + std::to_string(v)));
  CHECK_THROWS_WITH(m.probability(x, 0, -1), Catch::Contains("target id -1"));
  CHECK_THROWS_WITH(m.probability(x, 4, 5), Catch::Contains("slot 4"));
  CHECK_THROWS_WITH(m.probability(std::vector<token_id>{5, v}, 0, 5), Catch::Contains("token id " + std::to_string(v)));
  // slot_nll over trajectories with a bad target, a bad state token, a wrong target count: named, never read
  // out of bounds (the unchecked version indexed allowed_[x] with x = vocabulary size).
  auto bad_target = trs;
  bad_target[3].target_rows[0][0] = v;
  CHECK_THROWS_WITH(m.slot_nll(bad_target), Catch::Contains("trajectory 3 step 1") && Catch::Contains("target id"));
  auto negative = trs;
  negative[0].target_rows[0][0] = -5;
  CHECK_THROWS_WITH(m.slot_nll(negative), Catch::Contains("target id -5"));
  auto bad_state = trs;
  bad_state[1].states[1].push_back(v + 7);
  bad_state[1].target_rows[0].resize(side_layout::slot_count(bad_state[1].states[1].size()), test_none);
  CHECK_THROWS_WITH(m.slot_nll(bad_state), Catch::Contains("token id " + std::to_string(v + 7)));
  auto short_row = trs;
  short_row[2].target_rows[0].pop_back();
  CHECK_THROWS_WITH(m.slot_nll(short_row), Catch::Contains("trajectory 2 step 1") && Catch::Contains("targets for"));
  CHECK(m.slot_nll(trs).second > 0);
}

TEST_CASE("the top-k seen-set survives its 32-bit epoch wrapping", "[ngram]") {
  // Started two clears before the wrap: a stale stamp must never read as "seen" after it.
  detail::epoch_marks marks(8, 0xFFFFFFFEu);
  marks.insert(3);
  CHECK(marks.contains(3));
  marks.clear();  // epoch 0xFFFFFFFF
  CHECK_FALSE(marks.contains(3));
  marks.insert(5);
  marks.clear();  // wraps: every stamp reset, epoch 1
  CHECK(marks.epoch() == 1);
  for (std::size_t i = 0; i < 8; ++i) CHECK_FALSE(marks.contains(i));
  marks.insert(2);
  CHECK(marks.contains(2));
  // Without the reset, ids stamped with epoch 1 long ago would read as seen right after a wrap:
  detail::epoch_marks old(4, 1);
  old.insert(0);  // stamp 1
  for (int k = 0; k < 3; ++k) old.clear();
  CHECK_FALSE(old.contains(0));
}

TEST_CASE("n-gram files whose count tables are out of order or empty are refused", "[ngram][io]") {
  auto rng = test::seeded_rng(26);
  const auto m = ngram_backend<side_layout>::train(corpus<side_layout>(50, rng), test_vocab, test_none, {.never_insert = never});
  std::stringstream buf;
  m.write(buf);
  const std::string bytes = buf.str();
  // The first count table (c3) follows the header, never_insert and the unigram table. Swap the first
  // two context keys: keys out of order must be refused.
  std::size_t at = ngram_backend<side_layout>::file_magic.size() + 8 + 8 + 4 + 4 + 8 + side_layout::name.size();
  at += 8 + never.size() * sizeof(token_id);
  at += 8 + 4 * test_vocab * sizeof(std::uint32_t);
  std::uint64_t nkeys = 0;
  std::memcpy(&nkeys, bytes.data() + at, 8);
  REQUIRE(nkeys >= 2);
  std::string swapped = bytes;
  std::swap_ranges(swapped.begin() + static_cast<std::ptrdiff_t>(at + 8), swapped.begin() + static_cast<std::ptrdiff_t>(at + 16),
                   swapped.begin() + static_cast<std::ptrdiff_t>(at + 16));
  std::istringstream in(swapped);
  CHECK_THROWS_WITH(ngram_backend<side_layout>::read(in, "swapped.bin"), Catch::Contains("swapped.bin") && Catch::Contains("corrupt"));
  // A context table that counts a never-inserted id (fuzz_ngram's finding: the distributions then
  // summed to less than 1). The first token of the first row becomes 0 (<pad>): rows stay sorted.
  const std::size_t tokens_at = at + 8 + nkeys * 8 + 8 + (nkeys + 1) * 4;
  std::string pad = bytes;
  const token_id zero = 0;
  std::memcpy(pad.data() + tokens_at + 8, &zero, sizeof zero);
  std::istringstream in2(pad);
  CHECK_THROWS_WITH(ngram_backend<side_layout>::read(in2, "pad.bin"), Catch::Contains("never-inserted id 0"));
}

TEST_CASE("n-gram text training: a BOM and CRLF-stripped lines give the trajectories of the plain text", "[ngram]") {
  const std::vector<std::string> plain{"the cat sat on the mat", "a dog sat on the log", "the cat saw the dog",
                                       "a bird sang", "the end of the day"};
  std::vector<std::string> bom = plain;
  bom[0] = std::string(utf8_bom) + bom[0];
  const tokenizer vocab = tokenizer::build(plain);
  const auto a = noise_text<side_layout>(plain, vocab, 2, {}, 1);
  const auto b = noise_text<side_layout>(bom, vocab, 2, {}, 1);
  CHECK(a.train == b.train);
  CHECK(a.held == b.held);  // line 0 is held out: its first word is "the", not "\xEF\xBB\xBFthe" (unk)
  REQUIRE_FALSE(b.held.empty());
  CHECK(b.held[0].tokens()[0] == *vocab.find("the"));
}

TEST_CASE("n-gram continued training after a load equals training on everything at once", "[ngram][io]") {
  auto rng = test::seeded_rng(27);
  const auto a = corpus<side_layout>(60, rng), b = corpus<side_layout>(60, rng);
  auto all = a;
  all.insert(all.end(), b.begin(), b.end());
  const auto whole = ngram_backend<side_layout>::train(all, test_vocab, test_none, {.never_insert = never});
  std::stringstream buf;
  ngram_backend<side_layout>::train(a, test_vocab, test_none, {.never_insert = never}).write(buf);
  auto more = ngram_backend<side_layout>::read(buf, "a.bin");
  for (const auto& tr : b) more.observe(tr);
  more.finalize();
  std::ostringstream x, y;
  whole.write(x);
  more.write(y);
  CHECK(x.str() == y.str());

  // A count of 4e9 read from a file costs one table entry when training continues (it was folded
  // back as 4e9 repeated pairs: 64 GB), and a count pushed past 2^32 - 1 is an error, not a wrap.
  std::string bytes = x.str();
  std::size_t at = ngram_backend<side_layout>::file_magic.size() + 8 + 8 + 4 + 4 + 8 + side_layout::name.size();
  at += 8 + never.size() * sizeof(token_id);
  at += 8 + 4 * test_vocab * sizeof(std::uint32_t);
  std::uint64_t nkeys = 0, ntokens = 0;
  std::memcpy(&nkeys, bytes.data() + at, 8);
  at += 8 + nkeys * 8;                      // keys
  at += 8 + (nkeys + 1) * 4;                // offsets
  std::memcpy(&ntokens, bytes.data() + at, 8);
  at += 8 + ntokens * sizeof(token_id);     // tokens; the counts follow
  std::uint64_t ncounts = 0;
  std::memcpy(&ncounts, bytes.data() + at, 8);
  REQUIRE(ncounts == ntokens);
  const std::uint32_t huge = 4000000000u;
  for (std::uint64_t e = 0; e < ncounts; ++e) std::memcpy(bytes.data() + at + 8 + e * 4, &huge, 4);
  std::istringstream in(bytes);
  auto big = ngram_backend<side_layout>::read(in, "big.bin");
  for (const auto& tr : b) big.observe(tr);
  CHECK_NOTHROW(big.finalize());
  const std::uint32_t top = 0xFFFFFFFFu;
  for (std::uint64_t e = 0; e < ncounts; ++e) std::memcpy(bytes.data() + at + 8 + e * 4, &top, 4);
  std::istringstream in2(bytes);
  auto full = ngram_backend<side_layout>::read(in2, "full.bin");
  for (const auto& tr : all) full.observe(tr);
  CHECK_THROWS_WITH(full.finalize(), Catch::Contains("exceeds 2^32 - 1"));
}
