// tools/cli/eval.cpp: `slotdiff eval`, the keyword-to-sentence benchmark (docs/eval.md). Every test
// sentence gives a keyword set by a fixed noising protocol; each model grows one sentence from each
// set; the outputs, the references and a random lower bound are scored side by side.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "decoding_options.hpp"
#include "options.hpp"
#include "slotdiff/backends/ngram.hpp"
#include "slotdiff/backends/ngram_text.hpp"
#include "slotdiff/backends/reference/reference.hpp"
#if SLOTDIFF_CLI_CUDA
#include "slotdiff/cuda/handle.hpp"
#endif
#include "slotdiff/denoise/decoding.hpp"
#include "slotdiff/denoise/denoise.hpp"
#include "slotdiff/eval/bleu.hpp"
#include "slotdiff/io/atomic_file.hpp"
#include "slotdiff/eval/keywords.hpp"
#include "slotdiff/eval/kneser_ney.hpp"
#include "slotdiff/eval/text_metrics.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff::cli {
namespace {

using words = std::vector<std::string>;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

// The bundled files (SLOTDIFF_DEFAULT_* may name a path or a call that finds the data root).
std::string default_model() { return std::filesystem::path(SLOTDIFF_DEFAULT_MODEL).string(); }
std::string default_vocab() { return std::filesystem::path(SLOTDIFF_DEFAULT_VOCAB).string(); }
std::filesystem::path bundled_corpus_dir() { return std::filesystem::path(default_vocab()).parent_path().parent_path() / "corpus"; }

struct model_spec {
  std::string name, kind, path, vocab;
};

model_spec parse_model(std::string_view text, const std::string& fallback_vocab) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw option_error("--model: expected NAME=SPEC, got \"" + std::string(text) + "\"");
  model_spec m;
  m.name = std::string(text.substr(0, eq));
  std::string spec(text.substr(eq + 1));
  if (const auto comma = spec.find(",vocab="); comma != std::string::npos) {
    m.vocab = spec.substr(comma + 7);
    spec.resize(comma);
  }
  const auto colon = spec.find(':');
  m.kind = spec.substr(0, colon);
  if (colon != std::string::npos) m.path = spec.substr(colon + 1);
  if (m.kind != "ngram" && m.kind != "reference" && m.kind != "cuda")
    throw option_error("--model " + m.name + ": kind must be ngram, reference or cuda, got \"" + m.kind + "\"");
  if ((m.kind == "reference" || m.kind == "cuda") && m.path.empty()) {
    m.path = default_model();
    if (m.vocab.empty()) m.vocab = default_model_vocab_path();  // the bundled model's own vocabulary
  }
  if (m.vocab.empty()) m.vocab = fallback_vocab;
  return m;
}

/// Words joined as tokenizer::decode joins them: no space before closing punctuation or after an
/// opening bracket.
std::string join_words(const words& w) {
  std::string out;
  bool glue = true;
  for (const auto& x : w) {
    const bool closing = x.size() == 1 && std::string_view(".,;:!?)]}%").find(x[0]) != std::string_view::npos;
    if (!glue && !closing) out.push_back(' ');
    out += x;
    glue = x.size() == 1 && (x[0] == '(' || x[0] == '[' || x[0] == '{');
  }
  return out;
}

std::uint64_t chunk_seed(std::uint64_t seed, std::size_t chunk) {
  return text_hash(std::to_string(seed) + ":" + std::to_string(chunk));
}

