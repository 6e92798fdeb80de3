// The reference denoiser on the CPU: parity with PyTorch's golden logits (tiny random model, and the
// shipped model), configuration and vocabulary checks, the backend and embedder concepts, top-k
// against the full distribution, ragged packing and thread-count invariance.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "slotdiff/backends/reference/reference.hpp"
#include "slotdiff/concepts/denoiser_backend.hpp"
#include "slotdiff/concepts/embedder.hpp"
#include "st_util.hpp"

using namespace slotdiff;
using st_test::temp_file;

namespace {

const std::string data_dir = SLOTDIFF_REFERENCE_TEST_DATA;
const std::string tiny = data_dir + "/tiny.safetensors";

struct golden {
  std::vector<token_id> tokens;
  std::vector<std::size_t> offsets;
  std::vector<float> logits, log_probs, embeddings;
  std::size_t slots = 0, vocab = 0, dim = 0, logp_cols = 0;
  ragged_batch batch() const { return {tokens, offsets}; }
};

golden read_golden(const std::string& path) {
  const auto f = safetensors_file::open(path);
  golden g;
  g.tokens = f.read<std::int32_t>("tokens", st_dtype::i32);
  for (std::int64_t o : f.read<std::int64_t>("offsets", st_dtype::i64)) g.offsets.push_back(static_cast<std::size_t>(o));
  const st_tensor& l = f.at("logits", st_dtype::f32);
  g.slots = l.shape.at(0);
  g.vocab = l.shape.at(1);
  g.logits = f.read_f32("logits");
  g.log_probs = f.read_f32("log_probs");
  g.logp_cols = f.at("log_probs", st_dtype::f32).shape.at(1);  // the first columns of each row
  g.embeddings = f.read_f32("embeddings");
  g.dim = f.at("embeddings", st_dtype::f32).shape.at(1);
  return g;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  float m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (b[i] <= -1e29f) {  // masked in the golden file: must be -inf here
      if (!(std::isinf(a[i]) && a[i] < 0)) return std::numeric_limits<float>::infinity();
      continue;
    }
    m = std::max(m, std::abs(a[i] - b[i]));
  }
  return m;
}

void check_parity(const std::string& weights, const std::string& golden_path, std::size_t threads) {
  const golden g = read_golden(golden_path);
  reference_model m(reference_weights::load(weights), {.threads = threads});
  REQUIRE(m.config().vocabulary_size == g.vocab);
  REQUIRE(g.batch().size() >= 4);
  REQUIRE(std::count(g.offsets.begin() + 1, g.offsets.end(), 0) >= 1);  // the batch holds an empty sequence
  std::vector<float> out(g.slots * g.vocab);
  REQUIRE(m.slot_logits(g.batch(), out) == g.slots);
  const float dl = max_abs_diff(out, g.logits);
  REQUIRE(m.log_probs(g.batch(), out) == g.slots);
  std::vector<float> head(g.slots * g.logp_cols);
  for (std::size_t r = 0; r < g.slots; ++r)
    std::copy_n(out.begin() + static_cast<std::ptrdiff_t>(r * g.vocab), g.logp_cols, head.begin() + static_cast<std::ptrdiff_t>(r * g.logp_cols));
  const float dp = max_abs_diff(head, g.log_probs);
  reference_embedder e(m.weights(), {.threads = threads});
  std::vector<float> emb(g.batch().size() * g.dim);
  e.embed_batch(g.batch(), emb);
  const float de = max_abs_diff(emb, g.embeddings);
  WARN(weights << " (" << threads << " threads): max |C++ - PyTorch| logits " << dl << ", log-probs " << dp << ", embeddings " << de);
  CHECK(dl <= 1e-4f);
  CHECK(dp <= 1e-4f);
  CHECK(de <= 1e-4f);
}

// Rewrites tiny.safetensors with `edit` applied to its JSON header (data untouched unless `data` edits it).
template <class Edit, class DataEdit>
void rewrite(const std::string& src, const std::string& dst, Edit edit, DataEdit data_edit) {
  const std::string bytes = st_test::read_bytes(src);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  auto j = nlohmann::json::parse(bytes.substr(8, n));
  std::string data = bytes.substr(8 + n);
  edit(j);
  data_edit(j, data);
  st_test::write_bytes(dst, st_test::safetensors_bytes(j.dump(), data));
}
template <class Edit>
void rewrite(const std::string& src, const std::string& dst, Edit edit) {
  rewrite(src, dst, edit, [](nlohmann::json&, std::string&) {});
}

