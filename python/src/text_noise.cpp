// python/src/text_noise.cpp: Tokenizer, Noiser and Trajectories.
//
// The Noiser picks its scorer, layout and schedule by name at run time (the names of `slotdiff
// noise`, docs/noising.md): the scorer is the library's named_scorer (scoring/by_name.hpp), the one
// `slotdiff noise` uses, so the random part draws from each trajectory's own seed as the CLI does.
//
// Two scoring spaces, as in the CLI:
//   - words: the Noiser is built from text (`corpus=` a list of lines). Importance is learned over an
//     unbounded word list of that text, so a rare word never shares <unk>'s statistics; noise_text()
//     scores the words and writes the same removal steps over a vocabulary's ids. With the input lines
//     as the corpus this is `slotdiff noise` exactly (same seed, same trajectories; tested).
//   - ids: the Noiser is built from id sequences (`corpus=` a list of arrays) and scores the ids it is
//     given (noise()).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common.hpp"
#include "slotdiff/detail/splitmix.hpp"
#include "slotdiff/embed/sif_model.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/noise/corpus.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/noise/objective.hpp"
#include "slotdiff/scoring/by_name.hpp"
#include "slotdiff/scoring/unigram.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff::python {

namespace {

// ---- trajectories -------------------------------------------------------------------------------

/// Many trajectories packed flat: trajectory i owns tokens/removed_at[offsets[i], offsets[i+1]).
struct trajectories {
  std::string layout = "side";
  std::vector<token_id> tokens;
  std::vector<step_index> removed_at;
  std::vector<std::int64_t> offsets{0};
  std::vector<step_index> steps;
  std::vector<std::int64_t> sentence;  ///< the input sequence (its seed index) each came from
  std::vector<std::int32_t> sample;    ///< k: the k-th trajectory of its sentence

  std::size_t size() const noexcept { return steps.size(); }

  template <class Layout>
  void add(const trajectory<Layout>& tr, std::span<const token_id> out_ids, std::int64_t sentence_index, std::int32_t k) {
    tokens.insert(tokens.end(), out_ids.begin(), out_ids.end());
    removed_at.insert(removed_at.end(), tr.removed_at().begin(), tr.removed_at().end());
    offsets.push_back(static_cast<std::int64_t>(tokens.size()));
    steps.push_back(tr.steps());
    sentence.push_back(sentence_index);
    sample.push_back(k);
  }

  void check_index(std::int64_t i) const {
    if (i < 0 || static_cast<std::size_t>(i) >= size())
      throw py::index_error("trajectory index " + std::to_string(i) + " outside [0, " + std::to_string(size()) + ")");
  }

  template <class Layout>
  trajectory<Layout> get(std::size_t i) const {
    const auto b = static_cast<std::size_t>(offsets[i]), e = static_cast<std::size_t>(offsets[i + 1]);
    return trajectory<Layout>(std::vector<token_id>(tokens.begin() + b, tokens.begin() + e),
                              std::vector<step_index>(removed_at.begin() + b, removed_at.begin() + e), steps[i]);
  }

