// tools/cli/noise.cpp: `slotdiff noise`, text lines in, trajectories out (JSONL or .npy shards).
//
// Importance is scored on WORDS (an unbounded word list learned from the IDF corpus), not on the
// vocabulary ids that are written out: with an 8k vocabulary every rare word would otherwise share
// <unk>'s statistics and look like a function word.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/io/jsonl.hpp"
#include "slotdiff/io/npy.hpp"
#include "slotdiff/noise/corpus.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/scoring/protect.hpp"
#include "slotdiff/scoring/random.hpp"
#include "slotdiff/scoring/unigram.hpp"
#include "slotdiff/text/tokenizer.hpp"

#ifndef SLOTDIFF_DEFAULT_VOCAB
#define SLOTDIFF_DEFAULT_VOCAB ""
#endif

namespace slotdiff::cli {
namespace {

constexpr std::string_view help = R"(usage: slotdiff noise [INPUT|-] [options]
Noises each text line (UTF-8, one sentence a line) into a trajectory of removals.
  --vocab PATH          vocabulary file for the ids written out (default: the bundled one)
  --scorer NAME         idf | info (self-information) | tfidf | random         (idf)
  --idf-corpus PATH     text the unigram statistics are learned from      (the input, all shards)
  --layout NAME         side | gap                                               (side)
  --schedule SPEC       count:K | fraction:F | max | threshold:T           (fraction:0.5)
  --select NAME         exact | greedy                                          (exact)
  --keep M              stop when M tokens remain                                   (0)
  --protect W1,W2,...   words that are never removed
  --seed S              seed (ties, random scorer); same seed, same output          (0)
  --format NAME         jsonl | npy                                             (jsonl)
  --out PATH            JSONL file (default stdout) or shard folder (npy: required)
  --words               JSONL: also write the words and each step's text
  --shard I/N           only lines whose 0-based index is I modulo N              (0/1)
  --threads N           worker threads (output order is the input's)        (all cores)
  --max-tokens N        lines longer than this are skipped and counted            (512)
  --progress|--no-progress   progress bar on stderr              (when stderr is a terminal)
Skipped lines (counted on stderr): empty, invalid UTF-8, only punctuation, too long.
)";

struct settings {
  std::string input = "-", vocab = SLOTDIFF_DEFAULT_VOCAB, scorer = "idf", idf_corpus, layout = "side", format = "jsonl", out;
  noise_options opts;
  std::vector<std::string> protect;
  std::size_t shard = 0, shards = 1, threads = 0, max_tokens = 512;
  bool words = false;
  std::optional<bool> progress;
};


settings parse(std::span<const std::string_view> args) {
  settings s;
  bool have_input = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw error("option " + std::string(a) + " needs a value");
      return std::string(args[++i]);
    };
    if (a == "--vocab") s.vocab = value();
    else if (a == "--scorer") s.scorer = value();
    else if (a == "--idf-corpus") s.idf_corpus = value();
    else if (a == "--layout") s.layout = value();
    else if (a == "--schedule") s.opts.schedule = noise_schedule::parse(value());
    else if (a == "--select") {
      const auto v = value();
      if (v != "exact" && v != "greedy") throw error("--select: expected exact or greedy, got \"" + v + "\"");
      s.opts.selection = v == "exact" ? selection_method::exact : selection_method::greedy;
    } else if (a == "--keep") s.opts.keep_keywords = parse_count(a, value());
    else if (a == "--seed") s.opts.seed = parse_count(a, value());
    else if (a == "--protect") {
      std::stringstream list(value());
      for (std::string w; std::getline(list, w, ',');)
        if (!w.empty()) s.protect.push_back(w);
    } else if (a == "--format") s.format = value();
    else if (a == "--out" || a == "-o") s.out = value();
    else if (a == "--words") s.words = true;
    else if (a == "--shard") {
      const auto v = value();
      const auto slash = v.find('/');
      if (slash == std::string::npos) throw error("--shard: expected I/N, got \"" + v + "\"");
      s.shard = parse_count("--shard", v.substr(0, slash));
      s.shards = parse_count("--shard", v.substr(slash + 1));
      if (s.shards == 0 || s.shard >= s.shards) throw error("--shard: need 0 <= I < N, got \"" + v + "\"");
    } else if (a == "--threads") s.threads = parse_count(a, value());
    else if (a == "--max-tokens") s.max_tokens = parse_count(a, value());
    else if (a == "--progress") s.progress = true;
    else if (a == "--no-progress") s.progress = false;
    else if (a == "-h" || a == "--help") {
      std::cout << help;
      std::exit(0);
    } else if (a.starts_with("-") && a != "-") throw error("unknown option " + std::string(a) + " (see --help)");
    else if (have_input) throw error("more than one input: \"" + s.input + "\" and \"" + std::string(a) + "\"");
    else s.input = std::string(a), have_input = true;
  }
  if (s.scorer != "idf" && s.scorer != "info" && s.scorer != "tfidf" && s.scorer != "random")
    throw error("--scorer: expected idf, info, tfidf or random, got \"" + s.scorer + "\"");
  if (s.layout != "side" && s.layout != "gap") throw error("--layout: expected side or gap, got \"" + s.layout + "\"");
  if (s.format != "jsonl" && s.format != "npy") throw error("--format: expected jsonl or npy, got \"" + s.format + "\"");
  if (s.format == "npy" && s.out.empty()) throw error("--format npy needs --out FOLDER");
  if (s.vocab.empty()) throw error("--vocab PATH is required (no bundled vocabulary was found at build time)");
  if (s.max_tokens == 0) throw error("--max-tokens must be positive");
  return s;
}