std::vector<token_id> random_tokens(std::mt19937_64& g, std::size_t n, std::size_t V) {
  std::uniform_int_distribution<token_id> id(0, static_cast<token_id>(V) - 1);
  std::vector<token_id> s(n);
  for (auto& t : s) t = id(g);
  return s;
}

}  // namespace

TEST_CASE("reference: concepts", "[reference]") {
  STATIC_REQUIRE(full_distribution_backend<reference_backend>);
  STATIC_REQUIRE(top_k_backend<reference_backend>);
  STATIC_REQUIRE(denoiser_backend<reference_backend>);
  STATIC_REQUIRE(std::same_as<reference_backend::layout_type, side_layout>);
  STATIC_REQUIRE(token_embedder<reference_embedder>);
  STATIC_REQUIRE(!embedder<reference_backend>);
  STATIC_REQUIRE(!denoiser_backend<reference_embedder>);
}

TEST_CASE("reference: parity with PyTorch, tiny random model", "[reference]") {
  for (std::size_t threads : {1, 3}) check_parity(tiny, data_dir + "/tiny-golden.safetensors", threads);
}

TEST_CASE("reference: a BF16 weights file loads and matches PyTorch", "[reference]") {
  // tiny-bf16: written by train_reference.py --init-only --dtype bf16 (weights rounded to bfloat16
  // before its golden logits were computed), so widening BF16 to fp32 must reproduce them.
  const std::string bf = data_dir + "/tiny-bf16.safetensors";
  REQUIRE(safetensors_file::open(bf).at("tok_embeddings.weight", st_dtype::bf16).dtype == st_dtype::bf16);
  check_parity(bf, data_dir + "/tiny-bf16-golden.safetensors", 2);
  // Every BF16 value widens exactly: an F32 copy of the same file gives the same weights, bit for bit.
  temp_file f32_copy("tiny-bf16-as-f32.safetensors");
  rewrite(bf, f32_copy.path.string(), [](nlohmann::json&) {}, [](nlohmann::json& j, std::string& data) {
    std::string wide;
    for (auto& [name, t] : j.items()) {
      if (name == "__metadata__") continue;
      const auto b = t["data_offsets"][0].get<std::size_t>(), e = t["data_offsets"][1].get<std::size_t>();
      const std::size_t start = wide.size();
      for (std::size_t i = b; i < e; i += 2) wide += std::string{'\0', '\0', data[i], data[i + 1]};
      t["dtype"] = "F32";
      t["data_offsets"] = {start, wide.size()};
    }
    data = wide;
  });
  const auto a = reference_weights::load(bf), c = reference_weights::load(f32_copy.path.string());
  CHECK(a->embedding == c->embedding);
  CHECK(a->heads == c->heads);
  CHECK(a->layers.at(0).w1 == c->layers.at(0).w1);
  // A BF16 tensor holding NaN is refused like an F32 one.
  temp_file bad("tiny-bf16-nan.safetensors");
  rewrite(bf, bad.path.string(), [](nlohmann::json&) {}, [](nlohmann::json& j, std::string& data) {
    const auto b = j["final_norm.weight"]["data_offsets"][0].get<std::size_t>();
    data[b] = '\xc0';
    data[b + 1] = '\x7f';  // 0x7fc0: a quiet NaN
  });
  CHECK_THROWS_WITH(reference_weights::load(bad.path.string()), Catch::Contains("final_norm.weight") && Catch::Contains("NaN"));
}

TEST_CASE("reference: parity with PyTorch, the shipped model", "[reference][shipped]") {
  const std::string dir = SLOTDIFF_SOURCE_DIR "/models";
  check_parity(dir + "/reference.safetensors", dir + "/reference-golden.safetensors", 2);
  // and it belongs to the bundled vocabulary
  const tokenizer vocab = tokenizer::load(SLOTDIFF_SOURCE_DIR "/data/wordnet/vocab.txt");
  CHECK_NOTHROW(reference_weights::load(dir + "/reference.safetensors", vocab));
}

