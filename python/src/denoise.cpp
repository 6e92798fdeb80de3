// python/src/denoise.cpp: backends (n-gram, the reference CPU model, the trajectory oracle, any
// Python callable), stop policies chosen at run time, and denoise() with its traces.
//
// A Python callable is driven with the GIL released around the whole loop and taken back only for
// the call itself: fn(ids int32 (total,), offsets int64 (n+1,)) -> log-probabilities (slots, V), or
// a pair (ids (slots, k), log-probabilities (slots, k)) for a top-k callable; numpy or torch (a CUDA
// tensor is copied to the host). The answer is checked (shape, dtype, NaN) here, naming the callable,
// and then by the library's fetch_candidates (normalisation, order, range).
#include <algorithm>
#include <chrono>
#include <functional>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common.hpp"
#include "slotdiff/backends/ngram.hpp"
#include "slotdiff/pipeline/ngram_from_text.hpp"
#include "slotdiff/backends/oracle.hpp"
#include "slotdiff/backends/reference/backend.hpp"
#include "slotdiff/denoise/decoding.hpp"
#include "slotdiff/denoise/denoise.hpp"
#include "slotdiff/denoise/trace.hpp"
#include "slotdiff/noise/trajectory.hpp"
#include "slotdiff/stop/policies.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff::python {

namespace {

// ---- stop policies chosen at run time -------------------------------------------------------------

/// A stop policy tree: a leaf is one of the library's policies with its parameter; any_of/all_of
/// combine children. Evaluated through the library's own policy types.
struct runtime_stop {
  std::string kind = "never";
  double value = 0;
  std::vector<runtime_stop> parts;

  bool operator()(const step_report& r) const {
    if (kind == "max_steps") return stop::max_steps{static_cast<std::size_t>(value)}(r);
    if (kind == "max_length") return stop::max_length{static_cast<std::size_t>(value)}(r);
    if (kind == "length_at_least") return stop::length_at_least{static_cast<std::size_t>(value)}(r);
    if (kind == "probability_below") return stop::probability_below{static_cast<float>(value)}(r);
    if (kind == "change_below") return stop::change_below{static_cast<float>(value)}(r);
    if (kind == "similarity_above") return stop::similarity_above{static_cast<float>(value)}(r);
    if (kind == "no_change") return stop::no_change{}(r);
    if (kind == "any_of") return std::any_of(parts.begin(), parts.end(), [&](const runtime_stop& p) { return p(r); });
    if (kind == "all_of") return std::all_of(parts.begin(), parts.end(), [&](const runtime_stop& p) { return p(r); });
    return false;  // never
  }

  /// The hard length limit it implies, as the library's stop::length_cap: max_length's limit; the
  /// smallest part's under any_of; under all_of the largest, and only when every part has one.
  std::size_t length_cap() const {
    if (kind == "max_length") return stop::max_length{static_cast<std::size_t>(value)}.length_cap();
    if (kind == "any_of") {
      std::size_t cap = stop::no_length_cap;
      for (const auto& p : parts) cap = std::min(cap, p.length_cap());
      return cap;
    }
    if (kind == "all_of") {
      std::size_t cap = 0;
      for (const auto& p : parts) cap = std::max(cap, p.length_cap());
      return cap;
    }
    return stop::no_length_cap;
  }