/// Runs `work(chunk index, worker index)` over `chunks` chunks on `threads` workers.
template <class Work>
void parallel_chunks(std::size_t chunks, std::size_t threads, Work&& work) {
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto run = [&](std::size_t worker) {
    try {
      for (std::size_t c; (c = next.fetch_add(1)) < chunks;) work(c, worker);
    } catch (...) {
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
      next = chunks;
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t w = 1; w < threads; ++w) pool.emplace_back(run, w);
  run(0);
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

constexpr std::size_t chunk_size = 16;  // sentences per denoise call; each chunk has its own seed

/// One output per keyword set. `backends[w]` serves worker w. Keywords the vocabulary lacks go in
/// as <unk> and come out as the keyword itself; results do not depend on the thread count (each
/// chunk of chunk_size sets is one denoise call with its own seed).
template <class Backend>
std::vector<words> generate_all(std::vector<std::unique_ptr<Backend>>& backends, const tokenizer& vocab, const std::vector<words>& keywords,
                                const decoding_preset& preset, std::uint64_t seed) {
  std::vector<words> out(keywords.size());
  const std::size_t chunks = (keywords.size() + chunk_size - 1) / chunk_size;
  parallel_chunks(chunks, backends.size(), [&](std::size_t c, std::size_t w) {
    const std::size_t lo = c * chunk_size, hi = std::min(keywords.size(), lo + chunk_size);
    std::vector<std::vector<token_id>> starts;
    for (std::size_t i = lo; i < hi; ++i) {
      starts.emplace_back();
      for (const auto& k : keywords[i]) starts.back().push_back(vocab.find(k).value_or(tokenizer::unk));
    }
    auto opts = preset.options(chunk_seed(seed, c));
    opts.trace = false;
    const auto gens = denoise(*backends[w], std::span<const std::vector<token_id>>(starts), preset.stop(), opts);
    for (std::size_t i = lo; i < hi; ++i) {
      const generation& g = gens[i - lo];
      std::size_t k = 0;
      for (std::size_t j = 0; j < g.tokens.size(); ++j) {
        if (g.births[j] == 0 && k < keywords[i].size()) out[i].push_back(keywords[i][k++]);
        else out[i].push_back(vocab.word(g.tokens[j]));
      }
    }
  });
  return out;
}

struct row {
  std::string name, kind;
  std::vector<words> outputs;
  double seconds = 0;  // generation (or preparation) wall time
};

struct settings {
  std::string test, train, vocab;
  std::size_t subset = 500, threads = 2, samples = 10;
  bool all = false;
  std::uint64_t seed = 0;
  judge_options judge{};
  decoding_preset preset{};
  std::vector<std::string> model_args;
  std::string json;
};

row run_model(const model_spec& m, const settings& s, const std::vector<std::string>& train_lines,
              const std::vector<words>& keywords) {
  row r{.name = m.name, .kind = m.kind + (m.path.empty() ? "" : ":" + m.path), .outputs = {}, .seconds = 0};
  const tokenizer vocab = tokenizer::load(m.vocab);
  auto t0 = clock_type::now();
  if (m.kind == "ngram") {
    ngram_backend<side_layout> model = [&] {
      if (!m.path.empty()) return ngram_backend<side_layout>::load(m.path);
      ngram_text_report rep;
      ngram_text_options recipe = augmented_ngram_recipe();
      recipe.heldout_every = 0;
      recipe.threads = s.threads;
      recipe.evaluate = false;
      auto trained = train_ngram_on_text<side_layout>(train_lines, vocab, recipe, &rep);
      std::cerr << "  " << m.name << ": n-gram trained on " << rep.train_sentences << " sentences (noised in "
                << rep.noise_seconds << " s, counted in " << rep.train_seconds << " s)\n";
      return trained;
    }();
    if (model.vocabulary_size() != vocab.size())
      throw model_error("--model " + m.name + ": the n-gram model has " + std::to_string(model.vocabulary_size()) +
                        " ids, the vocabulary " + m.vocab + " has " + std::to_string(vocab.size()));
    std::cerr << "  " << m.name << ": model ready in " << seconds_since(t0) << " s\n";
    t0 = clock_type::now();
    std::vector<std::unique_ptr<ngram_backend<side_layout>>> copies;
    for (std::size_t w = 0; w < s.threads; ++w) copies.push_back(std::make_unique<ngram_backend<side_layout>>(model));
    r.outputs = generate_all(copies, vocab, keywords, s.preset, s.seed);
  } else if (m.kind == "reference") {
    const auto weights = reference_weights::load(m.path, vocab);
    std::vector<std::unique_ptr<reference_backend>> models;
    for (std::size_t w = 0; w < s.threads; ++w) models.push_back(std::make_unique<reference_backend>(weights, reference_options{.threads = 1}));
    r.outputs = generate_all(models, vocab, keywords, s.preset, s.seed);
  } else {
#if SLOTDIFF_CLI_CUDA
    if (cuda::visible_devices() == 0) throw backend_error("--model " + m.name + ": no CUDA device is visible");
    std::vector<std::unique_ptr<cuda::reference_handle>> models;
    models.push_back(std::make_unique<cuda::reference_handle>(cuda::reference_handle::load(m.path, vocab)));
    r.outputs = generate_all(models, vocab, keywords, s.preset, s.seed);
#else
    throw option_error("--model " + m.name + ": this slotdiff was built without a CUDA compiler");
#endif
  }
  r.seconds = seconds_since(t0);
  return r;
}

/// "Keywords plus corpus words drawn at random into random slots", as long as the reference: each
/// missing word is drawn from the training tokens (so by unigram frequency) and inserted at a
/// uniformly random position of the growing sentence. Seeded by (seed, the sentence's text).
std::vector<words> random_baseline(const std::vector<words>& keywords, const std::vector<words>& refs,
                                   const std::vector<std::string>& sentences, const std::vector<const std::string*>& pool,
                                   std::uint64_t seed) {
  std::vector<words> out(keywords.size());
  for (std::size_t i = 0; i < keywords.size(); ++i) {
    std::mt19937_64 rng(text_hash(sentences[i]) ^ (seed * 0x9E3779B97F4A7C15ull));
    out[i] = keywords[i];
    while (out[i].size() < refs[i].size()) {
      const std::string& w = *pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)];
      const auto at = std::uniform_int_distribution<std::size_t>(0, out[i].size())(rng);
      out[i].insert(out[i].begin() + static_cast<std::ptrdiff_t>(at), w);
    }
  }
  return out;
}