TEST_CASE("reference: a vocabulary of another size or content is refused, naming both", "[reference]") {
  const tokenizer big = tokenizer::load(SLOTDIFF_SOURCE_DIR "/data/wordnet/vocab.txt");
  CHECK_THROWS_WITH(reference_weights::load(tiny, big),
                    Catch::Contains("vocabulary of 64 ids, the tokenizer has 8192") && Catch::Contains(tiny));
  const tokenizer same = tokenizer::load(data_dir + "/tiny_vocab.txt");
  CHECK(vocabulary_fingerprint(same) == vocabulary_file_fingerprint(data_dir + "/tiny_vocab.txt"));
  CHECK_NOTHROW(reference_weights::load(tiny, same));
  // same size, one count changed: another fingerprint
  temp_file f("vocab");
  std::string text = st_test::read_bytes(data_dir + "/tiny_vocab.txt");
  const auto at = text.find("the\t");
  REQUIRE(at != std::string::npos);
  text.insert(at + 4, "1");
  st_test::write_bytes(f.path, text);
  const tokenizer other = tokenizer::load(f.path);
  REQUIRE(other.size() == 64);
  const std::string want = reference_weights::load(tiny)->config.vocabulary_fnv1a64;
  const std::string have = vocabulary_fingerprint(other);
  REQUIRE(want != have);
  CHECK_THROWS_WITH(reference_weights::load(tiny, other), Catch::Contains("fnv1a64 " + want) && Catch::Contains("tokenizer's is " + have));
  CHECK_THROWS_AS(reference_backend::load(tiny, other), reference_model_error);
}

TEST_CASE("reference: special ids come from the metadata and must be the tokenizer's", "[reference][special]") {
  const tokenizer same = tokenizer::load(data_dir + "/tiny_vocab.txt");
  temp_file f("special");
  // Another vocabulary's special ids (never_insert = its pad/unk/root): the file alone loads and the
  // model feeds its own root id; with a tokenizer whose ids differ it is refused, naming both.
  rewrite(tiny, f.path.string(), [](nlohmann::json& j) {
    auto& m = j["__metadata__"];
    m["pad_id"] = "7", m["unk_id"] = "6", m["root_id"] = "5", m["none_id"] = "4", m["never_insert"] = "7,6,5";
  });
  const auto w = reference_weights::load(f.path);
  CHECK(w->config.pad_id == 7);
  CHECK(w->config.unk_id == 6);
  CHECK(w->config.root_id == 5);
  CHECK(w->config.none_id == 4);
  CHECK(reference_backend(w).none_id() == 4);
  CHECK(w->config.special_ids_text() == "7/6/5/4");
  CHECK_THROWS_AS(reference_weights::load(f.path, same), reference_model_error);
  CHECK_THROWS_WITH(reference_weights::load(f.path, same),
                    Catch::Contains("special ids pad/unk/root/none = 7/6/5/4, the tokenizer's are 0/1/2/3") &&
                        Catch::Contains(f.path.string()));
  CHECK_THROWS_AS(reference_backend::load(f.path, same), reference_model_error);
  // the shipped tiny model's own ids pass with its tokenizer
  CHECK(reference_weights::load(tiny, same)->config.special_ids_text() == "0/1/2/3");
  // an empty sequence is fed as the model's root id: its one slot differs from a ROOT-2 model's
  {
    const auto base = reference_weights::load(tiny);
    reference_model a(base), b(w);
    const std::vector<token_id> none_tokens;
    const std::size_t offsets[2] = {0, 0};
    const float* ha = a.hidden(ragged_batch{none_tokens, offsets}).data();
    const float* hb = b.hidden(ragged_batch{none_tokens, offsets}).data();
    CHECK_FALSE(std::equal(ha, ha + base->config.d_model, hb));
  }
  // two special ids that coincide are refused by name
  rewrite(tiny, f.path.string(), [](nlohmann::json& j) { j["__metadata__"]["none_id"] = "2"; });
  CHECK_THROWS_WITH(reference_weights::load(f.path), Catch::Contains("\"none_id\" = \"2\" is also the root_id"));
  rewrite(tiny, f.path.string(), [](nlohmann::json& j) { j["__metadata__"]["unk_id"] = "64"; });
  CHECK_THROWS_WITH(reference_weights::load(f.path), Catch::Contains("\"unk_id\" = \"64\" lies outside 0..63"));
}