  std::string repr() const {
    if (kind == "any_of" || kind == "all_of") {
      std::string s = "stop." + kind + "(";
      for (std::size_t i = 0; i < parts.size(); ++i) s += (i ? ", " : "") + parts[i].repr();
      return s + ")";
    }
    if (kind == "no_change" || kind == "never") return "stop." + kind + "()";
    const bool integral = kind == "max_steps" || kind == "max_length" || kind == "length_at_least";
    return "stop." + kind + "(" + (integral ? std::to_string(static_cast<std::size_t>(value)) : std::string(py::str(py::float_(value)))) + ")";
  }
};

runtime_stop make_stop(const std::string& kind, double value, std::vector<runtime_stop> parts) {
  static const char* leaves[] = {"max_steps", "max_length", "length_at_least", "probability_below", "change_below",
                                 "similarity_above", "no_change", "never", "any_of", "all_of"};
  if (std::find_if(std::begin(leaves), std::end(leaves), [&](const char* k) { return kind == k; }) == std::end(leaves))
    throw py::value_error("stop: unknown policy \"" + kind + "\"");
  const bool integral = kind == "max_steps" || kind == "max_length" || kind == "length_at_least";
  if (integral && !(value >= 0 && value == std::floor(value)))
    throw py::value_error("stop." + kind + ": expected a count >= 0, got " + std::string(py::str(py::float_(value))));
  if ((kind == "probability_below" || kind == "change_below" || kind == "similarity_above") && std::isnan(value))
    throw py::value_error("stop." + kind + ": the threshold is NaN");
  if ((kind == "any_of" || kind == "all_of") && parts.empty()) throw py::value_error("stop." + kind + ": needs at least one policy");
  return {kind, value, std::move(parts)};
}

// ---- Python callables as backends -----------------------------------------------------------------

struct py_callable {
  py::object fn;
  std::size_t vocab = 0;
  token_id none = tokenizer::none;
  std::string layout = "side";
  bool top_k = false;
  std::string name;
  double seconds_in_python = 0;  ///< time spent in the callable (conversion included)
  std::size_t calls = 0;
};

/// The answer as a C-contiguous numpy array of T (torch tensors: detached, moved to the CPU).
template <class T>
py::array_t<T, py::array::c_style> as_host_array(py::handle x, const std::string& who, const char* what) {
  py::object obj = py::reinterpret_borrow<py::object>(x);
  if (py::hasattr(obj, "detach") && py::hasattr(obj, "cpu")) obj = obj.attr("detach")().attr("cpu")().attr("numpy")();
  py::array a = py::module_::import("numpy").attr("asarray")(obj);
  const char kind = a.dtype().kind();
  if constexpr (std::is_floating_point_v<T>) {
    if (kind != 'f') throw py::type_error(who + ": " + what + " have dtype " + std::string(py::str(a.dtype())) + ", expected a float dtype");
  } else {
    if (kind != 'i' && kind != 'u') throw py::type_error(who + ": " + what + " have dtype " + std::string(py::str(a.dtype())) + ", expected an integer dtype");
  }
  return py::array_t<T, py::array::c_style>::ensure(a.attr("astype")(py::dtype::of<T>(), py::arg("copy") = false));
}

void check_shape(const py::array& a, std::size_t rows, std::size_t cols, const std::string& who, const char* what) {
  if (a.ndim() != 2 || static_cast<std::size_t>(a.shape(0)) != rows || static_cast<std::size_t>(a.shape(1)) != cols) {
    std::string shape = "(";
    for (py::ssize_t d = 0; d < a.ndim(); ++d) shape += (d ? ", " : "") + std::to_string(a.shape(d));
    throw py::value_error(who + ": " + what + " have shape " + shape + "), expected (" + std::to_string(rows) + ", " +
                          std::to_string(cols) + ") (one row per slot of the batch)");
  }
}

template <class Layout>
std::size_t total_slots(const ragged_batch& b) {
  std::size_t s = 0;
  for (std::size_t i = 0; i < b.size(); ++i) s += Layout::slot_count(b.length(i));
  return s;
}

/// Calls the callable with the batch, GIL held. Returns its answer.
py::object call_python(py_callable& c, const ragged_batch& batch) {
  py::array_t<token_id> ids(static_cast<py::ssize_t>(batch.tokens.size()));
  std::copy(batch.tokens.begin(), batch.tokens.end(), ids.mutable_data());
  py::array_t<std::int64_t> offs(static_cast<py::ssize_t>(batch.offsets.size()));
  for (std::size_t i = 0; i < batch.offsets.size(); ++i) offs.mutable_data()[i] = static_cast<std::int64_t>(batch.offsets[i]);
  ++c.calls;
  return c.fn(ids, offs);
}

std::string where(const ragged_batch& b, std::size_t row, std::size_t (*slot_count)(std::size_t)) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    const std::size_t n = slot_count(b.length(i));
    if (row < start + n) return "sequence " + std::to_string(b.origin_of(i)) + ", slot " + std::to_string(row - start);
    start += n;
  }
  return "row " + std::to_string(row);
}