struct scores {
  keyword_coverage cover;
  double bleu2 = 0, bleu4 = 0, distinct1 = 0, distinct2 = 0, repeats = 0, mean_length = 0;
  perplexity_report judge;
};

scores score(const std::vector<words>& out, const std::vector<words>& refs, const std::vector<words>& keywords,
             const kneser_ney_judge& judge) {
  scores s;
  s.cover = coverage(keywords, out);
  s.bleu2 = corpus_bleu(out, refs, {.max_order = 2}).score;
  s.bleu4 = corpus_bleu(out, refs, {.max_order = 4}).score;
  s.distinct1 = distinct_n(out, 1);
  s.distinct2 = distinct_n(out, 2);
  s.repeats = adjacent_repeat_rate(out);
  std::size_t tokens = 0;
  for (const auto& o : out) tokens += o.size();
  s.mean_length = out.empty() ? 0 : static_cast<double>(tokens) / static_cast<double>(out.size());
  s.judge = judge.perplexity(out);
  return s;
}

std::string fmt(const char* f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

int run(settings& s);

}  // namespace

std::function<int()> eval_command(CLI::App& app) {
  auto p = std::make_shared<settings>();
  app.description(
      "The keyword-to-sentence benchmark (docs/eval.md). For each test sentence, the keywords are the\n"
      "final state of a fixed noising trajectory (IDF over the training split, exact selection, fraction\n"
      "0.5, keep clamp(round(n/5), 2, 4) of n tokens); each model grows one sentence from them. One\n"
      "table: the models, the references (upper bound) and a random lower bound (the keywords plus\n"
      "training words drawn at random into random slots, as long as the reference), with keyword\n"
      "coverage, BLEU-2/4, distinct-1/2, adjacent-repeat rate, mean length and the perplexity of a\n"
      "Kneser-Ney 5-gram judge trained on the training split.");
  text_option(app, "--test", p->test, "test split, one sentence a line (default: data/corpus/test.txt)")->type_name("PATH");
  text_option(app, "--train", p->train, "training split: IDF, judge, random words, n-gram model (default:\n"
                                        "train.txt beside --test)")->type_name("PATH");
  text_option(app, "--vocab", p->vocab, "vocabulary of models without their own (default: vocab.txt beside\n"
                                        "--test, else the bundled one)")->type_name("PATH");
  count_option(app, "--subset", p->subset, "score N sentences chosen by a hash of their text", {.min = 1});
  app.add_flag("--all", p->all, "score every test sentence");
  list_option(app, "--model", p->model_args,
              "a model under test, repeatable. SPEC is\n"
              "  ngram             trained from --train with --vocab (IDF trajectories,\n"
              "                    as `slotdiff ngram` makes them; no line held out)\n"
              "  ngram:PATH        a saved n-gram model (side layout)\n"
              "  reference[:PATH]  the reference transformer on the CPU (no PATH: the\n"
              "                    bundled model and its bundled vocabulary)\n"
              "  cuda[:PATH]       the same on an NVIDIA GPU (when built with CUDA)\n"
              "followed by \",vocab=FILE\" to give the model its own vocabulary.\n"
              "Default: ngram=ngram and transformer=reference.")
      ->type_name("NAME=SPEC");
  count_option(app, "--threads", p->threads, "worker threads (each with its own model copy)", {.min = 1});
  count_option(app, "--seed", p->seed, "decoding and random-baseline seed");
  count_option(app, "--samples", p->samples, "sample outputs printed per model");
  count_option(app, "--judge-order", p->judge.order, "order of the Kneser-Ney judge", {.min = 1});
  count_option(app, "--judge-min-count", p->judge.min_count, "words rarer than C become <unk> for the judge");
  text_option(app, "--json", p->json, "write the table, settings and samples as JSON")->type_name("OUT");
  add_decoding_options(app, p->preset);
  app.footer(stopping_help());
  app.parse_complete_callback([p] {
    p->preset.validate();
    for (const auto& m : p->model_args)
      if (const auto eq = m.find('='); eq == std::string::npos || eq == 0)
        throw option_error("--model: expected NAME=SPEC, got \"" + m + "\"");
  });
  return [p] { return run(*p); };
}

