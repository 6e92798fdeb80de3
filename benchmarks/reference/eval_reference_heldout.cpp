// eval_reference_heldout: the reference model's held-out nats per slot on EXACTLY the held-out
// trajectories `slotdiff ngram` measures (same split: every 20th usable corpus line; same noising:
// IDF from the training lines, held-out seeds offset by 2^40; same measure: mean -log p(target) over
// slots, none included, targets the model never inserts (pad, unk, root) skipped), next to the
// n-gram's and the unigram baseline's numbers computed here on the same trajectories.
//
// usage: eval_reference_heldout [WEIGHTS [VOCAB [THREADS]]]   (defaults: models/reference.safetensors,
//        data/wordnet/vocab.txt, 2); the corpus is data/wordnet/{examples,glosses}.txt.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "slotdiff/backends/ngram.hpp"
#include "slotdiff/backends/ngram_text.hpp"
#include "slotdiff/backends/reference/backend.hpp"
#include "slotdiff/noise/corpus.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/scoring/unigram.hpp"
#include "slotdiff/text/tokenizer.hpp"

using namespace slotdiff;

int main(int argc, char** argv) try {
  const std::string root = SLOTDIFF_SOURCE_DIR;
  const std::string weights = argc > 1 ? argv[1] : root + "/models/reference.safetensors";
  const std::string vocab_path = argc > 2 ? argv[2] : root + "/data/wordnet/vocab.txt";
  const std::size_t threads = argc > 3 ? std::stoul(argv[3]) : 2;
  const tokenizer vocab = tokenizer::load(vocab_path);
  auto model = reference_backend::load(weights, vocab, {.threads = threads});

  // The split and the noising of train_ngram_on_text, which are those of the training shards.
  std::vector<std::string> lines;
  for (const char* f : {"/data/wordnet/examples.txt", "/data/wordnet/glosses.txt"}) {
    std::ifstream in(root + f);
    if (!in) throw error("cannot read " + root + f);
    for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  }
  const auto trs = noise_text<side_layout>(lines, vocab, 20, {}, threads);
  const auto& train_trs = trs.train;
  const auto& held_trs = trs.held;
  ngram_options opt;
  opt.never_insert = {tokenizer::pad, tokenizer::unk, tokenizer::root};
  const auto [ngram_nll, ngram_slots] = ngram_backend<side_layout>::train(train_trs, vocab.size(), tokenizer::none, opt).slot_nll(held_trs);
  opt.order = 1;
  const double unigram_nll = ngram_backend<side_layout>::train(train_trs, vocab.size(), tokenizer::none, opt).slot_nll(held_trs).first;

  // The reference model on the same (state, targets) pairs, 256 states a batch.
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t V = model.vocabulary_size();
  double sum = 0;
  std::size_t slots = 0, states = 0;
  ragged_buffer buf;
  std::vector<std::vector<token_id>> targets;
  std::vector<float> lp;
  auto flush = [&] {
    if (targets.empty()) return;
    lp.resize(reference_model::slot_rows(buf.view()) * V);
    model.log_probs(buf.view(), lp);
    std::size_t row = 0;
    for (const auto& g : targets)
      for (token_id x : g) {
        if (model.model().insertable(x)) {
          sum -= static_cast<double>(lp[row * V + static_cast<std::size_t>(x)]);
          ++slots;
        }
        ++row;
      }
    buf.clear();
    targets.clear();
  };
  for (const auto& tr : held_trs)
    for (step_index t = 0; t < tr.steps(); ++t) {
      const auto s = tr.state(t + 1);
      std::copy(s.begin(), s.end(), buf.append(s.size()).begin());
      targets.push_back(tr.targets(t));
      ++states;
      if (targets.size() == 256) flush();
    }
  flush();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("held out: %zu sentences, %zu states, %zu slots (n-gram counted %zu)\n", held_trs.size(), states, slots, ngram_slots);
  std::printf("  reference model  %.4f nats/slot   (%s, %.1f s on %zu threads)\n", sum / static_cast<double>(slots), weights.c_str(), secs,
              threads);
  std::printf("  n-gram (l, r, side) %.4f nats/slot\n", ngram_nll);
  std::printf("  unigram (side)   %.4f nats/slot\n", unigram_nll);
  return slots == ngram_slots ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "eval_reference_heldout: %s\n", e.what());
  return 1;
}