/// Why a line is not noised.
enum class skip : std::uint8_t { none, empty, invalid_utf8, punctuation_only, too_long };

struct counts {
  std::size_t lines = 0, in_shard = 0, noised = 0, words = 0, unknown = 0;
  std::size_t skipped[5] = {};
  std::vector<std::size_t> first_bad_utf8;  // line numbers (1-based) of the first few
};

skip classify_line(std::string_view line, std::size_t max_tokens) {
  if (line.find_first_not_of(" \t\r\n\v\f") == std::string_view::npos) return skip::empty;
  if (detail::find_invalid_utf8(line) != std::string_view::npos) return skip::invalid_utf8;
  std::size_t n = 0;
  bool any_word = false;
  split_words(line, [&](std::string_view w) {
    ++n;
    any_word = any_word || detail::classify(w[0]) == detail::char_class::word;
  });
  if (!any_word) return skip::punctuation_only;
  if (n > max_tokens) return skip::too_long;
  return skip::none;
}

void progress_bar(const std::atomic<std::size_t>& done, std::size_t total, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    const std::size_t d = done.load(std::memory_order_relaxed);
    const std::size_t filled = total ? 40 * d / total : 40;
    std::cerr << "\r[" << std::string(filled, '#') << std::string(40 - filled, ' ') << "] " << d << '/' << total << std::flush;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cerr << "\r" << std::string(60 + std::to_string(total).size() * 2, ' ') << "\r" << std::flush;
}

template <class Layout, class Scorer>
int run(const settings& s, const tokenizer& vocab, const std::vector<std::vector<token_id>>& scoring_ids,
        const std::vector<std::vector<token_id>>& out_ids, const std::vector<std::uint64_t>& line_index,
        const Scorer& scorer, counts& c) {
  auto one = [&](std::span<const token_id> tokens, const noise_options& o) { return noise<Layout>(tokens, scorer, o); };
  std::atomic<std::size_t> done{0};
  std::atomic<bool> stop{false};
  const bool show = s.progress.value_or(::isatty(2) != 0);
  std::thread bar;
  if (show) bar = std::thread(progress_bar, std::cref(done), scoring_ids.size(), std::cref(stop));
  std::vector<trajectory<Layout>> trs;
  try {
    trs = noise_corpus<trajectory<Layout>>(scoring_ids, one, s.opts,
                                           {.threads = s.threads, .progress = &done, .indices = line_index});
  } catch (...) {
    stop = true;
    if (bar.joinable()) bar.join();
    throw;
  }
  stop = true;
  if (bar.joinable()) bar.join();
  c.noised = trs.size();
  // The same removal steps over the vocabulary ids (same splitter, so the same positions).
  auto output = [&](std::size_t i) {
    return trajectory<Layout>(out_ids[i], std::vector<step_index>(trs[i].removed_at().begin(), trs[i].removed_at().end()),
                              trs[i].steps());
  };
  if (s.format == "npy") {
    npy_shard_writer<Layout> w(static_cast<std::int64_t>(vocab.size()));
    for (std::size_t i = 0; i < trs.size(); ++i) w.add(output(i), static_cast<std::int64_t>(line_index[i]));
    w.write(s.out);
    return 0;
  }
  std::ofstream file;
  if (!s.out.empty()) {
    file.open(s.out, std::ios::binary | std::ios::trunc);
    if (!file) throw error("cannot open " + s.out + " for writing");
  }
  std::ostream& out = s.out.empty() ? std::cout : file;
  const jsonl_options jo{.words = s.words ? &vocab : nullptr};
  for (std::size_t i = 0; i < trs.size(); ++i) write_jsonl(out, output(i), line_index[i], jo);
  out.flush();
  if (!out) throw error("write to " + (s.out.empty() ? std::string("stdout") : s.out) + " failed");
  return 0;
}