namespace {

/// The paths and models left to their defaults (--train, --vocab beside --test), then the models.
std::vector<model_spec> resolve_settings(settings& s) {
  if (s.test.empty()) s.test = (bundled_corpus_dir() / "test.txt").string();
  const std::filesystem::path test_dir = std::filesystem::path(s.test).parent_path();
  if (s.train.empty()) s.train = (test_dir / "train.txt").string();
  if (s.vocab.empty())
    s.vocab = std::filesystem::exists(test_dir / "vocab.txt") ? (test_dir / "vocab.txt").string() : default_vocab();
  if (s.model_args.empty()) s.model_args = {"ngram=ngram", "transformer=reference"};
  std::vector<model_spec> models;
  for (const auto& m : s.model_args) models.push_back(parse_model(m, s.vocab));
  for (std::size_t i = 0; i < models.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (models[i].name == models[j].name) throw option_error("--model: the name \"" + models[i].name + "\" is given twice");
  return models;
}

/// The test sentences: usable lines (some word, valid UTF-8), then the subset by text hash.
std::vector<std::string> read_test_sentences(const settings& s) {
  std::vector<std::string> sentences;
  std::size_t skipped = 0;
  {
    auto lines = read_lines(s.test);
    for (auto& l : lines) {
      if (detail::find_invalid_utf8(l) != std::string_view::npos || text_words(l).empty()) {
        ++skipped;
        continue;
      }
      sentences.push_back(std::move(l));
    }
    if (sentences.empty()) throw input_error("--test " + s.test + ": no usable sentence");
    const std::size_t total = sentences.size();
    if (!s.all && s.subset < total) {
      std::vector<std::size_t> idx(total);
      for (std::size_t i = 0; i < total; ++i) idx[i] = i;
      std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
        const auto ha = text_hash(sentences[a]), hb = text_hash(sentences[b]);
        return ha != hb ? ha < hb : a < b;
      });
      idx.resize(s.subset);
      std::sort(idx.begin(), idx.end());
      std::vector<std::string> kept;
      for (std::size_t i : idx) kept.push_back(std::move(sentences[i]));
      sentences = std::move(kept);
    }
    std::cerr << "slotdiff eval: " << sentences.size() << " of " << total << " test sentences (" << skipped
              << " lines skipped) from " << s.test << '\n';
  }
  return sentences;
}

