// slotdiff/backends/ngram_text.hpp: the n-gram insertion model trained straight from text lines:
// tokenise, noise with the IDF scorer, count. Seconds for the bundled corpus.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "slotdiff/backends/ngram.hpp"
#include "slotdiff/noise/corpus.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/scoring/unigram.hpp"
#include "slotdiff/text/lines.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff {

struct ngram_text_options {
  std::size_t heldout_every = 20;  ///< line i is held out when i % heldout_every == 0 (0: none)
  noise_options noise{};           ///< how the trajectories are made (the seed: noise_options::seed)
  ngram_options ngram{};           ///< never_insert is set to pad, unk and root
  std::size_t threads = 0;         ///< for noising; 0: all cores
  bool evaluate = true;            ///< measure held-out nats per slot (and the unigram baseline's)
  /// Augmentation: each training line is noised this many times, the k-th with seed noise.seed + k
  /// (they differ only when noise.temperature > 0). Held-out lines are noised once. K = 8 at
  /// temperature 0.5 lifts BLEU-4 of `slotdiff eval` from 0.011 to 0.021 (docs/ablation.md).
  std::size_t trajectories = 1;
};

/// The recipe the tools train their default n-gram with (docs/ablation.md): IDF trajectories,
/// 8 per training line, Gumbel temperature 0.5.
inline ngram_text_options augmented_ngram_recipe() {
  ngram_text_options o;
  o.noise.temperature = 0.5f;
  o.trajectories = 8;
  return o;
}

struct ngram_text_report {
  std::size_t train_sentences = 0, heldout_sentences = 0, skipped_lines = 0;
  double noise_seconds = 0, train_seconds = 0;  ///< noise_seconds covers both splits
  double heldout_nll = 0, unigram_nll = 0;  ///< nats per slot, none included (0 if not evaluated)
  std::size_t heldout_slots = 0;
};

/// The noising trajectories of text lines, split into training and held-out lines (line i is held
/// out when i % heldout_every == 0; empty lines and invalid UTF-8 are skipped and counted; a UTF-8
/// byte-order mark at the start of the first line is skipped).
///
/// They are exactly those of `slotdiff noise --idf-corpus <the training lines>` on the same lines:
/// IDF is counted over every word of the training lines (an 8k vocabulary would fold rare words into
/// <unk>, as common as "the"), line i is noised with the seed of index i, and the removal steps are
/// then carried over to the ids of `vocab`. So a model trained on that command's shards and the
/// n-gram are measured on the same held-out (state, targets) pairs.
template <slot_layout Layout>
struct text_trajectories {
  std::vector<trajectory<Layout>> train, held;
  std::size_t skipped_lines = 0;
};

template <slot_layout Layout>
text_trajectories<Layout> noise_text(std::span<const std::string> lines, const tokenizer& vocab, std::size_t heldout_every,
                                     const noise_options& noise_opts = {}, std::size_t threads = 0, std::size_t augment = 1) {
  text_trajectories<Layout> out;
  struct part {
    std::vector<std::vector<token_id>> ids;  // in vocab
    std::vector<std::string_view> text;
    std::vector<std::uint64_t> index;        // line number: the noising seed index
  } train, held;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    // A UTF-8 byte-order mark at the start of the first line is a file signature, not text (as
    // text_line_reader and tokenizer::build treat it): it must not stick to the first word.
    std::string_view line = lines[i];
    if (i == 0 && line.starts_with(utf8_bom)) line.remove_prefix(utf8_bom.size());
    std::vector<token_id> ids;
    try {
      ids = vocab.encode(line);
    } catch (const error&) {
      ++out.skipped_lines;  // invalid UTF-8
      continue;
    }
    if (ids.empty()) {
      ++out.skipped_lines;
      continue;
    }
    part& to = heldout_every && i % heldout_every == 0 ? held : train;
    to.ids.push_back(std::move(ids));
    to.text.emplace_back(line);
    to.index.push_back(i);
  }
  if (train.ids.empty()) throw error("slotdiff: none of the " + std::to_string(lines.size()) + " lines is usable for training");
  const tokenizer words = tokenizer::build(train.text, {.max_size = std::size_t{1} << 31});
  unigram_model counts;
  for (std::string_view t : train.text) counts.observe(words.encode(t));
  const idf_scorer idf(counts);
  // Noise the all-words ids, then move each trajectory onto the vocabulary's ids (one id per word
  // in both, so positions agree).
  auto noise_part = [&](const part& p, const noise_options& noise_opts) {
    std::vector<std::vector<token_id>> word_ids;
    for (std::string_view t : p.text) word_ids.push_back(words.encode(t));
    auto one = [&](std::span<const token_id> x, const noise_options& opt) { return noise<Layout>(x, idf, opt); };
    const auto by_word = noise_corpus<trajectory<Layout>>(word_ids, one, noise_opts, {.threads = threads, .indices = p.index});
    std::vector<trajectory<Layout>> trs;
    trs.reserve(by_word.size());
    for (std::size_t i = 0; i < by_word.size(); ++i) trs.push_back(with_tokens(by_word[i], p.ids[i]));
    return trs;
  };
  for (std::size_t k = 0; k < std::max<std::size_t>(augment, 1); ++k) {
    noise_options o = noise_opts;
    o.seed = noise_opts.seed + k;
    auto trs = noise_part(train, o);
    out.train.insert(out.train.end(), std::make_move_iterator(trs.begin()), std::make_move_iterator(trs.end()));
  }
  out.held = noise_part(held, noise_opts);
  return out;
}

/// Trains the n-gram insertion model on the training trajectories of noise_text(lines, ...) and,
/// if asked, measures held-out nats per slot for it and for its unigram baseline.
/// Throws: slotdiff::error if no line is usable.
template <slot_layout Layout>
ngram_backend<Layout> train_ngram_on_text(std::span<const std::string> lines, const tokenizer& vocab,
                                          const ngram_text_options& o, ngram_text_report* report = nullptr) {
  ngram_text_report r;
  const auto t0 = std::chrono::steady_clock::now();
  const auto trs = noise_text<Layout>(lines, vocab, o.heldout_every, o.noise, o.threads, o.trajectories);
  const auto t1 = std::chrono::steady_clock::now();
  ngram_options opt = o.ngram;
  opt.never_insert = {tokenizer::pad, tokenizer::unk, tokenizer::root};
  auto model = ngram_backend<Layout>::train(trs.train, vocab.size(), tokenizer::none, opt);
  const auto t2 = std::chrono::steady_clock::now();
  r.train_sentences = trs.train.size();
  r.heldout_sentences = trs.held.size();
  r.skipped_lines = trs.skipped_lines;
  r.noise_seconds = std::chrono::duration<double>(t1 - t0).count();
  r.train_seconds = std::chrono::duration<double>(t2 - t1).count();
  if (o.evaluate && !trs.held.empty()) {
    std::tie(r.heldout_nll, r.heldout_slots) = model.slot_nll(trs.held);
    ngram_options uni = opt;
    uni.order = 1;
    r.unigram_nll = ngram_backend<Layout>::train(trs.train, vocab.size(), tokenizer::none, uni).slot_nll(trs.held).first;
  }
  if (report) *report = r;
  return model;
}

}  // namespace slotdiff
