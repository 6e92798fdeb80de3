// tools/cli/noise.cpp: `slotdiff noise`, text lines in, trajectories out (JSONL or .npy shards).
//
// Importance is scored on WORDS (an unbounded word list learned from the IDF corpus), not on the
// vocabulary ids that are written out: with an 8k vocabulary every rare word would otherwise share
// <unk>'s statistics and look like a function word.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
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
#include "slotdiff/embed/sif_model.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/io/jsonl.hpp"
#include "slotdiff/io/npy.hpp"
#include "slotdiff/noise/corpus.hpp"
#include "slotdiff/metrics/vector.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/noise/objective.hpp"
#include "slotdiff/scoring/embedding_shift.hpp"
#include "slotdiff/scoring/mix.hpp"
#include "slotdiff/scoring/random.hpp"
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

constexpr std::string_view help = R"(usage: slotdiff noise [INPUT|-] [options]
Noises each text line (UTF-8, one sentence a line) into trajectories of removals.
  --vocab PATH          vocabulary file for the ids written out (default: the bundled one)
  --scorer NAME         what goes first (low importance first; see docs/noising.md)     (idf)
                          idf | info (self-information) | tfidf | random
                          shift    leave-one-out embedding shift d(e(x), e(x without i))
                          dynamic  the embedding objective: each step removes the feasible set
                                   S minimising d(e(x_t), e(x_t without S)) (no per-token scores)
                          mix:NAME=W,NAME=W,...  weighted sum of rank-normalised scores of
                                   idf, info, tfidf, random, shift (e.g. mix:idf=0.5,shift=0.5)
  --embedder PATH       SIF embedder file for shift/dynamic (slotdiff embed train)  (the bundled one)
  --metric NAME         cosine | euclidean | sqeuclidean | ip                        (cosine)
  --embedder-oov NAME   words the embedder lacks: hash (own random direction) | skip  (hash)
  --exact-up-to N       dynamic: enumerate all feasible sets up to N tokens, else greedy (10)
  --idf-corpus PATH     text the unigram statistics are learned from      (the input, all shards)
  --layout NAME         side | gap                                               (side)
  --schedule SPEC       count:K | fraction:F | fraction:LOW..HIGH (random per step) | max |
                        threshold:T                                       (fraction:0.5)
  --select NAME         exact | greedy                                          (exact)
  --keep M              stop when M tokens remain                                   (0)
  --protect W1,W2,...   words that are never removed (not with dynamic)
  --trajectories K      K different trajectories per sentence (needs --temperature > 0, a
                        LOW..HIGH schedule or the random scorer to vary)               (1)
  --temperature T       stochastic selection: Gumbel noise times T on the standardised
                        scores (0: deterministic)                                     (0)
  --seed S              seed (ties, noise, random scorer); same seed, same output   (0)
  --format NAME         jsonl | npy                                             (jsonl)
  --out PATH            JSONL file (default stdout) or shard folder (npy: required)
  --words               JSONL: also write the words and each step's text
  --shard I/N           only lines whose 0-based index is I modulo N              (0/1)
  --threads N           worker threads (output order is the input's)        (all cores)
  --max-tokens N        lines longer than this are skipped and counted            (512)
  --progress|--no-progress   progress bar on stderr              (when stderr is a terminal)
Skipped lines (counted on stderr): empty, invalid UTF-8, only punctuation, too long.
With K > 1 trajectories, JSONL lines carry "trajectory": 0..K-1 beside the line's "id", and .npy
shards hold K rows per sentence (sentence_ids repeats the line index). A short sentence may have
fewer than K distinct trajectories: it gets those it has (counted on stderr).
)";

/// The scorer names --scorer and mix: accept as parts.
constexpr std::string_view part_names[] = {"idf", "info", "tfidf", "random", "shift"};

struct mix_term {
  std::string name;
  float weight = 1.0f;
};