/// The markdown table, one row per output list.
void print_table(const std::vector<row>& rows, const std::vector<scores>& table, std::size_t sentences, const settings& s) {
  std::printf("\n%zu test sentences (%s), keywords per set %s; judge: %zu-gram modified Kneser-Ney on %s\n\n",
              sentences, s.all ? "all" : "hash subset", "2-4", s.judge.order, s.train.c_str());
  std::printf("| row | in order | kw present | BLEU-2 | BLEU-4 | distinct-1 | distinct-2 | repeats | length (ref %.1f) | judge PPL | seconds |\n",
              table[0].mean_length);
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& t = table[i];
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", rows[i].name.c_str(),
                fmt("%.1f%%", 100 * t.cover.in_order).c_str(), fmt("%.3f", t.cover.mean_fraction).c_str(),
                fmt("%.4f", t.bleu2).c_str(), fmt("%.4f", t.bleu4).c_str(), fmt("%.3f", t.distinct1).c_str(),
                fmt("%.3f", t.distinct2).c_str(), fmt("%.2f%%", 100 * t.repeats).c_str(), fmt("%.1f", t.mean_length).c_str(),
                fmt("%.1f", t.judge.perplexity).c_str(), rows[i].seconds > 0 ? fmt("%.1f", rows[i].seconds).c_str() : "");
  }
}

/// What --json writes: the settings, the table and the first n_samples outputs of every row.
struct json_report {
  const settings& s;
  const std::vector<std::string>& sentences;
  const std::vector<words>& keywords;
  const std::vector<row>& rows;
  const std::vector<scores>& table;
  std::size_t judge_vocabulary, n_samples;
  double total_seconds;
};

/// --json: the report, written whole (a file: renamed into place) or in place (a device or a pipe).
void write_json(const json_report& r) {
  const settings& s = r.s;
  const std::vector<row>& rows = r.rows;
  const double ref_length = r.table[0].mean_length;
  nlohmann::json j;
  const decoding_preset& p = s.preset;
  j["settings"] = {{"test", s.test},
                   {"train", s.train},
                   {"sentences", r.sentences.size()},
                   {"subset", s.all ? std::string("all") : "hash, " + std::to_string(s.subset)},
                   {"seed", s.seed},
                   {"threads", s.threads},
                   {"judge", {{"order", s.judge.order}, {"min_count", s.judge.min_count}, {"vocabulary", r.judge_vocabulary}}},
                   {"decoding", {{"temperature", p.temperature}, {"top_k", p.top_k}, {"top_p", p.top_p},
                                 {"repetition_penalty", p.repetition_penalty}, {"min_probability", p.min_probability},
                                 {"candidates", p.candidates}, {"gaps", p.gaps == gap_policy::one_per_gap ? "one" : "independent"},
                                 {"min_insertions", p.min_insertions}, {"max_insertions", p.max_insertions},
                                 {"min_confidence", p.min_confidence}, {"stop_probability", p.stop_probability},
                                 {"min_length", p.min_length}, {"max_length", p.max_length}, {"max_steps", p.max_steps}}},
                   {"wall_seconds", r.total_seconds}};
  j["rows"] = nlohmann::json::array();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& t = r.table[i];
    j["rows"].push_back({{"name", rows[i].name}, {"kind", rows[i].kind}, {"coverage_in_order", t.cover.in_order},
                         {"keywords_present", t.cover.mean_fraction}, {"bleu2", t.bleu2}, {"bleu4", t.bleu4},
                         {"distinct1", t.distinct1}, {"distinct2", t.distinct2}, {"adjacent_repeat_rate", t.repeats},
                         {"mean_length", t.mean_length}, {"reference_mean_length", ref_length},
                         {"judge_perplexity", t.judge.perplexity}, {"judge_predictions", t.judge.predictions},
                         {"judge_unknown", t.judge.unknown}, {"seconds", rows[i].seconds}});
  }
  j["samples"] = nlohmann::json::array();
  for (std::size_t i = 0; i < r.n_samples; ++i) {
    nlohmann::json one = {{"keywords", r.keywords[i]}, {"reference", r.sentences[i]}};
    for (std::size_t k = 1; k < rows.size(); ++k) one["outputs"][rows[k].name] = join_words(rows[k].outputs[i]);
    j["samples"].push_back(one);
  }
  const std::string text = j.dump(2) + '\n';
  if (const auto target = atomic_target(s.json)) {  // a file: whole or not at all
    write_file_atomically(*target, [&](std::ostream& out) { out << text; });
  } else {  // a device or a pipe: in place
    std::ofstream out(s.json, std::ios::binary);
    if (!out) throw file_write_error("--json: cannot write " + s.json);
    out << text;
    check_written(out, s.json);
  }
}