TEST_CASE("reference: bad configurations and tensors are refused", "[reference]") {
  temp_file f("model");
  auto refused = [&](auto edit, const std::string& needle) {
    rewrite(tiny, f.path.string(), edit);
    INFO("expecting: " << needle);
    CHECK_THROWS_WITH(reference_weights::load(f.path), Catch::Contains(needle));
  };
  refused([](nlohmann::json& j) { j["__metadata__"]["format"] = "slotdiff-reference 2"; }, "\"format\" = \"slotdiff-reference 2\"");
  refused([](nlohmann::json& j) { j["__metadata__"].erase("heads"); }, "metadata has no \"heads\"");
  refused([](nlohmann::json& j) { j["__metadata__"]["heads"] = "3"; }, "\"heads\" = \"3\"");
  refused([](nlohmann::json& j) { j["__metadata__"]["layers"] = "2x"; }, "\"layers\" = \"2x\" is not a count");
  refused([](nlohmann::json& j) { j["__metadata__"]["layout"] = "gap_slots"; }, "\"layout\" = \"gap_slots\"");
  refused([](nlohmann::json& j) { j["__metadata__"]["norm_eps"] = "-1"; }, "\"norm_eps\" = \"-1\"");
  // Every real value finite, decimal and in range (the issue: "inf" passed the positive check and the
  // model then gave uniform distributions); lists well formed.
  refused([](nlohmann::json& j) { j["__metadata__"]["norm_eps"] = "inf"; }, "\"norm_eps\" = \"inf\" is not a finite decimal number");
  refused([](nlohmann::json& j) { j["__metadata__"]["norm_eps"] = "nan"; }, "\"norm_eps\" = \"nan\"");
  refused([](nlohmann::json& j) { j["__metadata__"]["norm_eps"] = "1e-50"; }, "\"norm_eps\" = \"1e-50\" lies outside");
  refused([](nlohmann::json& j) { j["__metadata__"]["norm_eps"] = "1e400"; }, "\"norm_eps\" = \"1e400\"");
  refused([](nlohmann::json& j) { j["__metadata__"]["norm_eps"] = "0x1p-20"; }, "\"norm_eps\" = \"0x1p-20\"");
  refused([](nlohmann::json& j) { j["__metadata__"]["norm_eps"] = " 1e-5"; }, "\"norm_eps\" = \" 1e-5\"");
  refused([](nlohmann::json& j) { j["__metadata__"]["rope_base"] = "infinity"; }, "\"rope_base\" = \"infinity\"");
  refused([](nlohmann::json& j) { j["__metadata__"]["rope_base"] = "1"; }, "\"rope_base\" = \"1\" lies outside");
  refused([](nlohmann::json& j) { j["__metadata__"]["never_insert"] = "0,1,"; }, "\"never_insert\" = \"0,1,\"");
  refused([](nlohmann::json& j) { j["__metadata__"]["never_insert"] = "0,,1"; }, "not a comma-separated list");
  refused([](nlohmann::json& j) { j["__metadata__"]["never_insert"] = "0,1,1"; }, "lists id 1 twice");
  refused([](nlohmann::json& j) { j["__metadata__"]["never_insert"] = "0,-1"; }, "\"never_insert\" = \"0,-1\"");
  refused([](nlohmann::json& j) { j["__metadata__"]["vocabulary_size"] = "18446744073709551617"; }, "\"vocabulary_size\"");
  refused([](nlohmann::json& j) { j["__metadata__"]["never_insert"] = "0,3"; }, "contains the none id");
  refused([](nlohmann::json& j) { j["__metadata__"]["vocabulary_fnv1a64"] = "xyz"; }, "not 16 lowercase hex digits");
  refused([](nlohmann::json& j) { j["__metadata__"]["layers"] = "3"; }, "has no tensor \"layers.2.attn_norm.weight\"");
  refused([](nlohmann::json& j) { j["__metadata__"]["layers"] = "1"; }, "tensor \"layers.1.");
  refused([](nlohmann::json& j) { j["__metadata__"]["d_model"] = "16"; j["__metadata__"]["heads"] = "2"; }, "has shape [64, 32], expected [64, 16]");
  refused([](nlohmann::json& j) { j["head_left.weight"]["dtype"] = "I32"; }, "\"head_left.weight\" is I32, expected F32");
  // a NaN weight
  rewrite(tiny, f.path.string(), [](nlohmann::json&) {}, [](nlohmann::json& j, std::string& data) {
    const std::size_t at = j["final_norm.weight"]["data_offsets"][0].get<std::size_t>();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(data.data() + at + 4, &nan, 4);
  });
  CHECK_THROWS_WITH(reference_weights::load(f.path), Catch::Contains("\"final_norm.weight\" holds NaN"));
}