struct settings {
  std::string input = "-", vocab = SLOTDIFF_DEFAULT_VOCAB, scorer = "idf", idf_corpus, layout = "side", format = "jsonl", out;
  std::string embedder = SLOTDIFF_DEFAULT_EMBEDDER, metric = "cosine", embedder_oov = "hash";
  std::vector<mix_term> mix;  // --scorer mix:...
  noise_options opts;
  std::vector<std::string> protect;
  std::size_t shard = 0, shards = 1, threads = 0, max_tokens = 512, trajectories = 1, exact_up_to = 10;
  bool words = false;
  std::optional<bool> progress;

  bool uses(std::string_view part) const {
    if (scorer == part) return true;
    return std::any_of(mix.begin(), mix.end(), [&](const mix_term& t) { return t.name == part; });
  }
  bool needs_embedder() const { return uses("shift") || scorer == "dynamic"; }
};

bool is_part_name(std::string_view name) {
  return std::find(std::begin(part_names), std::end(part_names), name) != std::end(part_names);
}

/// "mix:idf=0.5,shift=0.5" -> terms. Throws: error naming --scorer and the bad piece.
std::vector<mix_term> parse_mix(const std::string& spec) {
  std::vector<mix_term> terms;
  std::stringstream list(spec.substr(4));
  auto bad = [&](const std::string& piece, const std::string& why) {
    return error("--scorer: \"" + spec + "\": \"" + piece + "\" " + why +
                 " (expected mix:NAME=WEIGHT,... with NAME one of idf, info, tfidf, random, shift)");
  };
  for (std::string piece; std::getline(list, piece, ',');) {
    const auto eq = piece.find('=');
    const std::string name = piece.substr(0, eq);
    if (!is_part_name(name)) throw bad(piece, "names no scorer that can be mixed");
    float w = 1.0f;
    if (eq != std::string::npos) {
      try {
        w = parse_number("--scorer", piece.substr(eq + 1));
      } catch (const error&) {
        throw bad(piece, "has a weight that is not a number");
      }
    }
    if (!(w >= 0.0f) || !std::isfinite(w)) throw bad(piece, "has a weight that is not a finite number >= 0");
    if (std::any_of(terms.begin(), terms.end(), [&](const mix_term& t) { return t.name == name; }))
      throw bad(piece, "repeats a scorer");
    terms.push_back({name, w});
  }
  if (terms.empty()) throw error("--scorer: \"" + spec + "\" mixes nothing (expected mix:NAME=WEIGHT,...)");
  if (std::all_of(terms.begin(), terms.end(), [](const mix_term& t) { return t.weight == 0.0f; }))
    throw error("--scorer: \"" + spec + "\" has only zero weights");
  return terms;
}

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
    else if (a == "--embedder") s.embedder = value();
    else if (a == "--metric") s.metric = value();
    else if (a == "--embedder-oov") s.embedder_oov = value();
    else if (a == "--exact-up-to") s.exact_up_to = parse_count(a, value());
    else if (a == "--idf-corpus") s.idf_corpus = value();
    else if (a == "--layout") s.layout = value();
    else if (a == "--schedule") {
      const auto v = value();
      try {
        s.opts.schedule = noise_schedule::parse(v);
      } catch (const error& e) {
        throw error(std::string("--schedule: ") + e.what());
      }
    } else if (a == "--select") {
      const auto v = value();
      if (v != "exact" && v != "greedy") throw error("--select: expected exact or greedy, got \"" + v + "\"");
      s.opts.selection = v == "exact" ? selection_method::exact : selection_method::greedy;
    } else if (a == "--keep") s.opts.keep_keywords = parse_count(a, value());
    else if (a == "--seed") s.opts.seed = parse_count(a, value());
    else if (a == "--trajectories") s.trajectories = parse_count(a, value());
    else if (a == "--temperature") {
      const auto v = value();
      s.opts.temperature = parse_number(a, v);
      if (!(s.opts.temperature >= 0.0f) || !std::isfinite(s.opts.temperature))
        throw error("--temperature: expected a finite number >= 0, got \"" + v + "\"");
    } else if (a == "--protect") {
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
  if (s.scorer.starts_with("mix:")) s.mix = parse_mix(s.scorer);
  else if (!is_part_name(s.scorer) && s.scorer != "dynamic")
    throw error("--scorer: expected idf, info, tfidf, random, shift, dynamic or mix:NAME=W,..., got \"" + s.scorer + "\"");
  if (s.metric != "cosine" && s.metric != "euclidean" && s.metric != "sqeuclidean" && s.metric != "ip")
    throw error("--metric: expected cosine, euclidean, sqeuclidean or ip, got \"" + s.metric + "\"");
  if (s.embedder_oov != "hash" && s.embedder_oov != "skip")
    throw error("--embedder-oov: expected hash or skip, got \"" + s.embedder_oov + "\"");
  if (s.needs_embedder() && s.embedder.empty())
    throw error("--scorer " + s.scorer + " needs --embedder PATH (no bundled embedder; build one with slotdiff embed train)");
  if (s.scorer == "dynamic" && !s.protect.empty())
    throw error("--protect: the dynamic objective has no per-token scores to protect (use --keep, or --scorer shift)");
  if (s.scorer == "dynamic" && s.opts.schedule.type == noise_schedule::kind::threshold)
    throw error("--schedule " + s.opts.schedule.to_string() + ": the dynamic objective has no per-token scores for a threshold");
  if (s.trajectories == 0) throw error("--trajectories: expected at least 1, got \"0\"");
  if (s.trajectories > 1 && s.opts.temperature == 0.0f && !s.opts.schedule.is_random() && !s.uses("random"))
    throw error("--trajectories " + std::to_string(s.trajectories) +
                ": every trajectory would be the same; add --temperature T (e.g. 0.5), a schedule fraction:LOW..HIGH, "
                "or the random scorer");
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

// ---- scorers chosen at run time ------------------------------------------------------------------

/// A scorer chosen by name. `seed` is the trajectory's seed (noise_options.seed): the random scorer
/// draws from it, so every trajectory of a sentence gets its own random order.
struct runtime_scorer {
  virtual ~runtime_scorer() = default;
  virtual bool dynamic() const = 0;
  virtual void score(std::span<const token_id> tokens, std::span<float> out, std::uint64_t seed) const = 0;
};

template <class S>
struct fixed_scorer final : runtime_scorer {
  explicit fixed_scorer(S s) : scorer(std::move(s)) {}
  bool dynamic() const override { return is_dynamic_scorer_v<S>; }
  void score(std::span<const token_id> tokens, std::span<float> out, std::uint64_t) const override { scorer.score(tokens, out); }
  S scorer;
};

struct seeded_random final : runtime_scorer {
  bool dynamic() const override { return false; }
  void score(std::span<const token_id> tokens, std::span<float> out, std::uint64_t seed) const override {
    random_scorer{seed}.score(tokens, out);
  }
};

/// sum_j w_j rank_j / (n - 1), the scoring/mix.hpp rule with mix_normalize::rank, over parts chosen at
/// run time. Rescored on every step (the ranks of a static part among x_t's tokens change as tokens go).
struct runtime_mix final : runtime_scorer {
  std::vector<std::pair<float, std::unique_ptr<runtime_scorer>>> parts;
  bool dynamic() const override { return true; }
  void score(std::span<const token_id> tokens, std::span<float> out, std::uint64_t seed) const override {
    constexpr float inf = std::numeric_limits<float>::infinity();
    const std::size_t n = tokens.size();
    thread_local std::vector<float> part;
    thread_local std::vector<std::uint32_t> order;
    part.resize(n);
    order.resize(n);
    std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), 0.0f);
    for (const auto& [w, p] : parts) {
      p->score(tokens, std::span<float>(part), seed);
      std::iota(order.begin(), order.end(), 0u);
      std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return part[a] < part[b]; });
      for (std::size_t r = 0; r < n; ++r) {
        const std::uint32_t i = order[r];
        const float rank = n > 1 ? static_cast<float>(r) / static_cast<float>(n - 1) : 0.0f;
        out[i] = (out[i] == inf || part[i] == inf) ? inf : out[i] + w * rank;
      }
    }
  }
};

