// slotdiff/pipeline/text_trajectories.hpp: text lines -> noising trajectories over a vocabulary's ids.
//
// A pipeline step joins the two halves of the library (docs/design.md, "Pipelines"): it tokenises,
// scores words with the noising half (noise/, scoring/) and hands trajectories to whatever learns from
// them (backends/, python/). It sits above both, so neither half includes the other.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "slotdiff/error.hpp"
#include "slotdiff/noise/corpus.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/noise/targets_options.hpp"
#include "slotdiff/noise/trajectory.hpp"
#include "slotdiff/scoring/unigram.hpp"
#include "slotdiff/text/lines.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff {

// The trajectories' default "insert nothing" id is the tokenizer's (noise/targets_options.hpp cannot
// include the tokenizer, so the two are tied here, where both are at hand).
static_assert(default_none_id == tokenizer::none, "targets_options' default none id must be the tokenizer's none");

/// How noise_text splits and noises text lines.
struct noise_text_options {
  std::size_t heldout_every = 20;  ///< line i is held out when i % heldout_every == 0 (0: none)
  noise_options noise{};           ///< how each trajectory is made (the seed: noise_options::seed)
  std::size_t threads = 0;         ///< noising threads; 0: all cores. The result does not depend on it
  /// Augmentation: each training line is noised this many times, the k-th with seed noise.seed + k
  /// (they differ only when noise.temperature > 0). Held-out lines are noised once. 0 counts as 1.
  std::size_t trajectories = 1;
};

/// The noising trajectories of text lines, split into training and held-out lines, and the number of
/// lines skipped (empty, or invalid UTF-8).
template <slot_layout Layout>
struct text_trajectories {
  std::vector<trajectory<Layout>> train, held;
  std::size_t skipped_lines = 0;
};

/// The IDF noising trajectories of text lines over `vocab`'s ids, split into training and held-out
/// lines (line i is held out when i % heldout_every == 0; empty lines and invalid UTF-8 are skipped
/// and counted; a UTF-8 byte-order mark at the start of the first line is skipped).
///
/// They are exactly those of `slotdiff noise --idf-corpus <the training lines>` on the same lines:
/// IDF is counted over every word of the training lines (an 8k vocabulary would fold rare words into
/// <unk>, as common as "the"), line i is noised with the seed of index i, and the removal steps are
/// then carried over to the ids of `vocab` (with_tokens). So a model trained on that command's shards
/// and the n-gram are measured on the same held-out (state, targets) pairs.
///
/// Throws: input_error if no line is usable for training; what noise() throws.
/// Complexity: the noising of (trajectories + 1) * lines sentences, spread over the threads, plus
/// O(total bytes) for tokenising.
template <slot_layout Layout>
text_trajectories<Layout> noise_text(std::span<const std::string> lines, const tokenizer& vocab, const noise_text_options& options) {
  text_trajectories<Layout> out;
  struct part {
    std::vector<std::vector<token_id>> ids;  // in vocab
    std::vector<std::string_view> text;
    std::vector<std::uint64_t> index;  // line number: the noising seed index
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
    part& to = options.heldout_every && i % options.heldout_every == 0 ? held : train;
    to.ids.push_back(std::move(ids));
    to.text.emplace_back(line);
    to.index.push_back(i);
  }
  if (train.ids.empty())
    throw input_error("noise_text: none of the lines is usable for training, got " + std::to_string(lines.size()) + " lines (" +
                      std::to_string(out.skipped_lines) + " empty or invalid UTF-8, " + std::to_string(held.ids.size()) +
                      " held out)");
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
    const auto by_word = noise_corpus<trajectory<Layout>>(word_ids, one, noise_opts, {.threads = options.threads, .indices = p.index});
    std::vector<trajectory<Layout>> trs;
    trs.reserve(by_word.size());
    for (std::size_t i = 0; i < by_word.size(); ++i) trs.push_back(with_tokens(by_word[i], p.ids[i]));
    return trs;
  };
  for (std::size_t k = 0; k < std::max<std::size_t>(options.trajectories, 1); ++k) {
    noise_options o = options.noise;
    o.seed = options.noise.seed + k;
    auto trs = noise_part(train, o);
    out.train.insert(out.train.end(), std::make_move_iterator(trs.begin()), std::make_move_iterator(trs.end()));
  }
  out.held = noise_part(held, options.noise);
  return out;
}

/// The positional form of noise_text (heldout_every, noise options, threads, trajectories per
/// training line), kept for one release; prefer the noise_text_options overload.
template <slot_layout Layout>
text_trajectories<Layout> noise_text(std::span<const std::string> lines, const tokenizer& vocab, std::size_t heldout_every,
                                     const noise_options& noise_opts = {}, std::size_t threads = 0, std::size_t augment = 1) {
  return noise_text<Layout>(lines, vocab,
                            noise_text_options{.heldout_every = heldout_every, .noise = noise_opts, .threads = threads, .trajectories = augment});
}

}  // namespace slotdiff
