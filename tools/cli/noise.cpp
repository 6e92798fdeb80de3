// tools/cli/noise.cpp: `slotdiff noise`, text lines in, trajectories out (JSONL or .npy shards).
//
// Importance is scored on WORDS (an unbounded word list learned from the IDF corpus), not on the
// vocabulary ids that are written out: with an 8k vocabulary every rare word would otherwise share
// <unk>'s statistics and look like a function word.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <numeric>
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
#include "options.hpp"
#include "slotdiff/embed/sif_model.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/io/atomic_file.hpp"
#include "slotdiff/io/jsonl.hpp"
#include "slotdiff/io/npy.hpp"
#include "slotdiff/noise/corpus.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/noise/objective.hpp"
#include "slotdiff/scoring/by_name.hpp"
#include "slotdiff/scoring/unigram.hpp"
#include "slotdiff/text/tokenizer.hpp"

#ifndef SLOTDIFF_DEFAULT_VOCAB
#define SLOTDIFF_DEFAULT_VOCAB ""
#endif
#ifndef SLOTDIFF_DEFAULT_EMBEDDER
#define SLOTDIFF_DEFAULT_EMBEDDER ""
#endif

namespace slotdiff::cli {
namespace {

struct settings {
  std::string input = "-", vocab, scorer = "idf", idf_corpus, layout = "side", format = "jsonl", out;
  std::string embedder, metric = "cosine", embedder_oov = "hash";  // vocab, embedder: the bundled ones when empty
  scorer_spec spec;  // --scorer, parsed (scoring/by_name.hpp)
  noise_options opts;
  std::vector<std::string> protect;
  std::size_t shard = 0, shards = 1, threads = 0, max_tokens = 512, trajectories = 1, exact_up_to = 10;
  bool words = false;
  std::optional<bool> progress;
};

/// The checks that need all options (each value is checked as it parses: options.hpp).
void check(settings& s) {
  s.spec = scorer_spec::parse(s.scorer, "--scorer");
  if (s.scorer == "dynamic" && !s.protect.empty())
    throw option_error("--protect: the dynamic objective has no per-token scores to protect (use --keep, or --scorer shift)");
  if (s.scorer == "dynamic" && s.opts.schedule.type == noise_schedule::kind::threshold)
    throw option_error("--schedule " + s.opts.schedule.to_string() + ": the dynamic objective has no per-token scores for a threshold");
  if (s.trajectories > 1 && s.opts.temperature == 0.0f && !s.opts.schedule.is_random() && !s.spec.uses("random"))
    throw option_error("--trajectories " + std::to_string(s.trajectories) +
                       ": every trajectory would be the same; add --temperature T (e.g. 0.5), a schedule fraction:LOW..HIGH, "
                       "or the random scorer");
  if (s.format == "npy" && s.out.empty()) throw option_error("--format npy needs --out FOLDER");
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

/// What one noising run reads: the settings, the two word lists and the scoring statistics, and the
/// lines in this shard as ids of each list (built by noise_job::prepare).
struct noise_job {
  settings s;
  tokenizer vocab;                                 ///< the ids written out (--vocab)
  tokenizer words;                                 ///< unbounded word list the scorers see (IDF corpus + --protect words)
  unigram_model model;                             ///< statistics of the IDF corpus over `words`
  std::optional<sif_embedder> embedder;            ///< when shift or dynamic is used
  std::vector<std::vector<token_id>> scoring_ids;  ///< per noised line, ids of `words`
  std::vector<std::vector<token_id>> out_ids;      ///< per noised line, ids of `vocab`
  std::vector<std::uint64_t> line_index;           ///< per noised line, its 0-based line number in the input
  counts c;                                        ///< lines read, skipped, words outside `vocab`
};

/// What noise_job::run made.
struct noise_result {
  std::size_t trajectories = 0, short_of_k = 0;
};

/// The --protect words as sorted ids of `words`. A word is looked up as the tokenizer normalises it;
/// `words` holds every --protect word (prepare adds them), so none falls back on <unk>, which
/// would protect every word missing from the IDF corpus.
std::vector<token_id> protected_ids(const settings& s, const tokenizer& words) {
  std::vector<token_id> ids;
  for (const auto& w : s.protect)
    for (token_id id : words.encode(w))
      if (id != tokenizer::unk) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

/// The scorer of --scorer (none for dynamic, which uses the embedding objective).
std::optional<named_scorer> make_scorer(const noise_job& job) {
  const settings& s = job.s;
  if (s.spec.is_objective()) return std::nullopt;
  return std::optional<named_scorer>(std::in_place, s.spec,
                                     named_scorer_options{.statistics = &job.model,
                                                          .embedder = job.embedder ? &*job.embedder : nullptr,
                                                          .metric = named_distance(s.metric, "--metric"),
                                                          .protect = protected_ids(s, job.words)});
}

/// Writes the trajectories (over `job.vocab`'s ids) as .npy shards or JSONL, and checks the write.
template <class Layout>
void write_trajectories(const noise_job& job, const std::vector<std::vector<trajectory<Layout>>>& trs) {
  const settings& s = job.s;
  // The same removal steps over the vocabulary ids (same splitter, so the same positions).
  auto output = [&](std::size_t i, std::size_t k) { return with_tokens(trs[i][k], job.out_ids[i]); };
  if (s.format == "npy") {
    npy_shard_writer<Layout> w(static_cast<std::int64_t>(job.vocab.size()), {.none_id = tokenizer::none});  // --vocab's none
    for (std::size_t i = 0; i < trs.size(); ++i)
      for (std::size_t k = 0; k < trs[i].size(); ++k) w.add(output(i, k), static_cast<std::int64_t>(job.line_index[i]));
    w.write(s.out);
    return;
  }
  const jsonl_options jo{.words = s.words ? &job.vocab : nullptr};
  auto write_all = [&](std::ostream& out) {
    for (std::size_t i = 0; i < trs.size() && out; ++i)
      for (std::size_t k = 0; k < trs[i].size(); ++k) {
        if (s.trajectories == 1) {
          write_jsonl(out, output(i, k), job.line_index[i], jo);
          continue;
        }
        auto j = to_json(output(i, k), job.line_index[i], jo);
        j["trajectory"] = k;
        out << j.dump() << '\n';
      }
  };
  // The library's writer stops at a failed stream and says where; the message names the destination.
  auto write = [&](std::ostream& out) {
    const std::string where = s.out.empty() ? "stdout" : s.out;
    try {
      errno = 0;
      write_all(out);
    } catch (const error& e) {
      throw file_write_error("cannot write to " + where + (errno != 0 ? std::string(": ") + std::strerror(errno) : "") + " (" +
                             e.what() + ")");
    }
  };
  if (s.out.empty()) {
    write(std::cout);
    return check_written(std::cout, "stdout");
  }
  const auto target = atomic_target(s.out);
  if (!target) {  // a device, a pipe, /dev/stdout: written in place
    std::ofstream out(s.out, std::ios::binary);
    if (!out) throw file_write_error("--out: cannot open " + s.out + " for writing: " + std::strerror(errno));
    write(out);
    return check_written(out, s.out);
  }
  // A regular file is written under a temporary name and renamed onto its name when complete.
  write_file_atomically(*target, write);
}

template <class Layout>
noise_result run(const noise_job& job) {
  const settings& s = job.s;
  const std::optional<named_scorer> scorer = make_scorer(job);
  const embedding_objective<sif_embedder, named_distance> objective{
      .embedder = job.embedder ? &*job.embedder : nullptr, .metric = named_distance(s.metric, "--metric"), .exact_up_to = s.exact_up_to};
  auto one = [&](std::span<const token_id> tokens, const noise_options& o) {
    if (!scorer) return noise<Layout>(tokens, objective, o);
    return scorer->with_seed(o.seed, [&](const auto& bound) { return noise<Layout>(tokens, bound, o); });
  };
  std::atomic<std::size_t> done{0};
  std::atomic<bool> stop{false};
  const bool show = s.progress.value_or(::isatty(2) != 0);
  std::thread bar;
  if (show) bar = std::thread(progress_bar, std::cref(done), job.scoring_ids.size(), std::cref(stop));
  std::vector<std::vector<trajectory<Layout>>> trs;
  try {
    trs = noise_corpus_samples<trajectory<Layout>>(job.scoring_ids, one, s.opts, {.trajectories = s.trajectories},
                                                   {.threads = s.threads, .progress = &done, .indices = job.line_index});
  } catch (...) {
    stop = true;
    if (bar.joinable()) bar.join();
    throw;
  }
  stop = true;
  if (bar.joinable()) bar.join();
  noise_result r;
  for (const auto& t : trs) {
    r.trajectories += t.size();
    r.short_of_k += t.size() < s.trajectories;
  }
  write_trajectories(job, trs);
  return r;
}

/// Reads the input, the vocabulary, the IDF corpus and the embedder, and sorts the lines.
void prepare(noise_job& job) {
  settings& s = job.s;
  if (s.vocab.empty()) s.vocab = SLOTDIFF_DEFAULT_VOCAB;
  if (s.embedder.empty()) s.embedder = SLOTDIFF_DEFAULT_EMBEDDER;
  if (s.vocab.empty()) throw option_error("--vocab PATH is required (no bundled vocabulary was found at build time)");
  if (s.spec.needs_embedder() && s.embedder.empty())
    throw option_error("--scorer " + s.scorer + " needs --embedder PATH (no bundled embedder; build one with slotdiff embed train)");
  job.vocab = tokenizer::load(s.vocab);
  const auto lines = read_lines(s.input);
  counts& c = job.c;
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
  // The word list knows every --protect word too (as one extra line that the statistics below do
  // not observe), so a protected word outside the IDF corpus gets an id of its own, not <unk>.
  {
    std::string protect_line;
    for (const auto& w : s.protect) protect_line += w + " ";
    if (!protect_line.empty()) idf_lines.push_back(protect_line);
    job.words = tokenizer::build(idf_lines, {.max_size = std::size_t{1} << 31});
    if (!protect_line.empty()) idf_lines.pop_back();
  }
  std::vector<token_id> ids;
  for (const auto& l : idf_lines) {
    ids.clear();
    job.words.encode_into(l, ids);
    job.model.observe(ids);
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i % s.shards != s.shard) continue;
    ++c.in_shard;
    if (why[i] != skip::none) {
      ++c.skipped[static_cast<int>(why[i])];
      continue;
    }
    encode_stats st;
    job.out_ids.push_back(job.vocab.encode(lines[i], st));
    c.words += st.words;
    c.unknown += st.unknown;
    job.scoring_ids.push_back(job.words.encode(lines[i]));
    job.line_index.push_back(i);
  }
  // The sentence embedder, over the same unbounded word list the scorers see.
  if (s.spec.needs_embedder()) {
    if (!std::filesystem::exists(s.embedder))
      throw input_error("--embedder: " + s.embedder + " does not exist (build it with: slotdiff embed train TEXT -o " + s.embedder + ")");
    const sif_model m = sif_model::load(s.embedder);
    std::vector<std::string_view> word_list;
    for (std::size_t i = 0; i < job.words.size(); ++i) word_list.push_back(job.words.word(static_cast<token_id>(i)));
    job.embedder.emplace(m.embedder_for(word_list, s.embedder_oov == "skip" ? sif_unknown::skip : sif_unknown::hash));
  }
}

void report(const noise_job& job, const noise_result& r, double secs, double noise_secs) {
  const settings& s = job.s;
  const counts& c = job.c;
  std::cerr << "slotdiff noise: " << c.noised << " of " << c.in_shard << " lines noised (shard " << s.shard << '/' << s.shards
            << " of " << c.lines << ") into " << r.trajectories << " trajectories (scorer " << s.scorer << ") in " << secs
            << " s (noising and writing " << noise_secs << " s, " << static_cast<double>(c.noised) / std::max(noise_secs, 1e-9)
            << " sentences/s); skipped: " << c.skipped[1] << " empty, " << c.skipped[2]
            << " invalid UTF-8, " << c.skipped[3] << " punctuation only, " << c.skipped[4] << " over " << s.max_tokens
            << " tokens; " << c.unknown << " of " << c.words << " words outside the vocabulary (written as <unk>)";
  if (s.trajectories > 1)
    std::cerr << "; " << r.short_of_k << " sentences have fewer than " << s.trajectories
              << " distinct trajectories (each got all it has)";
  std::cerr << '\n';
  if (!c.first_bad_utf8.empty()) {
    std::cerr << "slotdiff noise: invalid UTF-8 on line(s)";
    for (auto l : c.first_bad_utf8) std::cerr << ' ' << l;
    std::cerr << (c.skipped[2] > c.first_bad_utf8.size() ? " ...\n" : "\n");
  }
}

int run_noise(const settings& s) {
  const auto start = std::chrono::steady_clock::now();
  noise_job job;
  job.s = s;
  prepare(job);
  const auto noise_start = std::chrono::steady_clock::now();
  const noise_result r = job.s.layout == "side" ? run<side_layout>(job) : run<gap_layout>(job);
  job.c.noised = job.scoring_ids.size();
  const auto end = std::chrono::steady_clock::now();
  report(job, r, std::chrono::duration<double>(end - start).count(), std::chrono::duration<double>(end - noise_start).count());
  return 0;
}

}  // namespace

std::function<int()> noise_command(CLI::App& app) {
  auto s = std::make_shared<settings>();
  app.description("Noises each text line (UTF-8, one sentence a line) into trajectories of removals.");
  app.add_option_function<std::string>("INPUT", [s](const std::string& v) { s->input = parse_text("INPUT", v); },
                                       "the text file, or - for stdin (default)")
      ->type_name("");
  text_option(app, "--vocab", s->vocab, "vocabulary file for the ids written out (default: the bundled one)")->type_name("PATH");
  text_option(app, "--scorer", s->scorer,
              "what goes first (low importance first; see docs/noising.md):\n"
              "  idf | info (self-information) | tfidf | random\n"
              "  shift    leave-one-out embedding shift d(e(x), e(x without i))\n"
              "  dynamic  the embedding objective: each step removes the feasible set\n"
              "           S minimising d(e(x_t), e(x_t without S)) (no per-token scores)\n"
              "  mix:NAME=W,NAME=W,...  weighted sum of rank-normalised scores of\n"
              "           idf, info, tfidf, random, shift (e.g. mix:idf=0.5,shift=0.5)")
      ->type_name("NAME");
  text_option(app, "--embedder", s->embedder, "SIF embedder file for shift/dynamic (slotdiff embed train)\n(default: the bundled one)")
      ->type_name("PATH");
  choice_option(app, "--metric", s->metric, {"cosine", "euclidean", "sqeuclidean", "ip"}, "the embedding distance");
  choice_option(app, "--embedder-oov", s->embedder_oov, {"hash", "skip"},
                "words the embedder lacks: hash (own random direction) | skip");
  count_option(app, "--exact-up-to", s->exact_up_to, "dynamic: enumerate all feasible sets up to N tokens, else greedy");
  text_option(app, "--idf-corpus", s->idf_corpus, "text the unigram statistics are learned from (default: the\ninput, all shards)")
      ->type_name("PATH");
  choice_option(app, "--layout", s->layout, {"side", "gap"}, "slot layout");
  app.add_option_function<std::string>(
         "--schedule",
         [s](const std::string& v) {
           try {
             s->opts.schedule = noise_schedule::parse(v);
           } catch (const error& e) {
             throw option_error(std::string("--schedule: ") + e.what());
           }
         },
         "count:K | fraction:F | fraction:LOW..HIGH (random per step) | max |\nthreshold:T")
      ->type_name("SPEC")
      ->default_str(s->opts.schedule.to_string());
  app.add_option_function<std::string>(
         "--select",
         [s](const std::string& v) {
           s->opts.selection = parse_choice("--select", v, {"exact", "greedy"}) == "exact" ? selection_method::exact
                                                                                             : selection_method::greedy;
         },
         "removal-set selection")
      ->type_name("exact|greedy")
      ->default_str("exact");
  count_option(app, "--keep", s->opts.keep_keywords, "stop when M tokens remain");
  app.add_option_function<std::vector<std::string>>(
         "--protect",
         [s](const std::vector<std::string>& vs) {
           for (const auto& v : vs) {
             std::stringstream list(parse_text("--protect", v));
             for (std::string w; std::getline(list, w, ',');)
               if (!w.empty()) s->protect.push_back(w);
           }
         },
         "words that are never removed (not with dynamic); repeatable")
      ->type_name("W1,W2,...")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  count_option(app, "--trajectories", s->trajectories,
               "K different trajectories per sentence (needs --temperature > 0, a\n"
               "LOW..HIGH schedule or the random scorer to vary)",
               {.min = 1})
      ->type_name("K");
  number_option(app, "--temperature", s->opts.temperature,
                "stochastic selection: Gumbel noise times T on the standardised\nscores (0: deterministic)", {.min = 0})
      ->type_name("T");
  count_option(app, "--seed", s->opts.seed, "seed (ties, noise, random scorer); same seed, same output");
  choice_option(app, "--format", s->format, {"jsonl", "npy"}, "output format");
  text_option(app, "-o,--out", s->out, "JSONL file (default stdout) or shard folder (npy: required)")->type_name("PATH");
  app.add_flag("--words", s->words, "JSONL: also write the words and each step's text");
  app.add_option_function<std::string>(
         "--shard",
         [s](const std::string& v) {
           const auto slash = v.find('/');
           if (slash == std::string::npos) throw option_error("--shard: expected I/N, got \"" + v + "\"");
           s->shard = parse_count("--shard", v.substr(0, slash));
           s->shards = parse_count("--shard", v.substr(slash + 1), {.min = 1});
           if (s->shard >= s->shards) throw option_error("--shard: need 0 <= I < N, got \"" + v + "\"");
         },
         "only lines whose 0-based index is I modulo N")
      ->type_name("I/N")
      ->default_str("0/1");
  count_option(app, "--threads", s->threads, "worker threads; the output does not depend on them (0: all cores)");
  count_option(app, "--max-tokens", s->max_tokens, "lines longer than this are skipped and counted", {.min = 1});
  app.add_flag_callback("--progress", [s] { s->progress = true; }, "progress bar on stderr (default: when stderr is a terminal)");
  app.add_flag_callback("--no-progress", [s] { s->progress = false; }, "no progress bar");
  app.footer(
      "Skipped lines (counted on stderr): empty, invalid UTF-8, only punctuation, too long.\n"
      "With K > 1 trajectories, JSONL lines carry \"trajectory\": 0..K-1 beside the line's \"id\", and .npy\n"
      "shards hold K rows per sentence (sentence_ids repeats the line index). A short sentence may have\n"
      "fewer than K distinct trajectories: it gets those it has (counted on stderr).");
  app.parse_complete_callback([s] { check(*s); });
  return [s] { return run_noise(*s); };
}

}  // namespace slotdiff::cli