/// A runtime_scorer bound to one trajectory's seed and the protected ids: what noise() calls.
template <bool Dynamic>
struct bound_scorer {
  static constexpr bool dynamic = Dynamic;
  const runtime_scorer* scorer;
  const std::vector<token_id>* keywords;  // sorted
  std::uint64_t seed;
  void score(std::span<const token_id> tokens, std::span<float> out) const {
    scorer->score(tokens, out, seed);
    if (keywords->empty()) return;
    for (std::size_t i = 0; i < tokens.size(); ++i)
      if (std::binary_search(keywords->begin(), keywords->end(), tokens[i])) out[i] = std::numeric_limits<float>::infinity();
  }
};

/// --metric, chosen at run time (a distance_metric).
struct runtime_metric {
  std::string name = "cosine";
  float operator()(std::span<const float> a, std::span<const float> b) const {
    if (name == "cosine") return cosine_distance{}(a, b);
    if (name == "euclidean") return euclidean_distance{}(a, b);
    if (name == "sqeuclidean") return squared_euclidean_distance{}(a, b);
    return inner_product_distance{}(a, b);
  }
};

struct scoring_context {
  const unigram_model* model;
  const sif_embedder* embedder;  // null unless shift or dynamic is used
  runtime_metric metric;
};

std::unique_ptr<runtime_scorer> make_part(std::string_view name, const scoring_context& c) {
  if (name == "idf") return std::make_unique<fixed_scorer<idf_scorer>>(idf_scorer(*c.model));
  if (name == "info") return std::make_unique<fixed_scorer<self_information_scorer>>(self_information_scorer(*c.model));
  if (name == "tfidf") return std::make_unique<fixed_scorer<tfidf_scorer>>(tfidf_scorer(*c.model));
  if (name == "random") return std::make_unique<seeded_random>();
  using shift = embedding_shift_scorer<sif_embedder, runtime_metric>;
  return std::make_unique<fixed_scorer<shift>>(shift(*c.embedder, c.metric));
}