template <class Layout>
struct py_full_backend {
  using layout_type = Layout;
  py_callable* c;
  std::size_t vocabulary_size() const noexcept { return c->vocab; }
  token_id none_id() const noexcept { return c->none; }
  std::size_t log_probs(const ragged_batch& batch, std::span<float> out) {
    const std::size_t slots = total_slots<Layout>(batch);
    py::gil_scoped_acquire gil;
    const auto t0 = std::chrono::steady_clock::now();
    py::object res = call_python(*c, batch);
    auto a = as_host_array<float>(res, c->name, "log-probabilities");
    check_shape(a, slots, c->vocab, c->name, "log-probabilities");
    const float* p = a.data();
    for (std::size_t i = 0; i < slots * c->vocab; ++i)
      if (std::isnan(p[i]))
        throw py::value_error(c->name + ": returned NaN log-probability for token " + std::to_string(i % c->vocab) + " at " +
                              where(batch, i / c->vocab, &Layout::slot_count));
    std::memcpy(out.data(), p, slots * c->vocab * sizeof(float));
    c->seconds_in_python += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return slots;
  }
};

template <class Layout>
struct py_topk_backend {
  using layout_type = Layout;
  py_callable* c;
  std::size_t vocabulary_size() const noexcept { return c->vocab; }
  token_id none_id() const noexcept { return c->none; }
  std::size_t top_k(const ragged_batch& batch, std::size_t k, std::span<token_id> ids, std::span<float> logp) {
    const std::size_t slots = total_slots<Layout>(batch);
    py::gil_scoped_acquire gil;
    const auto t0 = std::chrono::steady_clock::now();
    py::object res = call_python(*c, batch);
    if (!py::isinstance<py::tuple>(res) || py::len(res) != 2)
      throw py::type_error(c->name + ": a top-k backend returns a pair (ids, log_probs), got " +
                           std::string(py::str(py::type::handle_of(res).attr("__name__"))));
    auto t = res.cast<py::tuple>();
    auto i = as_host_array<token_id>(t[0], c->name, "top-k ids");
    auto l = as_host_array<float>(t[1], c->name, "top-k log-probabilities");
    if (i.ndim() != 2 || static_cast<std::size_t>(i.shape(0)) != slots || static_cast<std::size_t>(i.shape(1)) < k)
      check_shape(i, slots, k, c->name, "top-k ids");
    const std::size_t have = static_cast<std::size_t>(i.shape(1));
    check_shape(l, slots, have, c->name, "top-k log-probabilities");
    for (std::size_t r = 0; r < slots; ++r)
      for (std::size_t j = 0; j < k; ++j) {
        const float v = l.data()[r * have + j];
        if (std::isnan(v))
          throw py::value_error(c->name + ": returned NaN log-probability in candidate " + std::to_string(j) + " at " +
                                where(batch, r, &Layout::slot_count));
        ids[r * k + j] = i.data()[r * have + j];
        logp[r * k + j] = v;
      }
    c->seconds_in_python += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return slots;
  }
};

// ---- the backend object Python holds --------------------------------------------------------------

using any_backend = std::variant<std::monostate, ngram_backend<side_layout>, ngram_backend<gap_layout>, reference_backend,
                                 oracle_backend<side_layout>, oracle_backend<gap_layout>, py_callable>;

struct backend_box {
  std::string kind, layout = "side";
  std::unique_ptr<any_backend> b = std::make_unique<any_backend>();
  std::mutex busy;  // one loop at a time (the reference model's scratch buffers are not shared)

  std::size_t vocabulary_size() const {
    return std::visit(
        [](const auto& x) -> std::size_t {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::monostate>) return 0;
          else if constexpr (std::is_same_v<T, py_callable>) return x.vocab;
          else return x.vocabulary_size();
        },
        *b);
  }
  token_id none_id() const {
    return std::visit(
        [](const auto& x) -> token_id {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::monostate>) return tokenizer::none;
          else if constexpr (std::is_same_v<T, py_callable>) return x.none;
          else return x.none_id();
        },
        *b);
  }

  /// fn(concrete backend) for every kind, with Python callables wrapped by layout and answer form.
  template <class Fn>
  void with_backend(Fn&& fn) {
    std::visit(
        [&](auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            throw py::value_error("backend: empty");
          } else if constexpr (std::is_same_v<T, py_callable>) {
            if (x.layout == "gap") {
              if (x.top_k) {
                py_topk_backend<gap_layout> w{&x};
                return fn(w);
              }
              py_full_backend<gap_layout> w{&x};
              return fn(w);
            }
            if (x.top_k) {
              py_topk_backend<side_layout> w{&x};
              return fn(w);
            }
            py_full_backend<side_layout> w{&x};
            return fn(w);
          } else {
            return fn(x);
          }
        },
        *b);
  }
};