int run(settings& s) {
  const auto t_start = clock_type::now();
  const std::vector<model_spec> models = resolve_settings(s);
  const std::vector<std::string> sentences = read_test_sentences(s);

  auto t0 = clock_type::now();
  const auto train_lines = read_lines(s.train);
  std::vector<words> train_words;
  train_words.reserve(train_lines.size());
  for (std::size_t i = 0; i < train_lines.size(); ++i) train_words.push_back(text_words(train_lines[i], s.train + " line " + std::to_string(i + 1)));
  const auto judge = kneser_ney_judge::train_words(train_words, s.judge);
  const double judge_seconds = seconds_since(t0);
  std::cerr << "  judge: " << s.judge.order << "-gram Kneser-Ney over " << train_lines.size() << " training lines, "
            << judge.words().size() << " words, in " << judge_seconds << " s\n";

  t0 = clock_type::now();
  const keyword_extractor extractor(train_lines);
  std::vector<words> keywords, refs;
  for (const auto& line : sentences) {
    keywords.push_back(extractor.keywords(line));
    refs.push_back(text_words(line));
  }
  std::cerr << "  keywords: " << sentences.size() << " sets in " << seconds_since(t0) << " s\n";

  std::vector<row> rows;
  rows.push_back({.name = "references", .kind = "upper bound", .outputs = refs, .seconds = 0});
  {
    std::vector<const std::string*> pool;
    for (const auto& w : train_words)
      for (const auto& x : w) pool.push_back(&x);
    if (pool.empty()) throw input_error("--train " + s.train + ": no words");
    rows.push_back({.name = "random", .kind = "lower bound", .outputs = random_baseline(keywords, refs, sentences, pool, s.seed), .seconds = 0});
  }
  for (const auto& m : models) {
    std::cerr << "  " << m.name << " (" << m.kind << (m.path.empty() ? "" : " " + m.path) << ", vocabulary " << m.vocab << ")\n";
    rows.push_back(run_model(m, s, train_lines, keywords));
    std::cerr << "  " << m.name << ": " << sentences.size() << " generations in " << rows.back().seconds << " s\n";
  }

  std::vector<scores> table;
  for (const auto& r : rows) table.push_back(score(r.outputs, refs, keywords, judge));
  print_table(rows, table, sentences.size(), s);

  // Samples: the first sentences of the subset, unedited.
  const std::size_t n_samples = std::min(s.samples, sentences.size());
  for (std::size_t r = 2; r < rows.size() && n_samples > 0; ++r) {
    std::printf("\nsamples, %s:\n", rows[r].name.c_str());
    for (std::size_t i = 0; i < n_samples; ++i)
      std::printf("  [%s] %s\n", join_words(keywords[i]).c_str(), join_words(rows[r].outputs[i]).c_str());
  }
  const double total_seconds = seconds_since(t_start);
  std::printf("\nwall time %.1f s on %zu threads\n", total_seconds, s.threads);

  if (!s.json.empty())
    write_json({.s = s, .sentences = sentences, .keywords = keywords, .rows = rows, .table = table,
                .judge_vocabulary = judge.words().size(), .n_samples = n_samples, .total_seconds = total_seconds});
  return 0;
}

}  // namespace
}  // namespace slotdiff::cli
