// tools/cli/ngram.cpp: `slotdiff ngram`, train the n-gram insertion model and measure it on
// held-out sentences against its unigram baseline.
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "corpus_ngram.hpp"
#include "slotdiff/backends/ngram_text.hpp"
#include "slotdiff/io/jsonl.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff::cli {

namespace {
constexpr const char* ngram_help = R"(usage: slotdiff ngram [options]

Noises the corpus with the IDF scorer (8 trajectories a line by default: --augment), trains the
n-gram insertion model on the trajectories, and reports held-out negative log-likelihood (nats per
slot, "none" included) against the unigram baseline P(token | slot side).

  --corpus PATH       a text file, one sentence per line; repeatable   (the bundled data/corpus/train.txt)
  --vocab PATH        vocabulary file                                  (the bundled one)
  --layout side|gap   (side)
  --heldout-every N   every N-th line is held out                      (20)
  --discount D        absolute discount in (0, 1)                      (0.75)
  --out PATH          save the trained model
  --threads N         (all cores)
  --augment K         noisings of each training line (Gumbel noise, --temperature)      (8)
  --temperature T     Gumbel temperature of those noisings (0: one deterministic each)  (0.5)
  --trajectories PATH train on these trajectories instead (JSONL of `slotdiff noise`, any scorer,
                      side layout, ids of --vocab; every line is trained on, none held out)
)";
}  // namespace

int ngram_command(std::span<const std::string_view> args) {
  std::vector<std::string> corpus;
  std::string vocab_path = SLOTDIFF_DEFAULT_VOCAB, layout = "side", out, trajectories;
  ngram_text_options o = augmented_ngram_recipe();
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw error(std::string(a) + " needs a value");
      return std::string(args[++i]);
    };
    if (a == "--corpus") corpus.push_back(value());
    else if (a == "--vocab") vocab_path = value();
    else if (a == "--layout") layout = value();
    else if (a == "--heldout-every") o.heldout_every = parse_count(a, value());
    else if (a == "--discount") o.ngram.discount = parse_number(a, value());
else if (a == "--out") out = value();
    else if (a == "--threads") o.threads = parse_count(a, value());
    else if (a == "--trajectories") trajectories = value();
    else if (a == "--augment") o.trajectories = parse_count(a, value());
    else if (a == "--temperature") {
      o.noise.temperature = parse_number(a, value());
      detail::check_temperature(o.noise.temperature);
    }
    else if (a == "-h" || a == "--help") {
      std::cout << ngram_help;
      return 0;
    } else throw error("unknown option \"" + std::string(a) + "\" (see slotdiff ngram --help)");
  }
  const tokenizer vocab = tokenizer::load(vocab_path);
  if (!trajectories.empty()) {
    // Another noising's trajectories (the ablation of docs/ablation.md): the n-gram counts whatever
    // order the file's trajectories remove words in.
    if (layout != "side") throw error("--trajectories: only the side layout is supported, got --layout " + layout);
    std::ifstream in(trajectories);
    if (!in) throw error("--trajectories: cannot read " + trajectories);
    std::vector<trajectory<side_slots>> trs;
    std::string line;
    for (std::size_t n = 1; std::getline(in, line); ++n)
      if (!line.empty()) {
        trs.push_back(read_jsonl<side_slots>(line, trajectories + ":" + std::to_string(n)));
        for (token_id t : trs.back().tokens())
          if (t < 0 || static_cast<std::size_t>(t) >= vocab.size())
            throw error("--trajectories: " + trajectories + ":" + std::to_string(n) + " has token id " + std::to_string(t) +
                        ", outside the vocabulary of " + std::to_string(vocab.size()) + " (" + vocab_path + ")");
      }
    if (trs.empty()) throw error("--trajectories: " + trajectories + " holds no trajectory");
    ngram_options opt = o.ngram;
    opt.never_insert = {tokenizer::pad, tokenizer::unk, tokenizer::root};  // as train_ngram_on_text
    const auto model = ngram_backend<side_slots>::train(trs, vocab.size(), tokenizer::none, opt);
    std::printf("trained on %zu trajectories from %s\n", trs.size(), trajectories.c_str());
    if (!out.empty()) model.save(out);
    return 0;
  }
  if (corpus.empty()) corpus = bundled_corpus();
  const auto lines = read_all(corpus);
  auto go = [&](auto layout_tag) {
    using L = decltype(layout_tag);
    ngram_text_report r;
    const auto model = train_ngram_on_text<L>(lines, vocab, o, &r);
    std::printf("layout %s: %zu training sentences (noised in %.2f s), model trained in %.2f s; %zu lines skipped\n",
                std::string(L::name).c_str(), r.train_sentences, r.noise_seconds, r.train_seconds, r.skipped_lines);
    std::printf("held out: %zu sentences, %zu slots\n", r.heldout_sentences, r.heldout_slots);
    std::printf("  n-gram  (left, right, side)   %.4f nats/slot\n", r.heldout_nll);
    std::printf("  unigram (side only)           %.4f nats/slot\n", r.unigram_nll);
    if (!out.empty()) model.save(out);
    return 0;
  };
  if (layout == "side") return go(side_slots{});
  if (layout == "gap") return go(gap_slots{});
  throw error("--layout: expected side or gap, got \"" + layout + "\"");
}

}  // namespace slotdiff::cli
