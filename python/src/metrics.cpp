// python/src/metrics.cpp: the library's metrics as functions over numpy arrays: vector and
// probability distances (one pair, one-vs-many, many-vs-many), corpus BLEU, distinct-n and the
// adjacent-repeat rate over token-id sequences.
#include <string>
#include <vector>

#include "common.hpp"
#include "slotdiff/eval/bleu.hpp"
#include "slotdiff/eval/text_metrics.hpp"
#include "slotdiff/metrics/batch.hpp"
#include "slotdiff/metrics/probability.hpp"
#include "slotdiff/metrics/vector.hpp"

namespace slotdiff::python {

namespace {

using f32_array = py::array_t<float, py::array::c_style | py::array::forcecast>;

f32_array float_array(py::handle x, const char* name) {
  py::object obj = py::reinterpret_borrow<py::object>(x);
  if (py::hasattr(obj, "detach") && py::hasattr(obj, "cpu")) obj = obj.attr("detach")().attr("cpu")().attr("numpy")();
  py::array a = py::module_::import("numpy").attr("asarray")(obj);
  const char k = a.dtype().kind();
  if (k != 'f' && k != 'i' && k != 'u')
    throw py::type_error(std::string(name) + ": dtype " + std::string(py::str(a.dtype())) + " is not numeric");
  if (a.ndim() != 1 && a.ndim() != 2)
    throw py::type_error(std::string(name) + ": expected a vector (d,) or a matrix (n, d), got " + std::to_string(a.ndim()) + " dimensions");
  return f32_array::ensure(a);  // float32 in place, others converted
}

template <class M>
py::object measure(const M& metric, py::handle a_in, py::handle b_in) {
  const f32_array a = float_array(a_in, "a"), b = float_array(b_in, "b");
  const auto cols = [](const f32_array& x) { return static_cast<std::size_t>(x.shape(x.ndim() - 1)); };
  const auto rows = [](const f32_array& x) { return x.ndim() == 1 ? std::size_t{1} : static_cast<std::size_t>(x.shape(0)); };
  if (cols(a) != cols(b))
    throw py::value_error("a and b: dimensions differ (" + std::to_string(cols(a)) + " and " + std::to_string(cols(b)) + ")");
  const std::size_t d = cols(a);
  if (a.ndim() == 1 && b.ndim() == 1) {
    float r;
    {
      py::gil_scoped_release nogil;
      r = metric(std::span<const float>(a.data(), d), std::span<const float>(b.data(), d));
    }
    return py::float_(r);
  }
  std::vector<float> out(rows(a) * rows(b));
  {
    py::gil_scoped_release nogil;
    const matrix_view<const float> av(a.data(), rows(a), d), bv(b.data(), rows(b), d);
    many_vs_many(metric, av, bv, matrix_view<float>(out.data(), rows(a), rows(b)));
  }
  if (a.ndim() == 1) return to_numpy(std::move(out));                  // (n,)
  if (b.ndim() == 1) return to_numpy(std::move(out));                  // (m,)
  return to_numpy(std::move(out), rows(a), rows(b));                   // (m, n)
}

std::vector<std::vector<token_id>> id_lists(py::handle x, const char* name) {
  const ragged_ids r = to_ragged(x, py::none(), name, false);
  std::vector<std::vector<token_id>> out;
  for (const auto& s : r.seqs) out.emplace_back(s.begin(), s.end());
  return out;
}

}  // namespace

void register_metrics(py::module_& m) {
  m.def(
      "distance",
      [](py::handle a, py::handle b, const std::string& metric) -> py::object {
        if (metric == "cosine") return measure(cosine_distance{}, a, b);
        if (metric == "euclidean") return measure(euclidean_distance{}, a, b);
        if (metric == "sqeuclidean") return measure(squared_euclidean_distance{}, a, b);
        if (metric == "ip") return measure(inner_product_distance{}, a, b);
        if (metric == "kl") return measure(kl_divergence{}, a, b);
        if (metric == "js") return measure(jensen_shannon_divergence{}, a, b);
        if (metric == "jsd") return measure(jensen_shannon_distance{}, a, b);
        if (metric == "hellinger") return measure(hellinger_distance{}, a, b);
        if (metric == "tv") return measure(total_variation_distance{}, a, b);
        throw py::value_error("metric: expected cosine, euclidean, sqeuclidean, ip, kl, js, jsd, hellinger or tv, got \"" + metric + "\"");
      },
      py::arg("a"), py::arg("b"), py::arg("metric") = "cosine",
      R"(The library's distances (slotdiff/metrics): a float for two vectors (d,); (n,) for a vector
against a matrix (n, d) (or the other way round); (m, n) for two matrices. Vector metrics: cosine
(1 - cos), euclidean, sqeuclidean, ip (1 - a.b). Probability metrics over distributions: kl
(Kullback-Leibler, nats), js (Jensen-Shannon divergence), jsd (its square root), hellinger, tv (total
variation). float32 arrays are read in place. Raises slotdiff.Error naming the input for NaN,
infinities, zero vectors (cosine) or non-distributions. O(m n d).)");

  m.def(
      "corpus_bleu",
      [](py::handle hypotheses, py::handle references, std::size_t max_order, const std::string& smoothing, double epsilon) {
        const auto hyp = id_lists(hypotheses, "hypotheses");
        std::vector<std::vector<std::vector<token_id>>> refs;
        std::size_t i = 0;
        for (auto item : references) {
          // Each entry: one reference (a sequence) or several (a list of sequences).
          bool several = (py::isinstance<py::list>(item) || py::isinstance<py::tuple>(item)) && py::len(item) > 0;
          if (several)
            for (auto inner : item) several = several && !py::isinstance<py::int_>(inner);
          const std::string name = "references[" + std::to_string(i++) + "]";
          if (several) refs.push_back(id_lists(item, name.c_str()));
          else refs.push_back(id_lists(py::make_tuple(item), name.c_str()));
        }
        if (smoothing != "epsilon" && smoothing != "none")
          throw py::value_error("smoothing: expected epsilon or none, got \"" + smoothing + "\"");
        bleu_result r;
        {
          py::gil_scoped_release nogil;
          r = corpus_bleu(hyp, refs, {.max_order = max_order,
                                      .smoothing = smoothing == "none" ? bleu_smoothing::none : bleu_smoothing::epsilon,
                                      .epsilon = epsilon});
        }
        py::dict d;
        d["score"] = r.score;
        d["brevity_penalty"] = r.brevity_penalty;
        d["matches"] = r.matches;
        d["totals"] = r.totals;
        d["hypothesis_length"] = r.hypothesis_length;
        d["reference_length"] = r.reference_length;
        return d;
      },
      py::arg("hypotheses"), py::arg("references"), py::arg("max_order") = 4, py::arg("smoothing") = "epsilon",
      py::arg("epsilon") = 0.1,
      R"(Corpus BLEU-N (Papineni et al. 2002; epsilon smoothing: Chen and Cherry 2014, method 1) over
token-id sequences. references[i] is one sequence or a list of sequences for hypotheses[i].
Returns a dict: score, brevity_penalty, matches, totals, hypothesis_length, reference_length.)");

  m.def(
      "distinct_n",
      [](py::handle outputs, std::size_t n) {
        const auto o = id_lists(outputs, "outputs");
        return distinct_n(o, n);
      },
      py::arg("outputs"), py::arg("n") = 2,
      "distinct-n (Li et al. 2016): distinct n-grams / all n-grams over the outputs (token-id sequences).");
  m.def(
      "adjacent_repeat_rate",
      [](py::handle outputs) { return adjacent_repeat_rate(id_lists(outputs, "outputs")); }, py::arg("outputs"),
      "Share of tokens equal to their left neighbour, over all outputs.");
}

}  // namespace slotdiff::python
