// fuzz/make_seeds.cpp: writes the seed corpora of fuzz/corpus/ (small valid and near-valid inputs of
// every parser), so that they can be regenerated when a format changes:
//   cmake --build build/h-fuzz --target fuzz_make_seeds && build/h-fuzz/fuzz/fuzz_make_seeds fuzz/corpus
// Deterministic: the same seeds on every run.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slotdiff/backends/ngram.hpp"
#include "slotdiff/backends/reference/config.hpp"
#include "slotdiff/backends/reference/tensors.hpp"
#include "slotdiff/embed/sif_model.hpp"
#include "slotdiff/embed/word_vectors.hpp"
#include "slotdiff/io/jsonl.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/scoring/random.hpp"
#include "slotdiff/scoring/unigram.hpp"
#include "slotdiff/slots/layout.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace fs = std::filesystem;
using namespace slotdiff;

namespace {

fs::path root;

void put(const std::string& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(root / dir);
  std::ofstream(root / dir / name, std::ios::binary) << bytes;
}

std::string crlf_bom(const std::string& s) {
  std::string out(utf8_bom);
  for (char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

template <class F>
std::string bytes_of(F&& write) {
  std::ostringstream o(std::ios::binary);
  write(o);
  return o.str();
}

// A safetensors file of F32 tensors (name -> (shape, values)) and string metadata.
std::string safetensors_bytes(const std::vector<std::pair<std::string, std::pair<std::vector<std::size_t>, std::vector<float>>>>& ts,
                              const std::map<std::string, std::string>& meta) {
  nlohmann::json h = nlohmann::json::object();
  if (!meta.empty()) h["__metadata__"] = meta;
  std::string data;
  for (const auto& [name, t] : ts) {
    const std::size_t b = data.size();
    data.append(reinterpret_cast<const char*>(t.second.data()), t.second.size() * 4);
    h[name] = {{"dtype", "F32"}, {"shape", t.first}, {"data_offsets", {b, data.size()}}};
  }
  std::string header = h.dump();
  while ((8 + header.size()) % 8) header += ' ';
  std::string out;
  for (int k = 0; k < 8; ++k) out.push_back(static_cast<char>(static_cast<std::uint64_t>(header.size()) >> (8 * k)));
  return out + header + data;
}

// A .npy file as NumPy 1.0 writes one (header padded to 64 bytes).
std::string npy(const std::string& dict, const std::string& data) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string out = std::string("\x93NUMPY\x01", 7) + '\0';
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  return out + header + data;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR (fuzz/corpus)\n", argv[0]);
    return 2;
  }
  root = argv[1];
  const std::vector<std::string> lines{"the cat sat on the mat", "a dog sat on the log", "the end"};
  const tokenizer vocab = tokenizer::build(lines);

  // vocabulary
  const std::string v = bytes_of([&](std::ostream& o) { vocab.write(o); });
  put("vocabulary", "valid.txt", v);
  put("vocabulary", "bom_crlf.txt", crlf_bom(v));
  put("vocabulary", "bad_count.txt", std::string(tokenizer::file_header) + "\n<pad>\t0\n<unk>\t0\n<root>\t0\n<none>\t0\ncat\t+3\n");

  // unigram
  unigram_model uni;
  for (const auto& l : lines) uni.observe(vocab.encode(l));
  const std::string u = bytes_of([&](std::ostream& o) { uni.write(o); });
  put("unigram", "valid.txt", u);
  put("unigram", "bom_crlf.txt", crlf_bom(u));

  // JSONL trajectories, both layouts
  std::string side, gap;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto ids = vocab.encode(lines[i]);
    std::ostringstream a, b;
    write_jsonl(a, noise<side_layout>(ids, random_scorer{i}, {.schedule = noise_schedule::per_step(2)}), i);
    write_jsonl(b, noise<gap_layout>(ids, random_scorer{i}, {.schedule = noise_schedule::per_step(2)}), i);
    side += a.str();
    gap += b.str();
  }
  put("jsonl", "side.jsonl", side);
  put("jsonl", "gap.jsonl", gap);
  put("jsonl", "bom_crlf.jsonl", crlf_bom(side));

