// tools/cli/ngram.cpp: `slotdiff ngram`, train the n-gram insertion model and measure it on
// held-out sentences against its unigram baseline.
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "corpus_ngram.hpp"
#include "options.hpp"
#include "slotdiff/pipeline/ngram_from_text.hpp"
#include "slotdiff/io/jsonl.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff::cli {

namespace {

struct settings {
  std::vector<std::string> corpus;
  std::string vocab, layout = "side", out, trajectories;
  ngram_text_options o = augmented_ngram_recipe();
};

int run(settings& s) {
  if (!s.out.empty()) s.out = check_output_file("--out", s.out);
  if (s.vocab.empty()) s.vocab = SLOTDIFF_DEFAULT_VOCAB;
  const tokenizer vocab = tokenizer::load(s.vocab);
  auto& o = s.o;
  if (!s.trajectories.empty()) {
    // Another noising's trajectories (the ablation of docs/ablation.md): the n-gram counts whatever
    // order the file's trajectories remove words in.
    std::ifstream in(s.trajectories, std::ios::binary);
    if (!in) throw input_error("--trajectories: cannot read " + s.trajectories);
    std::vector<trajectory<side_layout>> trs;
    std::string line;
    for (std::size_t n = 1; std::getline(in, line); ++n)
      if (!line.empty()) {
        trs.push_back(read_jsonl<side_layout>(line, s.trajectories + ":" + std::to_string(n)));
        for (token_id t : trs.back().tokens())
          if (t < 0 || static_cast<std::size_t>(t) >= vocab.size())
            throw file_format_error("--trajectories: " + s.trajectories + ":" + std::to_string(n) + " has token id " + std::to_string(t) +
                                    ", outside the vocabulary of " + std::to_string(vocab.size()) + " (" + s.vocab + ")");
      }
    if (in.bad()) throw input_error("--trajectories: read error on " + s.trajectories);
    if (trs.empty()) throw file_format_error("--trajectories: " + s.trajectories + " holds no trajectory");
    ngram_options opt = o.ngram;
    opt.never_insert = {tokenizer::pad, tokenizer::unk, tokenizer::root};  // as train_ngram_on_text
    const auto model = ngram_backend<side_layout>::train(trs, vocab.size(), tokenizer::none, opt);
    std::printf("trained on %zu trajectories from %s\n", trs.size(), s.trajectories.c_str());
    if (!s.out.empty()) model.save(s.out);
    return 0;
  }
  if (s.corpus.empty()) s.corpus = bundled_corpus();
  const auto lines = read_all(s.corpus);
  auto go = [&](auto layout_tag) {
    using L = decltype(layout_tag);
    ngram_text_report r;
    const auto model = train_ngram_on_text<L>(lines, vocab, o, &r);
    std::printf("layout %s: %zu training sentences (noised in %.2f s), model trained in %.2f s; %zu lines skipped\n",
                std::string(L::name).c_str(), r.train_sentences, r.noise_seconds, r.train_seconds, r.skipped_lines);
    std::printf("held out: %zu sentences, %zu slots\n", r.heldout_sentences, r.heldout_slots);
    std::printf("  n-gram  (left, right, side)   %.4f nats/slot\n", r.heldout_nll);
    std::printf("  unigram (side only)           %.4f nats/slot\n", r.unigram_nll);
    if (!s.out.empty()) model.save(s.out);
    return 0;
  };
  if (s.layout == "gap") return go(gap_layout{});
  return go(side_layout{});
}

}  // namespace

std::function<int()> ngram_command(CLI::App& app) {
  auto s = std::make_shared<settings>();
  app.description(
      "Noises the corpus with the IDF scorer (8 trajectories a line by default: --augment), trains the\n"
      "n-gram insertion model on the trajectories, and reports held-out negative log-likelihood (nats\n"
      "per slot, \"none\" included) against the unigram baseline P(token | slot side).");
  list_option(app, "--corpus", s->corpus, "a text file, one sentence per line; repeatable (default: the bundled\n"
                                          "data/corpus/train.txt)")->type_name("PATH");
  text_option(app, "--vocab", s->vocab, "vocabulary file (default: the bundled one)")->type_name("PATH");
  choice_option(app, "--layout", s->layout, {"side", "gap"}, "slot layout");
  count_option(app, "--heldout-every", s->o.heldout_every, "every N-th line is held out (0: none)");
  number_option(app, "--discount", s->o.ngram.discount, "absolute discount in (0, 1)", {.min = 0, .max = 1, .min_open = true, .max_open = true});
  text_option(app, "--out", s->out, "save the trained model")->type_name("PATH");
  count_option(app, "--threads", s->o.threads, "noising threads (0: all cores)");
  count_option(app, "--augment", s->o.trajectories, "noisings of each training line (Gumbel noise, --temperature)", {.min = 1});
  number_option(app, "--temperature", s->o.noise.temperature, "Gumbel temperature of those noisings (0: one deterministic each)",
                {.min = 0});
  text_option(app, "--trajectories", s->trajectories,
              "train on these trajectories instead (JSONL of `slotdiff noise`, any scorer,\n"
              "side layout, ids of --vocab; every line is trained on, none held out)")->type_name("PATH");
  app.parse_complete_callback([s] {
    if (!s->trajectories.empty() && s->layout != "side")
      throw option_error("--trajectories: only the side layout is supported, got --layout " + s->layout);
  });
  return [s] { return run(*s); };
}

}  // namespace slotdiff::cli