struct counts_out {
  std::size_t trajectories = 0, short_of_k = 0;
};

template <class Layout>
int run(const settings& s, const tokenizer& vocab, const tokenizer& words, const unigram_model& model,
        const sif_embedder* embedder, const std::vector<std::vector<token_id>>& scoring_ids,
        const std::vector<std::vector<token_id>>& out_ids, const std::vector<std::uint64_t>& line_index, counts_out& c) {
  std::vector<token_id> keywords;
  for (const auto& w : s.protect) {
    const auto ids = words.encode(w);
    keywords.insert(keywords.end(), ids.begin(), ids.end());
  }
  std::sort(keywords.begin(), keywords.end());
  const scoring_context ctx{&model, embedder, runtime_metric{s.metric}};
  std::unique_ptr<runtime_scorer> scorer;
  if (!s.mix.empty()) {
    auto mix = std::make_unique<runtime_mix>();
    for (const auto& t : s.mix) mix->parts.emplace_back(t.weight, make_part(t.name, ctx));
    scorer = std::move(mix);
  } else if (s.scorer != "dynamic") {
    scorer = make_part(s.scorer, ctx);
  }
  const embedding_objective<sif_embedder, runtime_metric> objective{
      .embedder = embedder, .metric = ctx.metric, .exact_up_to = s.exact_up_to};
  auto one = [&](std::span<const token_id> tokens, const noise_options& o) {
    if (!scorer) return noise<Layout>(tokens, objective, o);
    if (scorer->dynamic()) return noise<Layout>(tokens, bound_scorer<true>{scorer.get(), &keywords, o.seed}, o);
    return noise<Layout>(tokens, bound_scorer<false>{scorer.get(), &keywords, o.seed}, o);
  };
  std::atomic<std::size_t> done{0};
  std::atomic<bool> stop{false};
  const bool show = s.progress.value_or(::isatty(2) != 0);
  std::thread bar;
  if (show) bar = std::thread(progress_bar, std::cref(done), scoring_ids.size(), std::cref(stop));
  std::vector<std::vector<trajectory<Layout>>> trs;
  try {
    trs = noise_corpus_samples<trajectory<Layout>>(scoring_ids, one, s.opts, {.trajectories = s.trajectories},
                                                   {.threads = s.threads, .progress = &done, .indices = line_index});
  } catch (...) {
    stop = true;
    if (bar.joinable()) bar.join();
    throw;
  }
  stop = true;
  if (bar.joinable()) bar.join();
  for (const auto& t : trs) {
    c.trajectories += t.size();
    c.short_of_k += t.size() < s.trajectories;
  }
  // The same removal steps over the vocabulary ids (same splitter, so the same positions).
  auto output = [&](std::size_t i, std::size_t k) {
    const auto& tr = trs[i][k];
    return trajectory<Layout>(out_ids[i], std::vector<step_index>(tr.removed_at().begin(), tr.removed_at().end()), tr.steps());
  };
  if (s.format == "npy") {
    npy_shard_writer<Layout> w(static_cast<std::int64_t>(vocab.size()));
    for (std::size_t i = 0; i < trs.size(); ++i)
      for (std::size_t k = 0; k < trs[i].size(); ++k) w.add(output(i, k), static_cast<std::int64_t>(line_index[i]));
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
  for (std::size_t i = 0; i < trs.size(); ++i)
    for (std::size_t k = 0; k < trs[i].size(); ++k) {
      if (s.trajectories == 1) {
        write_jsonl(out, output(i, k), line_index[i], jo);
        continue;
      }
      auto j = to_json(output(i, k), line_index[i], jo);
      j["trajectory"] = k;
      out << j.dump() << '\n';
    }
  out.flush();
  if (!out) throw error("write to " + (s.out.empty() ? std::string("stdout") : s.out) + " failed");
  return 0;
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
  // The sentence embedder, over the same unbounded word list the scorers see.
  std::optional<sif_embedder> embedder;
  if (s.needs_embedder()) {
    if (!std::filesystem::exists(s.embedder))
      throw error("--embedder: " + s.embedder + " does not exist (build it with: slotdiff embed train TEXT -o " + s.embedder + ")");
    const sif_model m = sif_model::load(s.embedder);
    std::vector<std::string_view> word_list;
    for (std::size_t i = 0; i < words.size(); ++i) word_list.push_back(words.word(static_cast<token_id>(i)));
    embedder.emplace(m.embedder_for(word_list, s.embedder_oov == "skip" ? sif_unknown::skip : sif_unknown::hash));
  }
  const sif_embedder* e = embedder ? &*embedder : nullptr;
  const auto noise_start = std::chrono::steady_clock::now();
  counts_out co;
  const int rc = s.layout == "side" ? run<side_slots>(s, vocab, words, model, e, scoring_ids, out_ids, line_index, co)
                                    : run<gap_slots>(s, vocab, words, model, e, scoring_ids, out_ids, line_index, co);
  c.noised = scoring_ids.size();
  const auto end = std::chrono::steady_clock::now();
  const double secs = std::chrono::duration<double>(end - start).count();
  const double noise_secs = std::chrono::duration<double>(end - noise_start).count();
  std::cerr << "slotdiff noise: " << c.noised << " of " << c.in_shard << " lines noised (shard " << s.shard << '/' << s.shards
            << " of " << c.lines << ") into " << co.trajectories << " trajectories (scorer " << s.scorer << ") in " << secs
            << " s (noising and writing " << noise_secs << " s, " << static_cast<double>(c.noised) / std::max(noise_secs, 1e-9)
            << " sentences/s); skipped: " << c.skipped[1] << " empty, " << c.skipped[2]
            << " invalid UTF-8, " << c.skipped[3] << " punctuation only, " << c.skipped[4] << " over " << s.max_tokens
            << " tokens; " << c.unknown << " of " << c.words << " words outside the vocabulary (written as <unk>)";
  if (s.trajectories > 1)
    std::cerr << "; " << co.short_of_k << " sentences have fewer than " << s.trajectories
              << " distinct trajectories (each got all it has)";
  std::cerr << '\n';
  if (!c.first_bad_utf8.empty()) {
    std::cerr << "slotdiff noise: invalid UTF-8 on line(s)";
    for (auto l : c.first_bad_utf8) std::cerr << ' ' << l;
    std::cerr << (c.skipped[2] > c.first_bad_utf8.size() ? " ...\n" : "\n");
  }
  return rc;
}

}  // namespace slotdiff::cli