  // n-gram model: trained on the side trajectories
  std::vector<trajectory<side_layout>> trs;
  for (std::size_t i = 0; i < lines.size(); ++i)
    trs.push_back(noise<side_layout>(vocab.encode(lines[i]), random_scorer{i}, {.schedule = noise_schedule::per_step(2)}));
  const auto ng = ngram_backend<side_layout>::train(trs, vocab.size(), tokenizer::none, {.never_insert = {0, 1, 2}});
  put("ngram", "tiny.ngram", bytes_of([&](std::ostream& o) { ng.write(o); }));
  const auto ng1 = ngram_backend<side_layout>::train(trs, vocab.size(), tokenizer::none, {.order = 1});
  put("ngram", "order1.ngram", bytes_of([&](std::ostream& o) { ng1.write(o); }));

  // word vectors
  const word_vectors wv({"the", "cat", "sat"}, 3, {1, 2, 3, -4.5f, 5, 6e-3f, 7, 8, 9});
  const std::string vec = bytes_of([&](std::ostream& o) { wv.write_text(o); });
  put("word_vectors_text", "header.vec", vec);
  put("word_vectors_text", "no_header.vec", "the 1 2\ncat 3 4.5\n");
  put("word_vectors_text", "bom_crlf.vec", crlf_bom(vec));
  put("word_vectors_binary", "tiny.sdwv", bytes_of([&](std::ostream& o) { wv.write_binary(o); }));

  // SIF embedder, with and without a common component
  const sif_model s1({"the", "cat", "sat"}, {0.5f, 0.25f, 0.25f}, 2, {1, 0, 0, 1, 0.5f, 0.5f}, {0.6f, 0.8f}, 1e-3);
  const sif_model s0({"a", "b"}, {0.5f, 0.5f}, 2, {1, 2, 3, 4}, {}, 1e-2);
  put("sif_model", "component.sdsif", bytes_of([&](std::ostream& o) { s1.write(o); }));
  put("sif_model", "no_component.sdsif", bytes_of([&](std::ostream& o) { s0.write(o); }));

  // safetensors: a whole (tiny) reference model, and a file without metadata
  reference_config c;
  c.vocabulary_size = 5;
  c.d_model = 2;
  c.layers = 1;
  c.heads = 1;
  c.mlp = 2;
  std::vector<std::pair<std::string, std::pair<std::vector<std::size_t>, std::vector<float>>>> ts;
  float x = 0.125f;
  for (const auto& spec : reference_tensor_specs(c)) {
    std::vector<std::size_t> shape = spec.cols ? std::vector<std::size_t>{spec.rows, spec.cols} : std::vector<std::size_t>{spec.rows};
    std::vector<float> values(spec.size());
    for (auto& f : values) f = (x = -x * 1.5f);
    ts.push_back({spec.name, {shape, values}});
  }
  const std::map<std::string, std::string> meta{{"format", "slotdiff-reference 1"}, {"layout", "side_slots"},
                                                {"activation", "gelu_tanh"}, {"heads_tied_to_embedding", "true"},
                                                {"vocabulary_size", "5"}, {"d_model", "2"}, {"layers", "1"}, {"heads", "1"},
                                                {"mlp", "2"}, {"norm_eps", "1e-05"}, {"rope_base", "10000.0"},
                                                {"pad_id", "0"}, {"unk_id", "1"}, {"root_id", "2"}, {"none_id", "3"},
                                                {"never_insert", "0,1,2"}, {"vocabulary_fnv1a64", "0123456789abcdef"}};
  put("safetensors", "tiny_reference.safetensors", safetensors_bytes(ts, meta));
  put("safetensors", "plain.safetensors", safetensors_bytes({{"a", {{2, 2}, {1, 2, 3, 4}}}, {"b", {{3}, {5, 6, 7}}}}, {}));
  // .npy arrays as a shard holds them
  put("npy", "i4.npy", npy("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", std::string("\x05\0\0\0\x06\0\0\0\x07\0\0\0", 12)));
  put("npy", "i8_2d.npy", npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 2), }", std::string(16, '\x01')));
  put("npy", "f4_empty.npy", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (0, 4), }", ""));
  put("npy", "b1_scalar.npy", npy("{'descr': '|b1', 'fortran_order': False, 'shape': (), }", std::string(1, '\x01')));
  return 0;
}