  template <class Fn>
  decltype(auto) with_layout(Fn&& fn) const {
    if (layout == "gap") return fn(gap_layout{});
    return fn(side_layout{});
  }
};

/// Training examples (x_{t+1}, targets(t)) packed flat, the layout of the .npy shards.
struct examples {
  std::vector<token_id> inputs, targets;
  std::vector<std::int64_t> input_offsets{0}, target_offsets{0}, trajectory, step;
};

/// steps[i] < 0: trajectory i gives no example; else the example of step steps[i] (0-based t: input
/// x_{t+1}, targets rebuilding x_t, `targets.none_id` where nothing goes). Throws: IndexError for a
/// step outside [0, T_i).
examples build_examples(const trajectories& trs, std::span<const std::int64_t> which_steps, bool all,
                        const targets_options& targets) {
  examples ex;
  trs.with_layout([&](auto layout) {
    using L = decltype(layout);
    for (std::size_t i = 0; i < trs.size(); ++i) {
      const step_index T = trs.steps[i];
      step_index first = 0, last = T;  // [first, last)
      if (!all) {
        const std::int64_t t = which_steps[i];
        if (t < 0) continue;
        if (t >= T)
          throw py::index_error("steps[" + std::to_string(i) + "] = " + std::to_string(t) + " outside [0, " + std::to_string(T) +
                                ") (trajectory " + std::to_string(i) + " has " + std::to_string(T) + " steps)");
        first = static_cast<step_index>(t), last = first + 1;
      }
      if (first >= last) continue;
      const trajectory<L> tr = trs.get<L>(i);
      for (step_index t = first; t < last; ++t) {
        tr.state_into(t + 1, ex.inputs);
        tr.targets_into(t, ex.targets, targets);
        ex.input_offsets.push_back(static_cast<std::int64_t>(ex.inputs.size()));
        ex.target_offsets.push_back(static_cast<std::int64_t>(ex.targets.size()));
        ex.trajectory.push_back(static_cast<std::int64_t>(i));
        ex.step.push_back(t);
      }
    }
  });
  return ex;
}

py::dict examples_dict(examples&& ex) {
  py::dict d;
  d["inputs"] = to_numpy(std::move(ex.inputs));
  d["input_offsets"] = to_numpy(std::move(ex.input_offsets));
  d["targets"] = to_numpy(std::move(ex.targets));
  d["target_offsets"] = to_numpy(std::move(ex.target_offsets));
  d["trajectory"] = to_numpy(std::move(ex.trajectory));
  d["step"] = to_numpy(std::move(ex.step));
  return d;
}

/// A numpy view of a member vector of the Python object `self` (kept alive by the array).
template <class T>
py::array view_of(const std::vector<T>& v, py::handle self) {
  return py::array_t<T>({static_cast<py::ssize_t>(v.size())}, {static_cast<py::ssize_t>(sizeof(T))}, v.data(), self);
}

// ---- the noiser ---------------------------------------------------------------------------------

/// How one noise()/noise_text() call draws: the seed indices, K, and the threads.
struct draw_options {
  std::span<const std::uint64_t> indices = {};  ///< seed index of each sequence (empty: its position)
  std::size_t trajectories = 1;                 ///< K per sequence
  bool distinct = true;                         ///< keep only distinct trajectories
  std::size_t threads = 0;                      ///< 0: all cores
  noise_options noise{};                        ///< the Noiser's options, with the call's seed
};

class noiser {
public:
  std::string layout = "side", space = "none";
  scorer_spec spec;
  named_distance metric;
  noise_options opts;
  std::optional<tokenizer> words;  // space "words"
  unigram_model model;
  std::optional<sif_embedder> embedder;
  std::size_t exact_up_to = 10;
  std::optional<named_scorer> scorer;  // none for dynamic

  /// Noises `scoring[i]` (K trajectories each) and writes the removal steps over `output[i]` (the
  /// same positions; null: the scoring ids themselves).
  template <class Layout>
  void run(const std::vector<std::span<const token_id>>& scoring, const std::vector<std::span<const token_id>>* output,
           const draw_options& d, trajectories& out) const {
    const embedding_objective<sif_embedder, named_distance> objective{
        .embedder = embedder ? &*embedder : nullptr, .metric = metric, .exact_up_to = exact_up_to};
    auto one = [&](std::span<const token_id> tokens, const noise_options& o) {
      if (!scorer) return noise<Layout>(tokens, objective, o);
      return scorer->with_seed(o.seed, [&](const auto& bound) { return noise<Layout>(tokens, bound, o); });
    };
    const auto trs = noise_corpus_samples<trajectory<Layout>>(scoring, one, d.noise, {.trajectories = d.trajectories, .distinct = d.distinct},
                                                              {.threads = d.threads, .indices = d.indices});
    out.layout = layout;
    std::size_t total = 0, count = 0;
    for (std::size_t i = 0; i < trs.size(); ++i) total += trs[i].size() * scoring[i].size(), count += trs[i].size();
    out.tokens.reserve(total);
    out.removed_at.reserve(total);
    out.offsets.reserve(count + 1);
    for (std::size_t i = 0; i < trs.size(); ++i)
      for (std::size_t a = 0; a < trs[i].size(); ++a)
        out.add(trs[i][a], output ? (*output)[i] : scoring[i], static_cast<std::int64_t>(d.indices.empty() ? i : d.indices[i]),
                static_cast<std::int32_t>(a));
  }