TEST_CASE("reference: log-probabilities are normalised and never-inserted ids are impossible", "[reference]") {
  reference_backend b(reference_weights::load(tiny), {.threads = 2});
  std::mt19937_64 g(7);
  ragged_buffer buf;
  for (std::size_t n : {0, 3, 1, 9, 0, 17}) {
    const auto s = random_tokens(g, n, 64);
    std::copy(s.begin(), s.end(), buf.append(n).begin());
  }
  const std::size_t S = reference_model::slot_rows(buf.view());
  CHECK(S == 1 + 6 + 2 + 18 + 1 + 34);
  std::vector<float> lp(S * 64);
  REQUIRE(b.log_probs(buf.view(), lp) == S);
  for (std::size_t r = 0; r < S; ++r) {
    double sum = 0;
    for (std::size_t v = 0; v < 64; ++v) sum += std::exp(static_cast<double>(lp[r * 64 + v]));
    CHECK(sum == Approx(1.0).epsilon(1e-5));
    for (token_id t : {0, 1, 2}) CHECK(std::isinf(lp[r * 64 + static_cast<std::size_t>(t)]));
    CHECK(std::isfinite(lp[r * 64 + 3]));  // none is a class
  }
  CHECK(b.vocabulary_size() == 64);
  CHECK(b.none_id() == 3);
}

TEST_CASE("reference: top-k equals the top of the full distribution", "[reference]") {
  reference_backend b(reference_weights::load(tiny), {.threads = 2});
  std::mt19937_64 g(11);
  ragged_buffer buf;
  for (std::size_t n : {4, 0, 1, 12, 30}) {
    const auto s = random_tokens(g, n, 64);
    std::copy(s.begin(), s.end(), buf.append(n).begin());
  }
  const std::size_t S = reference_model::slot_rows(buf.view());
  std::vector<float> lp(S * 64);
  b.log_probs(buf.view(), lp);
  for (std::size_t k : {1, 5, 64}) {
    std::vector<token_id> ids(S * k);
    std::vector<float> tl(S * k);
    REQUIRE(b.top_k(buf.view(), k, ids, tl) == S);
    for (std::size_t r = 0; r < S; ++r) {
      std::vector<std::pair<float, token_id>> all;
      for (std::size_t v = 0; v < 64; ++v) all.emplace_back(lp[r * 64 + v], static_cast<token_id>(v));
      std::stable_sort(all.begin(), all.end(), [](auto& a, auto& c) { return a.first > c.first; });
      for (std::size_t j = 0; j < k; ++j) {
        INFO("slot " << r << " rank " << j << " k " << k);
        if (std::isinf(all[j].first)) {
          CHECK(std::isinf(tl[r * k + j]));
          continue;
        }
        CHECK(ids[r * k + j] == all[j].second);
        CHECK(tl[r * k + j] == Approx(all[j].first).margin(1e-5));
        if (j) CHECK(tl[r * k + j] <= tl[r * k + j - 1]);
      }
    }
  }
  std::vector<token_id> ids(S);
  std::vector<float> tl(S);
  CHECK_THROWS_WITH(b.top_k(buf.view(), 0, ids, tl), Catch::Contains("k = 0"));
  CHECK_THROWS_WITH(b.top_k(buf.view(), 2, ids, tl), Catch::Contains("needs " + std::to_string(2 * S)));
}

