// slotdiff/backends/ngram_text.hpp: the n-gram insertion model trained straight from text lines:
// tokenise, noise with the IDF scorer, count. Seconds for the bundled corpus.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "slotdiff/backends/ngram.hpp"
#include "slotdiff/noise/corpus.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/scoring/unigram.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff {

struct ngram_text_options {
  std::size_t heldout_every = 20;  ///< line i is held out when i % heldout_every == 0 (0: none)
  noise_options noise{};           ///< how the trajectories are made (IDF from the training lines)
  ngram_options ngram{};           ///< never_insert is set to pad, unk and root
  std::size_t threads = 0;         ///< for noising; 0: all cores
  bool evaluate = true;            ///< measure held-out nats per slot (and the unigram baseline's)
};

struct ngram_text_report {
  std::size_t train_sentences = 0, heldout_sentences = 0, skipped_lines = 0;
  double noise_seconds = 0, train_seconds = 0;
  double heldout_nll = 0, unigram_nll = 0;  ///< nats per slot, none included (0 if not evaluated)
  std::size_t heldout_slots = 0;
};

/// Trains the n-gram insertion model on `lines` (one sentence each; empty lines and invalid UTF-8
/// are skipped and counted). Lines are noised with the IDF scorer learned from the training lines;
/// the held-out lines get their own trajectories (seeds disjoint from training) for evaluation.
/// Throws: slotdiff::error if no line is usable.
template <slot_layout Layout>
ngram_backend<Layout> train_ngram_on_text(std::span<const std::string> lines, const tokenizer& vocab,
                                          const ngram_text_options& o, ngram_text_report* report = nullptr) {
  ngram_text_report r;
  std::vector<std::vector<token_id>> train, held;
  std::size_t line_no = 0;
  for (const auto& line : lines) {
    std::vector<token_id> ids;
    try {
      ids = vocab.encode(line);
    } catch (const error&) {
      ++r.skipped_lines;  // invalid UTF-8
      continue;
    }
    if (ids.empty()) {
      ++r.skipped_lines;
      continue;
    }
    (o.heldout_every && line_no++ % o.heldout_every == 0 ? held : train).push_back(std::move(ids));
  }
  if (train.empty()) throw error("slotdiff: none of the " + std::to_string(lines.size()) + " lines is usable for training");
  unigram_model counts;
  for (const auto& s : train) counts.observe(s);
  const idf_scorer idf(counts);
  auto noise_one = [&](std::span<const token_id> x, const noise_options& opt) { return noise<Layout>(x, idf, opt); };
  const auto t0 = std::chrono::steady_clock::now();
  const auto train_trs = noise_corpus<trajectory<Layout>>(train, noise_one, o.noise, {.threads = o.threads});
  const auto t1 = std::chrono::steady_clock::now();
  ngram_options opt = o.ngram;
  opt.never_insert = {tokenizer::pad, tokenizer::unk, tokenizer::root};
  auto model = ngram_backend<Layout>::train(train_trs, vocab.size(), tokenizer::none, opt);
  const auto t2 = std::chrono::steady_clock::now();
  r.train_sentences = train.size();
  r.heldout_sentences = held.size();
  r.noise_seconds = std::chrono::duration<double>(t1 - t0).count();
  r.train_seconds = std::chrono::duration<double>(t2 - t1).count();
  if (o.evaluate && !held.empty()) {
    const auto held_trs = noise_corpus<trajectory<Layout>>(held, noise_one, o.noise, {.threads = o.threads}, 1ull << 40);
    std::tie(r.heldout_nll, r.heldout_slots) = model.slot_nll(held_trs);
    ngram_options uni = opt;
    uni.order = 1;
    r.unigram_nll = ngram_backend<Layout>::train(train_trs, vocab.size(), tokenizer::none, uni).slot_nll(held_trs).first;
  }
  if (report) *report = r;
  return model;
}

}  // namespace slotdiff