  void noise_spans(const std::vector<std::span<const token_id>>& scoring, const std::vector<std::span<const token_id>>* output,
                   const draw_options& d, trajectories& out) const {
    if (d.trajectories == 0) throw py::value_error("trajectories: expected at least 1, got 0");
    if (d.trajectories > 1 && d.noise.temperature == 0.0f && !d.noise.schedule.is_random() && !spec.uses("random"))
      throw py::value_error("trajectories=" + std::to_string(d.trajectories) +
                            ": every trajectory would be the same; set temperature > 0, a schedule fraction:LOW..HIGH, or the random scorer");
    if (layout == "gap") run<gap_layout>(scoring, output, d, out);
    else run<side_layout>(scoring, output, d, out);
  }
};

std::vector<std::uint64_t> to_indices(py::handle indices, std::size_t n, std::int64_t first) {
  std::vector<std::uint64_t> out;
  if (indices.is_none()) {
    if (first == 0) return out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<std::uint64_t>(first) + i);
    return out;
  }
  py::array a = py::module_::import("numpy").attr("asarray")(indices);
  if (a.ndim() != 1 || (a.size() && a.dtype().kind() != 'i' && a.dtype().kind() != 'u'))
    throw py::type_error("indices: expected a 1-D integer array, got dtype " + std::string(py::str(a.dtype())));
  auto v = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
  if (static_cast<std::size_t>(v.size()) != n)
    throw py::value_error("indices: " + std::to_string(v.size()) + " entries for " + std::to_string(n) + " sequences");
  for (py::ssize_t i = 0; i < v.size(); ++i) {
    if (v.data()[i] < 0) throw py::value_error("indices: entry " + std::to_string(i) + " is negative");
    out.push_back(static_cast<std::uint64_t>(v.data()[i]));
  }
  return out;
}

std::vector<std::string> to_lines(py::handle lines, const char* name) {
  if (py::isinstance<py::str>(lines)) throw py::type_error(std::string(name) + ": expected a list of strings, got one str");
  std::vector<std::string> out;
  std::size_t i = 0;
  for (auto item : lines) {
    if (py::isinstance<py::str>(item)) out.push_back(item.cast<std::string>());
    else if (py::isinstance<py::bytes>(item)) out.push_back(std::string(py::bytes(py::reinterpret_borrow<py::object>(item))));
    else throw py::type_error(std::string(name) + "[" + std::to_string(i) + "]: expected str, got " +
                              std::string(py::str(py::type::handle_of(item).attr("__name__"))));
    ++i;
  }
  return out;
}

bool looks_like_text(py::handle corpus) {
  if (py::isinstance<py::str>(corpus)) return false;
  for (auto item : corpus) return py::isinstance<py::str>(item) || py::isinstance<py::bytes>(item);
  return false;
}

}  // namespace