TEST_CASE("reference: a sequence's slots do not depend on its batch or the thread count", "[reference]") {
  const auto w = reference_weights::load(tiny);
  reference_model one(w, {.threads = 1}), many(w, {.threads = 4});
  std::mt19937_64 g(3);
  std::vector<std::vector<token_id>> seqs;
  ragged_buffer buf;
  for (std::size_t n : {6, 0, 2, 25, 1}) {
    seqs.push_back(random_tokens(g, n, 64));
    std::copy(seqs.back().begin(), seqs.back().end(), buf.append(n).begin());
  }
  const std::size_t S = reference_model::slot_rows(buf.view());
  std::vector<float> a(S * 64), c(S * 64);
  one.slot_logits(buf.view(), a);
  many.slot_logits(buf.view(), c);
  float diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff = std::max(diff, std::abs(a[i] - c[i]));
  CHECK(diff <= 1e-5f);
  std::size_t row = 0;
  for (const auto& s : seqs) {
    const std::size_t off[2] = {0, s.size()};
    const std::size_t n = side_layout::slot_count(s.size());
    std::vector<float> alone(n * 64);
    one.slot_logits(ragged_batch{s, off}, alone);
    float d = 0;
    for (std::size_t i = 0; i < alone.size(); ++i) d = std::max(d, std::abs(alone[i] - a[row * 64 + i]));
    INFO("sequence of length " << s.size());
    CHECK(d <= 1e-5f);
    row += n;
  }
}

TEST_CASE("reference: bad input is refused", "[reference]") {
  reference_backend b(reference_weights::load(tiny));
  const std::vector<token_id> toks{5, 64, 7};
  const std::vector<std::size_t> off{0, 3};
  std::vector<float> out(6 * 64);
  CHECK_THROWS_WITH(b.log_probs(ragged_batch{toks, off}, out), Catch::Contains("position 1 holds id 64, outside the vocabulary of 64"));
  const std::vector<token_id> ok{5, 6, 7};
  std::vector<float> small(6 * 64 - 1);
  CHECK_THROWS_WITH(b.log_probs(ragged_batch{ok, off}, small), Catch::Contains("holds 383 values, the batch needs 384"));
  const std::vector<std::size_t> bad_off{0, 4};
  CHECK_THROWS_AS(b.log_probs(ragged_batch{ok, bad_off}, out), error);
  const std::vector<token_id> neg{-1};
  const std::vector<std::size_t> off1{0, 1};
  CHECK_THROWS_WITH(b.log_probs(ragged_batch{neg, off1}, out), Catch::Contains("holds id -1"));
  CHECK_THROWS_WITH(reference_weights::load(data_dir + "/missing.safetensors"), Catch::Contains("cannot open"));
}

TEST_CASE("reference: the embedder is the mean of the final hidden states", "[reference]") {
  const auto w = reference_weights::load(tiny);
  reference_embedder e(w, {.threads = 2});
  REQUIRE(e.dimension() == 32);
  const std::vector<token_id> s{7, 1, 40, 12, 9};
  std::vector<float> sent(32), toks(5 * 32);
  e.embed(s, sent);
  e.embed_tokens(s, toks);
  for (std::size_t k = 0; k < 32; ++k) {
    float m = 0;
    for (std::size_t i = 0; i < 5; ++i) m += toks[i * 32 + k];
    CHECK(sent[k] == Approx(m / 5).margin(1e-5));
  }
  // an empty sequence is ROOT's hidden state
  std::vector<float> empty(32), root(32);
  e.embed(std::span<const token_id>{}, empty);
  const std::vector<token_id> r{2};
  e.embed(r, root);
  CHECK(empty == root);
  // different sentences, different vectors; the same sentence, the same vector
  std::vector<float> other(32), again(32);
  const std::vector<token_id> s2{7, 1, 40, 12, 10};
  e.embed(s2, other);
  e.embed(s, again);
  CHECK(again == sent);
  CHECK(other != sent);
  std::vector<float> wrong(31);
  CHECK_THROWS_WITH(e.embed(s, wrong), Catch::Contains("output holds 31 floats, expected 32"));
}

TEST_CASE("reference: an empty batch writes nothing", "[reference]") {
  reference_backend b(reference_weights::load(tiny), {.threads = 2});
  const std::vector<token_id> none;
  const std::vector<std::size_t> off{0};
  std::vector<float> out;
  std::vector<token_id> ids;
  CHECK(b.log_probs(ragged_batch{none, off}, out) == 0);
  CHECK(b.top_k(ragged_batch{none, off}, 3, ids, out) == 0);
}