template <class Layout>
const char* layout_name() {
  return std::is_same_v<Layout, gap_layout> ? "gap" : "side";
}

// ---- generations as Python objects ----------------------------------------------------------------

py::dict trace_step_dict(const trace_step& t) {
  std::vector<std::int64_t> slots;
  std::vector<token_id> tokens;
  for (const insertion& i : t.inserted) slots.push_back(static_cast<std::int64_t>(i.slot)), tokens.push_back(i.token);
  py::dict d;
  d["slots"] = to_numpy(std::move(slots));
  d["tokens"] = to_numpy(std::move(tokens));
  d["probability"] = to_numpy(std::vector<float>(t.probability));
  d["change"] = t.change;
  d["best_insertion"] = t.best_insertion;
  d["forced"] = t.forced;
  d["admissible"] = t.admissible;
  return d;
}

std::function<std::string(token_id)> word_of(const tokenizer* vocab) {
  if (vocab) return [vocab](token_id t) { return vocab->word(t); };
  return [](token_id t) { return std::to_string(t); };
}

}  // namespace

void register_denoise(py::module_& m) {
  py::class_<runtime_stop>(m, "Stop", R"(A stop policy (slotdiff/stop/policies.hpp), read before each step.

Build with slotdiff.stop.max_steps(n), max_length(n), length_at_least(n), probability_below(tau),
change_below(eps), similarity_above(theta), no_change(), never(), any_of(...), all_of(...); a | b is
any_of(a, b), a & b is all_of(a, b).)")
      .def(py::init(&make_stop), py::arg("kind"), py::arg("value") = 0.0, py::arg("parts") = std::vector<runtime_stop>{})
      .def_readonly("kind", &runtime_stop::kind)
      .def_readonly("value", &runtime_stop::value)
      .def_readonly("parts", &runtime_stop::parts)
      .def_property_readonly("length_cap", [](const runtime_stop& s) -> py::object {
        const std::size_t c = s.length_cap();
        if (c == stop::no_length_cap) return py::none();
        return py::int_(c);
      }, "The hard length limit the policy implies (denoise never grows a text beyond it), or None.")
      .def("__call__",
           [](const runtime_stop& s, std::size_t steps, std::size_t length, std::size_t inserted_last, float best_insertion,
              float change_last, float target_similarity) {
             return s(step_report{.steps = steps, .length = length, .inserted_last = inserted_last, .best_insertion = best_insertion,
                                  .change_last = change_last, .target_similarity = target_similarity});
           },
           py::arg("steps") = 0, py::arg("length") = 0, py::arg("inserted_last") = 0, py::arg("best_insertion") = 0.0f,
           py::arg("change_last") = std::nanf(""), py::arg("target_similarity") = std::nanf(""),
           "Evaluates the policy on a step report (what denoise does before every step).")
      .def("__or__", [](const runtime_stop& a, const runtime_stop& b) { return make_stop("any_of", 0, {a, b}); })
      .def("__and__", [](const runtime_stop& a, const runtime_stop& b) { return make_stop("all_of", 0, {a, b}); })
      .def("__repr__", &runtime_stop::repr);

  py::class_<generation>(m, "Generation", "One denoised sequence: tokens, births (0 for start tokens), steps, trace.")
      .def_property_readonly("tokens", [](const generation& g) { return to_numpy(std::vector<token_id>(g.tokens)); })
      .def_property_readonly("births", [](const generation& g) { return to_numpy(std::vector<step_index>(g.births)); })
      .def_readonly("steps", &generation::steps)
      .def_readonly("hit_step_cap", &generation::hit_step_cap)
      .def_property_readonly("ended_by", [](const generation& g) { return std::string(stop_reason_name(g.ended_by)); },
                             "Which rule ended it: policy, step_cap, length_cap or nothing_admissible.")
      .def_property_readonly("trace",
                             [](const generation& g) {
                               py::list l;
                               for (const auto& t : g.trace) l.append(trace_step_dict(t));
                               return l;
                             },
                             "One dict per step: slots, tokens, probability (numpy), change, best_insertion, forced.")
      .def("text", [](const generation& g, const tokenizer& vocab) { return vocab.decode(g.tokens); }, py::arg("vocab"))
      .def("diagram", [](const generation& g, const tokenizer* vocab) { return underscores_diagram(g, word_of(vocab)); },
           py::arg("vocab") = nullptr, "The notes' underscores diagram, one line per step.")
      .def("to_json", [](const generation& g, const tokenizer* vocab) { return to_json(g, word_of(vocab)); }, py::arg("vocab") = nullptr)
      .def("__repr__", [](const generation& g) {
        return "Generation(" + std::to_string(g.tokens.size()) + " tokens, " + std::to_string(g.steps) + " steps, ended by " +
               stop_reason_name(g.ended_by) + ")";
      });

  py::class_<backend_box>(m, "Backend", R"(A denoiser backend: slotdiff.NgramBackend, ReferenceBackend, OracleBackend,
CallableBackend. log_probs/top_k run it on a ragged batch (ids, offsets).)")
      .def_readonly("kind", &backend_box::kind)
      .def_readonly("layout", &backend_box::layout)
      .def_property_readonly("vocabulary_size", &backend_box::vocabulary_size)
      .def_property_readonly("none_id", &backend_box::none_id)
      .def_property_readonly("python_seconds",
                             [](const backend_box& b) {
                               const auto* c = std::get_if<py_callable>(b.b.get());
                               return c ? c->seconds_in_python : 0.0;
                             },
                             "A callable backend: seconds spent in the callable and its conversions, over all calls.")
      .def_property_readonly("python_calls", [](const backend_box& b) {
        const auto* c = std::get_if<py_callable>(b.b.get());
        return c ? c->calls : std::size_t{0};
      })
      .def(
          "log_probs",
          [](backend_box& b, py::handle ids, py::handle offsets) {
            const ragged_ids r = to_ragged(ids, offsets, "ids");
            std::vector<token_id> flat;
            std::vector<std::size_t> off{0};
            for (const auto& s : r.seqs) flat.insert(flat.end(), s.begin(), s.end()), off.push_back(flat.size());
            const ragged_batch batch{flat, off};
            const std::size_t v = b.vocabulary_size();
            std::vector<float> out;
            std::size_t rows = 0;
            {
              py::gil_scoped_release nogil;
              std::lock_guard lock(b.busy);
              b.with_backend([&](auto& be) {
                using B = std::decay_t<decltype(be)>;
                if constexpr (full_distribution_backend<B>) {
                  using L = typename B::layout_type;
                  out.resize(total_slots<L>(batch) * v);
                  rows = be.log_probs(batch, out);
                } else {
                  throw py::type_error("backend " + b.kind + " answers top-k only; call top_k");
                }
              });
            }
            return to_numpy(std::move(out), rows, v);
          },
          py::arg("ids"), py::arg("offsets") = py::none(),
          "Per slot of every sequence (sequence by sequence), the log-distribution over the vocabulary: float32 (slots, V).")
      .def(
          "top_k",
          [](backend_box& b, py::handle ids, py::handle offsets, std::size_t k) {
            const ragged_ids r = to_ragged(ids, offsets, "ids");
            std::vector<token_id> flat;
            std::vector<std::size_t> off{0};
            for (const auto& s : r.seqs) flat.insert(flat.end(), s.begin(), s.end()), off.push_back(flat.size());
            ragged_batch batch{flat, off};
            std::vector<std::size_t> so;
            candidate_table cand;
            std::vector<float> scratch;
            {
              py::gil_scoped_release nogil;
              std::lock_guard lock(b.busy);
              b.with_backend([&](auto& be) {
                using L = typename std::decay_t<decltype(be)>::layout_type;
                slot_offsets<L>(batch, so);
                fetch_candidates(be, batch, so, k, cand, scratch);
              });
            }
            const std::size_t rows = cand.k ? cand.ids.size() / cand.k : 0;
            const std::size_t kk = cand.k;
            return py::make_tuple(to_numpy(std::move(cand.ids), rows, kk), to_numpy(std::move(cand.logp), rows, kk));
          },
          py::arg("ids"), py::arg("offsets") = py::none(), py::arg("k") = 16,
          "The k best candidates of every slot, checked as denoise checks them: (ids int32 (slots, k), log_probs float32 (slots, k)).");

  m.def(
      "_ngram_load",
      [](const std::string& path, const std::string& layout) {
        auto box = std::make_unique<backend_box>();
        box->kind = "ngram";
        box->layout = layout;
        py::gil_scoped_release nogil;
        if (layout == "gap") box->b->emplace<ngram_backend<gap_layout>>(ngram_backend<gap_layout>::load(path));
        else box->b->emplace<ngram_backend<side_layout>>(ngram_backend<side_layout>::load(path));
        return box;
      },
      py::arg("path"), py::arg("layout") = "side");
  m.def(
      "_ngram_train_text",
      [](py::handle lines, const tokenizer& vocab, std::size_t heldout_every, std::size_t trajectories, float temperature,
         std::uint64_t seed, int order, float discount, std::size_t threads) {
        std::vector<std::string> text;
        for (auto l : lines) text.push_back(l.cast<std::string>());
        auto box = std::make_unique<backend_box>();
        box->kind = "ngram";
        ngram_text_options o;
        o.heldout_every = heldout_every;
        o.trajectories = trajectories;
        o.noise.temperature = temperature;
        o.noise.seed = seed;
        o.ngram.order = order;
        o.ngram.discount = discount;
        o.threads = threads;
        ngram_text_report rep;
        {
          py::gil_scoped_release nogil;
          box->b->emplace<ngram_backend<side_layout>>(train_ngram_on_text<side_layout>(text, vocab, o, &rep));
        }
        py::dict report;
        report["train_sentences"] = rep.train_sentences;
        report["heldout_sentences"] = rep.heldout_sentences;
        report["heldout_nll"] = rep.heldout_nll;
        report["unigram_nll"] = rep.unigram_nll;
        report["noise_seconds"] = rep.noise_seconds;
        report["train_seconds"] = rep.train_seconds;
        return py::make_tuple(std::move(box), report);
      },
      py::arg("lines"), py::arg("vocab"), py::arg("heldout_every") = 20, py::arg("trajectories") = 1,
      py::arg("temperature") = 0.0f, py::arg("seed") = 0, py::arg("order") = 3, py::arg("discount") = 0.75f,
      py::arg("threads") = 0);
  m.def(
      "_ngram_save",
      [](backend_box& b, const std::string& path) {
        if (auto* s = std::get_if<ngram_backend<side_layout>>(b.b.get())) return s->save(path);
        if (auto* g = std::get_if<ngram_backend<gap_layout>>(b.b.get())) return g->save(path);
        throw py::type_error("save: not an n-gram backend");
      },
      py::arg("backend"), py::arg("path"));
  m.def(
      "_reference_load",
      [](const std::string& path, const tokenizer& vocab, std::size_t threads) {
        auto box = std::make_unique<backend_box>();
        box->kind = "reference";
        py::gil_scoped_release nogil;
        box->b->emplace<reference_backend>(reference_weights::load(path, vocab), reference_options{.threads = threads});
        return box;
      },
      py::arg("path"), py::arg("vocab"), py::arg("threads") = 1);
  m.def(
      "_oracle",
      [](py::handle trs_handle, std::size_t vocabulary, token_id none) {
        auto box = std::make_unique<backend_box>();
        box->kind = "oracle";
        // The Trajectories object: rebuild each trajectory through its state()/targets().
        py::object trs = py::reinterpret_borrow<py::object>(trs_handle);
        const std::string layout = trs.attr("layout").cast<std::string>();
        box->layout = layout;
        const auto n = py::len(trs);
        const auto steps = trs.attr("steps").cast<py::array_t<step_index>>();
        auto add_all = [&](auto& oracle) {
          for (std::size_t i = 0; i < n; ++i) {
            struct one {
              std::vector<std::vector<token_id>> s, g;
              std::size_t steps() const { return s.size() - 1; }
              const std::vector<token_id>& state(std::size_t t) const { return s[t]; }
              const std::vector<token_id>& targets(std::size_t t) const { return g[t]; }
            } tr;
            const step_index T = steps.at(static_cast<py::ssize_t>(i));
            for (step_index t = 0; t <= T; ++t) tr.s.push_back(trs.attr("state")(i, t).cast<std::vector<token_id>>());
            for (step_index t = 0; t < T; ++t) tr.g.push_back(trs.attr("targets")(i, t).cast<std::vector<token_id>>());
            oracle.add(tr);
          }
        };
        if (layout == "gap") add_all(box->b->emplace<oracle_backend<gap_layout>>(vocabulary, none));
        else add_all(box->b->emplace<oracle_backend<side_layout>>(vocabulary, none));
        return box;
      },
      py::arg("trajectories"), py::arg("vocabulary_size"), py::arg("none_id") = tokenizer::none);
  m.def(
      "_callable",
      [](py::object fn, std::size_t vocabulary, token_id none, const std::string& layout, bool top_k, const std::string& name) {
        if (!PyCallable_Check(fn.ptr())) throw py::type_error("backend: " + std::string(py::repr(fn)) + " is not callable");
        if (vocabulary == 0) throw py::value_error("vocabulary_size: must be positive");
        if (none < 0 || static_cast<std::size_t>(none) >= vocabulary)
          throw py::value_error("none_id: " + std::to_string(none) + " outside the vocabulary of " + std::to_string(vocabulary));
        if (layout != "side" && layout != "gap") throw py::value_error("layout: expected side or gap, got \"" + layout + "\"");
        auto box = std::make_unique<backend_box>();
        box->kind = "callable";
        box->layout = layout;
        box->b->emplace<py_callable>(py_callable{fn, vocabulary, none, layout, top_k, name});
        return box;
      },
      py::arg("fn"), py::arg("vocabulary_size"), py::arg("none_id") = tokenizer::none, py::arg("layout") = "side",
      py::arg("top_k") = false, py::arg("name") = "Python backend");

  m.def(
      "_denoise",
      [](backend_box& b, py::handle starts, py::handle offsets, const runtime_stop& stop_rule, float temperature,
         std::size_t top_k, float top_p, float repetition_penalty, float min_probability, bool no_adjacent_repeat,
         float min_confidence, std::size_t max_insertions, const std::string& gaps, std::size_t min_insertions,
         std::size_t candidates, std::size_t max_steps, std::size_t max_length, std::uint64_t seed, bool trace) {
        const ragged_ids r = to_ragged(starts, offsets, "starts");
        denoise_options o;
        o.sampling = {.temperature = temperature, .top_k = top_k, .top_p = top_p, .repetition_penalty = repetition_penalty,
                      .min_probability = min_probability, .no_adjacent_repeat = no_adjacent_repeat};
        if (gaps != "one_per_gap" && gaps != "independent")
          throw py::value_error("gaps: expected one_per_gap or independent, got \"" + gaps + "\"");
        o.fill = {.min_confidence = min_confidence, .max_insertions = max_insertions,
                  .gaps = gaps == "independent" ? gap_policy::independent : gap_policy::one_per_gap,
                  .min_insertions = min_insertions};
        o.candidates = candidates;
        o.max_steps = max_steps;
        o.max_length = max_length;
        o.seed = seed;
        o.trace = trace;
        std::vector<std::vector<token_id>> seqs;
        for (const auto& s : r.seqs) seqs.emplace_back(s.begin(), s.end());
        std::vector<generation> gens;
        {
          py::gil_scoped_release nogil;
          std::lock_guard lock(b.busy);
          b.with_backend([&](auto& be) {
            gens = denoise(be, std::span<const std::vector<token_id>>(seqs), stop_rule, o);
          });
        }
        if (r.single) return py::cast(std::move(gens.front()));
        return py::cast(std::move(gens));
      },
      py::arg("backend"), py::arg("starts"), py::arg("offsets"), py::arg("stop"), py::arg("temperature"), py::arg("top_k"),
      py::arg("top_p"), py::arg("repetition_penalty"), py::arg("min_probability"), py::arg("no_adjacent_repeat"),
      py::arg("min_confidence"), py::arg("max_insertions"), py::arg("gaps"), py::arg("min_insertions"), py::arg("candidates"),
      py::arg("max_steps"), py::arg("max_length"), py::arg("seed"), py::arg("trace"));

  m.def("_decoding_preset", [] {
    const decoding_preset p;
    py::dict d;
    d["temperature"] = p.temperature;
    d["top_k"] = p.top_k;
    d["top_p"] = p.top_p;
    d["repetition_penalty"] = p.repetition_penalty;
    d["min_probability"] = p.min_probability;
    d["no_adjacent_repeat"] = p.no_adjacent_repeat;
    d["candidates"] = p.candidates;
    d["gaps"] = p.gaps == gap_policy::independent ? "independent" : "one_per_gap";
    d["min_insertions"] = p.min_insertions;
    d["max_insertions"] = p.max_insertions;
    d["min_confidence"] = p.min_confidence;
    d["stop_probability"] = p.stop_probability;
    d["min_length"] = p.min_length;
    d["max_length"] = p.max_length;
    d["max_steps"] = p.max_steps;
    return d;
  });
}

}  // namespace slotdiff::python