void register_text_noise(py::module_& m) {
  // ---- Tokenizer ----
  py::class_<tokenizer>(m, "Tokenizer", R"(A word-level tokenizer with a vocabulary (slotdiff/text/tokenizer.hpp).

Ids 0..3 are reserved: pad, unk, root, none. encode lowercases ASCII, splits punctuation off, maps
unknown words to unk. Invalid UTF-8 raises slotdiff.Error naming the byte offset.)")
      .def(py::init<>(), "A tokenizer that knows only the 4 special ids.")
      .def_static("load", [](const std::string& path) { return tokenizer::load(path); }, py::arg("path"),
                  "Reads a vocabulary file (docs/formats.md). Raises slotdiff.Error naming the path and line.")
      .def_static(
          "build",
          [](py::handle lines, std::size_t max_size, std::uint64_t min_count) {
            const auto text = to_lines(lines, "lines");
            py::gil_scoped_release nogil;
            return tokenizer::build(text, {.max_size = max_size, .min_count = min_count});
          },
          py::arg("lines"), py::arg("max_size") = 8192, py::arg("min_count") = 1,
          "Learns a vocabulary from text lines: the max_size - 4 most frequent words (ties in byte order).")
      .def("save", [](const tokenizer& t, const std::string& path) { t.save(path); }, py::arg("path"))
      .def("__len__", &tokenizer::size)
      .def_property_readonly("size", &tokenizer::size, "Vocabulary size, special ids included.")
      .def(
          "encode",
          [](const tokenizer& t, const std::string& text) {
            std::vector<token_id> ids;
            {
              py::gil_scoped_release nogil;
              t.encode_into(text, ids);
            }
            return to_numpy(std::move(ids));
          },
          py::arg("text"), "The ids of one text, as an int32 array. O(len(text)).")
      .def(
          "encode_batch",
          [](const tokenizer& t, py::handle lines) {
            const auto text = to_lines(lines, "lines");
            std::vector<token_id> ids;
            std::vector<std::int64_t> offsets{0};
            {
              py::gil_scoped_release nogil;
              for (const auto& l : text) {
                t.encode_into(l, ids);
                offsets.push_back(static_cast<std::int64_t>(ids.size()));
              }
            }
            return py::make_tuple(to_numpy(std::move(ids)), to_numpy(std::move(offsets)));
          },
          py::arg("lines"), "Encodes many lines: (ids int32, offsets int64 of len(lines) + 1), line i = ids[offsets[i]:offsets[i+1]].")
      .def(
          "decode",
          [](const tokenizer& t, py::handle ids) {
            const ragged_ids r = to_ragged(ids, py::none(), "ids");
            if (r.seqs.size() != 1 || !r.single) throw py::type_error("ids: decode takes one sequence (use decode_batch for several)");
            return t.decode(r.seqs[0]);
          },
          py::arg("ids"), "Text from ids (single spaces, none before closing punctuation; pad skipped).")
      .def(
          "decode_batch",
          [](const tokenizer& t, py::handle ids, py::handle offsets) {
            const ragged_ids r = to_ragged(ids, offsets, "ids", false);
            std::vector<std::string> out;
            out.reserve(r.seqs.size());
            for (const auto& s : r.seqs) out.push_back(t.decode(s));
            return out;
          },
          py::arg("ids"), py::arg("offsets") = py::none(), "Texts of a batch: a list of id arrays, or flat ids with offsets=.")
      .def("word", [](const tokenizer& t, token_id id) { return t.word(id); }, py::arg("id"))
      .def("count", [](const tokenizer& t, token_id id) { return t.count(id); }, py::arg("id"))
      .def("find", [](const tokenizer& t, const std::string& w) { return t.find(w); }, py::arg("word"),
           "The id of a normalized (lowercased) word, or None.")
      .def_property_readonly("words", [](const tokenizer& t) {
        std::vector<std::string> w;
        for (std::size_t i = 0; i < t.size(); ++i) w.push_back(t.word(static_cast<token_id>(i)));
        return w;
      })
      .def_readonly_static("pad", &tokenizer::pad)
      .def_readonly_static("unk", &tokenizer::unk)
      .def_readonly_static("root", &tokenizer::root)
      .def_readonly_static("none", &tokenizer::none);

  // ---- Trajectories ----
  py::class_<trajectories>(m, "Trajectories", R"(Noising trajectories packed flat (zero-copy numpy views).

Trajectory i: x_0 = tokens[offsets[i]:offsets[i+1]], removed_at (same slice; 1..T, T+1 for tokens
left in x_T), steps[i] = T, sentence[i] = the input index (seed index) it came from, sample[i] = k,
its number among the K trajectories of that sentence.)")
      .def("__len__", &trajectories::size)
      .def_readonly("layout", &trajectories::layout)
      .def_property_readonly("tokens", [](py::object self) { return view_of(self.cast<const trajectories&>().tokens, self); })
      .def_property_readonly("removed_at", [](py::object self) { return view_of(self.cast<const trajectories&>().removed_at, self); })
      .def_property_readonly("offsets", [](py::object self) { return view_of(self.cast<const trajectories&>().offsets, self); })
      .def_property_readonly("steps", [](py::object self) { return view_of(self.cast<const trajectories&>().steps, self); })
      .def_property_readonly("sentence", [](py::object self) { return view_of(self.cast<const trajectories&>().sentence, self); })
      .def_property_readonly("sample", [](py::object self) { return view_of(self.cast<const trajectories&>().sample, self); })
      .def(
          "state",
          [](const trajectories& trs, std::int64_t i, step_index t) {
            trs.check_index(i);
            return trs.with_layout([&](auto l) { return to_numpy(trs.get<decltype(l)>(static_cast<std::size_t>(i)).state(t)); });
          },
          py::arg("i"), py::arg("t"), "x_t of trajectory i (int32). Raises slotdiff.Error if t is outside [0, T].")
      .def(
          "targets",
          [](const trajectories& trs, std::int64_t i, step_index t, token_id none_id) {
            trs.check_index(i);
            return trs.with_layout(
                [&](auto l) { return to_numpy(trs.get<decltype(l)>(static_cast<std::size_t>(i)).targets(t, {.none_id = none_id})); });
          },
          py::arg("i"), py::arg("t"), py::arg("none_id") = default_none_id,
          "Per slot of x_{t+1}: the token that rebuilds x_t, or none_id (default Tokenizer.none, 3) where nothing goes. "
          "Raises slotdiff.Error if t is outside [0, T-1] or none_id < 0.")
      .def(
          "examples",
          [](const trajectories& trs, py::handle steps, token_id none_id) {
            const targets_options targets{.none_id = none_id};
            if (none_id < 0) throw py::value_error("none_id: expected an id >= 0, got " + std::to_string(none_id));
            if (steps.is_none()) {
              examples ex;
              {
                py::gil_scoped_release nogil;
                ex = build_examples(trs, {}, true, targets);
              }
              return examples_dict(std::move(ex));
            }
            auto a = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(
                py::module_::import("numpy").attr("asarray")(steps));
            if (!a || a.ndim() != 1 || static_cast<std::size_t>(a.size()) != trs.size())
              throw py::value_error("steps: expected one integer per trajectory (" + std::to_string(trs.size()) + ")");
            examples ex;
            {
              py::gil_scoped_release nogil;
              ex = build_examples(trs, std::span<const std::int64_t>(a.data(), trs.size()), false, targets);
            }
            return examples_dict(std::move(ex));
          },
          py::arg("steps") = py::none(), py::arg("none_id") = default_none_id,
          R"(Training examples packed flat, as in the .npy shards: dict of inputs/input_offsets (x_{t+1}),
targets/target_offsets (one id per slot of x_{t+1}; none_id, default Tokenizer.none = 3, where nothing
goes), trajectory and step (t) of each example. steps=None: every step of every trajectory; else one t
per trajectory (negative: none).)")
      .def(
          "random_steps",
          [](const trajectories& trs, std::uint64_t seed) {
            std::vector<std::int64_t> out(trs.size());
            for (std::size_t i = 0; i < trs.size(); ++i) {
              const std::uint64_t h = detail::splitmix64(
                  detail::splitmix64(seed ^ detail::splitmix64(static_cast<std::uint64_t>(trs.sentence[i]))) ^
                  static_cast<std::uint64_t>(trs.sample[i]));
              out[i] = trs.steps[i] > 0 ? static_cast<std::int64_t>(h % static_cast<std::uint64_t>(trs.steps[i])) : -1;
            }
            return to_numpy(std::move(out));
          },
          py::arg("seed"),
          "One step t in [0, T) per trajectory (-1 when T = 0), a hash of (seed, sentence, sample): the same for a "
          "sentence whatever batch, worker or thread it is in.");

  // ---- Noiser ----
  py::class_<noiser>(m, "_Noiser")
      .def(py::init([](const std::string& scorer, py::handle corpus, const std::string& layout, const std::string& schedule,
                       const std::string& selection, std::size_t keep_keywords, std::uint64_t seed, std::size_t max_steps,
                       float temperature, py::handle protect, py::handle embedder, py::handle vocab, const std::string& metric,
                       const std::string& embedder_oov, std::size_t exact_up_to) {
             auto n = std::make_unique<noiser>();
             n->spec = scorer_spec::parse(scorer, "scorer");
             if (layout != "side" && layout != "gap") throw py::value_error("layout: expected side or gap, got \"" + layout + "\"");
             n->layout = layout;
             n->opts.schedule = noise_schedule::parse(schedule);
             if (selection != "exact" && selection != "greedy")
               throw py::value_error("selection: expected exact or greedy, got \"" + selection + "\"");
             n->opts.selection = selection == "exact" ? selection_method::exact : selection_method::greedy;
             n->opts.keep_keywords = keep_keywords;
             n->opts.seed = seed;
             n->opts.max_steps = max_steps;
             if (!(temperature >= 0.0f) || !std::isfinite(temperature))
               throw py::value_error("temperature: expected a finite number >= 0, got " + std::to_string(temperature));
             n->opts.temperature = temperature;
             n->metric = named_distance(metric, "metric");
             n->exact_up_to = exact_up_to;
             if (embedder_oov != "hash" && embedder_oov != "skip")
               throw py::value_error("embedder_oov: expected hash or skip, got \"" + embedder_oov + "\"");
             if (scorer == "dynamic" && n->opts.schedule.type == noise_schedule::kind::threshold)
               throw py::value_error("schedule: the dynamic objective has no per-token scores for a threshold");
             const bool needs_stats = n->spec.needs_statistics();
             const bool needs_embedder = n->spec.needs_embedder();
             // The statistics: text (words) or ids.
             if (!corpus.is_none()) {
               if (looks_like_text(corpus)) {
                 auto lines = to_lines(corpus, "corpus");
                 py::gil_scoped_release nogil;
                 std::erase_if(lines, [](const std::string& l) { return detail::find_invalid_utf8(l) != std::string_view::npos; });
                 n->words = tokenizer::build(lines, {.max_size = std::size_t{1} << 31});
                 std::vector<token_id> ids;
                 for (const auto& l : lines) {
                   ids.clear();
                   n->words->encode_into(l, ids);
                   n->model.observe(ids);
                 }
                 n->space = "words";
               } else {
                 const ragged_ids r = to_ragged(corpus, py::none(), "corpus", false);
                 py::gil_scoped_release nogil;
                 for (const auto& s : r.seqs) n->model.observe(s);
                 n->space = "ids";
               }
             } else if (needs_stats) {
               throw py::value_error("corpus: the " + scorer + " scorer learns its statistics from a corpus; pass corpus= "
                                     "(a list of text lines, or of id arrays)");
             }
             // The embedder, over the scoring space's words.
             if (needs_embedder) {
               if (embedder.is_none()) throw py::value_error("embedder: the " + scorer + " scorer needs embedder= (a SIF embedder file, e.g. data/corpus/embedder.sdsif)");
               const std::string path = py::str(embedder);
               const sif_model sm = sif_model::load(path);
               std::vector<std::string_view> word_list;
               const tokenizer* t = nullptr;
               if (n->space == "words") t = &*n->words;
               else if (!vocab.is_none()) t = &vocab.cast<const tokenizer&>();
               else throw py::value_error("vocab: the " + scorer + " scorer over ids needs vocab= (a Tokenizer) to look the words up in the embedder");
               for (std::size_t i = 0; i < t->size(); ++i) word_list.push_back(t->word(static_cast<token_id>(i)));
               n->embedder.emplace(sm.embedder_for(word_list, embedder_oov == "skip" ? sif_unknown::skip : sif_unknown::hash));
               if (n->space == "none") n->space = "ids";
             }
             // Protected words or ids.
             std::vector<token_id> protect_ids;
             if (!protect.is_none()) {
               if (scorer == "dynamic") throw py::value_error("protect: the dynamic objective has no per-token scores to protect (use keep_keywords)");
               for (auto item : protect) {
                 if (py::isinstance<py::str>(item)) {
                   const tokenizer* t = n->space == "words" ? &*n->words : (vocab.is_none() ? nullptr : &vocab.cast<const tokenizer&>());
                   if (!t) throw py::value_error("protect: words need a text corpus or vocab= to map them to ids");
                   // A word the list lacks encodes as unk: protecting it would protect every unknown word.
                   for (token_id id : t->encode(item.cast<std::string>()))
                     if (id != tokenizer::unk) protect_ids.push_back(id);
                 } else {
                   protect_ids.push_back(item.cast<token_id>());
                 }
               }
             }
             // The scorer itself (scoring/by_name.hpp, as `slotdiff noise`).
             if (!n->spec.is_objective())
               n->scorer.emplace(n->spec, named_scorer_options{.statistics = &n->model,
                                                               .embedder = n->embedder ? &*n->embedder : nullptr,
                                                               .metric = n->metric,
                                                               .protect = std::move(protect_ids)});
             return n;
           }),
           py::arg("scorer") = "idf", py::arg("corpus") = py::none(), py::arg("layout") = "side",
           py::arg("schedule") = "fraction:0.5", py::arg("selection") = "exact", py::arg("keep_keywords") = 0,
           py::arg("seed") = 0, py::arg("max_steps") = 0, py::arg("temperature") = 0.0f, py::arg("protect") = py::none(),
           py::arg("embedder") = py::none(), py::arg("vocab") = py::none(), py::arg("metric") = "cosine",
           py::arg("embedder_oov") = "hash", py::arg("exact_up_to") = 10)
      .def_readonly("space", &noiser::space)
      .def_readonly("layout", &noiser::layout)
      .def_property_readonly("scorer", [](const noiser& n) { return n.spec.text; })
      .def_property_readonly("seed", [](const noiser& n) { return n.opts.seed; })
      .def_property_readonly("schedule", [](const noiser& n) { return n.opts.schedule.to_string(); })
      .def_property_readonly("words", [](const noiser& n) -> py::object {
        if (n.words) return py::cast(*n.words);
        return py::none();
      })
      .def(
          "noise",
          [](const noiser& n, py::handle ids, py::handle offsets, std::size_t k, std::size_t threads, py::handle indices,
             std::int64_t first_index, bool distinct, std::int64_t seed) {
            if (n.space == "words")
              throw py::value_error("noise: this Noiser scores words learned from a text corpus; call noise_text(lines, vocab) "
                                    "(or build it from id sequences to noise ids)");
            const ragged_ids r = to_ragged(ids, offsets, "ids");
            const auto idx = to_indices(indices, r.seqs.size(), first_index);
            draw_options d{.indices = idx, .trajectories = k, .distinct = distinct, .threads = threads, .noise = n.opts};
            if (seed >= 0) d.noise.seed = static_cast<std::uint64_t>(seed);
            auto out = std::make_unique<trajectories>();
            {
              py::gil_scoped_release nogil;
              n.noise_spans(r.seqs, nullptr, d, *out);
            }
            return out;
          },
          py::arg("ids"), py::arg("offsets") = py::none(), py::arg("trajectories") = 1, py::arg("threads") = 0,
          py::arg("indices") = py::none(), py::arg("first_index") = 0, py::arg("distinct") = true, py::arg("seed") = -1)
      .def(
          "noise_text",
          [](const noiser& n, py::handle lines, const tokenizer& vocab, std::size_t k, std::size_t threads, py::handle indices,
             std::int64_t first_index, bool distinct, std::int64_t seed) {
            const auto text = to_lines(lines, "lines");
            const auto idx = to_indices(indices, text.size(), first_index);
            auto out = std::make_unique<trajectories>();
            {
              py::gil_scoped_release nogil;
              // Tokenised on the noising threads too (the lines are independent; order kept by index).
              const bool words = n.space == "words";
              std::vector<std::vector<token_id>> out_ids(text.size()), score_ids(words ? text.size() : 0);
              detail::parallel_indices(text.size(), threads, 256, nullptr, [&](std::size_t i) {
                vocab.encode_into(text[i], out_ids[i]);
                if (words) n.words->encode_into(text[i], score_ids[i]);
              });
              std::vector<std::span<const token_id>> out_spans(out_ids.begin(), out_ids.end());
              std::vector<std::span<const token_id>> score_spans(score_ids.begin(), score_ids.end());
              draw_options d{.indices = idx, .trajectories = k, .distinct = distinct, .threads = threads, .noise = n.opts};
              if (seed >= 0) d.noise.seed = static_cast<std::uint64_t>(seed);
              if (n.space == "words") n.noise_spans(score_spans, &out_spans, d, *out);
              else n.noise_spans(out_spans, nullptr, d, *out);
            }
            return out;
          },
          py::arg("lines"), py::arg("vocab"), py::arg("trajectories") = 1, py::arg("threads") = 0, py::arg("indices") = py::none(),
          py::arg("first_index") = 0, py::arg("distinct") = true, py::arg("seed") = -1);
}

}  // namespace slotdiff::python