template <class Layout>
int with_scorer(const settings& s, const tokenizer& vocab, const tokenizer& words, const unigram_model& model,
                const std::vector<std::vector<token_id>>& scoring_ids, const std::vector<std::vector<token_id>>& out_ids,
                const std::vector<std::uint64_t>& line_index, counts& c) {
  std::vector<token_id> keywords;
  for (const auto& w : s.protect) {
    const auto ids = words.encode(w);
    keywords.insert(keywords.end(), ids.begin(), ids.end());
  }
  auto go = [&](auto base) {
    return run<Layout>(s, vocab, scoring_ids, out_ids, line_index, keyword_protect(std::move(base), keywords), c);
  };
  if (s.scorer == "idf") return go(idf_scorer(model));
  if (s.scorer == "info") return go(self_information_scorer(model));
  if (s.scorer == "tfidf") return go(tfidf_scorer(model));
  return go(random_scorer{s.opts.seed});
}

}  // namespace

int noise_command(std::span<const std::string_view> args) {
  const auto start = std::chrono::steady_clock::now();
  const settings s = parse(args);
  const tokenizer vocab = tokenizer::load(s.vocab);
  const auto lines = read_lines(s.input);
  counts c;
  c.lines = lines.size();
  std::vector<skip> why(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    why[i] = classify_line(lines[i], s.max_tokens);
    if (why[i] == skip::invalid_utf8 && c.first_bad_utf8.size() < 5) c.first_bad_utf8.push_back(i + 1);
  }
  // Word statistics: from --idf-corpus, or from every valid input line (all shards alike, so every
  // shard scores with the same model).
  std::vector<std::string> idf_lines;
  if (!s.idf_corpus.empty()) {
    idf_lines = read_lines(s.idf_corpus);
    std::erase_if(idf_lines, [](const std::string& l) { return detail::find_invalid_utf8(l) != std::string_view::npos; });
  } else {
    for (std::size_t i = 0; i < lines.size(); ++i)
      if (why[i] == skip::none) idf_lines.push_back(lines[i]);
  }
  const tokenizer words = tokenizer::build(idf_lines, {.max_size = std::size_t{1} << 31});
  unigram_model model;
  {
    std::vector<token_id> ids;
    for (const auto& l : idf_lines) {
      ids.clear();
      words.encode_into(l, ids);
      model.observe(ids);
    }
  }
  std::vector<std::vector<token_id>> scoring_ids, out_ids;
  std::vector<std::uint64_t> line_index;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i % s.shards != s.shard) continue;
    ++c.in_shard;
    if (why[i] != skip::none) {
      ++c.skipped[static_cast<int>(why[i])];
      continue;
    }
    encode_stats st;
    out_ids.push_back(vocab.encode(lines[i], st));
    c.words += st.words;
    c.unknown += st.unknown;
    scoring_ids.push_back(words.encode(lines[i]));
    line_index.push_back(i);
  }
  const int rc = s.layout == "side" ? with_scorer<side_slots>(s, vocab, words, model, scoring_ids, out_ids, line_index, c)
                                    : with_scorer<gap_slots>(s, vocab, words, model, scoring_ids, out_ids, line_index, c);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << "slotdiff noise: " << c.noised << " of " << c.in_shard << " lines noised (shard " << s.shard << '/' << s.shards
            << " of " << c.lines << ") in " << secs << " s; skipped: " << c.skipped[1] << " empty, " << c.skipped[2]
            << " invalid UTF-8, " << c.skipped[3] << " punctuation only, " << c.skipped[4] << " over " << s.max_tokens
            << " tokens; " << c.unknown << " of " << c.words << " words outside the vocabulary (written as <unk>)\n";
  if (!c.first_bad_utf8.empty()) {
    std::cerr << "slotdiff noise: invalid UTF-8 on line(s)";
    for (auto l : c.first_bad_utf8) std::cerr << ' ' << l;
    std::cerr << (c.skipped[2] > c.first_bad_utf8.size() ? " ...\n" : "\n");
  }
  return rc;
}

}  // namespace slotdiff::cli
