"""slotdiff: insertion-based text diffusion, from Python (docs/python.md).

The C++ library does the work (the extension slotdiff._slotdiff, built with pybind11); the GIL is
released around every call that takes time, and arrays cross without copies where the dtype allows
(int32 token ids in, every result out).

    import slotdiff
    vocab = slotdiff.Tokenizer.load("data/corpus/vocab.txt")
    noiser = slotdiff.Noiser("idf", corpus=lines, temperature=0.5, seed=1)
    trs = noiser.noise_text(lines, vocab, trajectories=8, threads=2)
    ex = trs.examples(trs.random_steps(seed=0))           # one (x_{t+1}, targets) per trajectory
    gens = slotdiff.denoise(slotdiff.NgramBackend.load("ngram.bin"), [vocab.encode("fox dog")],
                            slotdiff.stop.max_steps(8))
"""
import os
import pathlib

from . import _slotdiff
from ._slotdiff import (Backend, Error, Generation, Stop, Tokenizer, Trajectories, adjacent_repeat_rate, corpus_bleu,
                        distance, distinct_n)
from . import stop

__all__ = ["Tokenizer", "Noiser", "Trajectories", "Backend", "NgramBackend", "ReferenceBackend", "OracleBackend",
           "CallableBackend", "denoise", "decoding_preset", "stop", "Stop", "Generation", "Error", "distance",
           "corpus_bleu", "distinct_n", "adjacent_repeat_rate", "read_lines", "data_path", "NoisingDataset"]

PAD, UNK, ROOT, NONE = 0, 1, 2, 3


def data_path(*parts) -> pathlib.Path:
    """A path under the source tree's data/ folder (the bundled vocabulary, corpus and embedder):
    data_path("corpus", "vocab.txt"). SLOTDIFF_DATA overrides the folder."""
    base = os.environ.get("SLOTDIFF_DATA") or os.path.join(_slotdiff.source_dir, "data")
    return pathlib.Path(base, *parts)


def read_lines(path) -> list:
    """The lines of a UTF-8 text file, without their line ends (invalid UTF-8 kept as surrogate escapes
    is not possible in a str, so such bytes raise UnicodeDecodeError naming the file)."""
    with open(path, "r", encoding="utf-8", newline="\n") as f:
        return [l.rstrip("\r\n") for l in f]


class Noiser:
    """Noising by name, as `slotdiff noise` (docs/noising.md); every option a keyword.

    scorer: idf | info | tfidf | random | shift | dynamic | mix:NAME=W,... (parts: idf, info, tfidf,
        random, shift; each part's scores become ranks in [0, 1], then the weighted sum).
    corpus: where the statistics come from. A list of text lines (or a path to a text file): the
        scorers see WORDS (an unbounded word list of that text, as the CLI), and noise_text() writes the
        removal steps over a vocabulary's ids; with the input lines as corpus, noise_text() gives
        exactly the trajectories of `slotdiff noise` with the same options and seed. A list of id arrays:
        the scorers see those ids, and noise() takes id arrays. Not needed for random.
    layout: side | gap.  schedule: count:K | fraction:F | fraction:LOW..HIGH | max | threshold:T.
    selection: exact | greedy.  keep_keywords: stop at this many tokens.  seed, max_steps (0: none),
    temperature (Gumbel noise on the standardised scores; 0: deterministic).
    protect: words (str) or ids never removed.  embedder: a SIF file for shift/dynamic
        ("default": data/corpus/embedder.sdsif); vocab: a Tokenizer mapping ids to words for the
        embedder when the corpus is ids.  metric: cosine | euclidean | sqeuclidean | ip.
    embedder_oov: hash | skip.  exact_up_to: dynamic's exact enumeration limit.

    Raises ValueError (slotdiff.Error for the library's own checks) naming the bad option.
    """

    def __init__(self, scorer="idf", corpus=None, *, layout="side", schedule="fraction:0.5", selection="exact",
                 keep_keywords=0, seed=0, max_steps=0, temperature=0.0, protect=None, embedder=None, vocab=None,
                 metric="cosine", embedder_oov="hash", exact_up_to=10):
        if isinstance(corpus, (str, os.PathLike)):
            corpus = read_lines(corpus)
        if embedder == "default":
            embedder = str(data_path("corpus", "embedder.sdsif"))
        elif embedder is not None:
            embedder = os.fspath(embedder)
        self._n = _slotdiff._Noiser(scorer, corpus, layout, schedule, selection, int(keep_keywords), int(seed),
                                    int(max_steps), float(temperature), protect, embedder, vocab, metric, embedder_oov,
                                    int(exact_up_to))
        self.options = dict(scorer=scorer, layout=layout, schedule=schedule, selection=selection,
                            keep_keywords=keep_keywords, seed=seed, max_steps=max_steps, temperature=temperature,
                            metric=metric, embedder_oov=embedder_oov, exact_up_to=exact_up_to)

    @property
    def space(self):
        """'words' (built from text), 'ids' (built from id arrays) or 'none' (the random scorer alone)."""
        return self._n.space

    @property
    def layout(self):
        return self._n.layout

    def noise(self, ids, offsets=None, *, trajectories=1, threads=0, indices=None, first_index=0, distinct=True,
              seed=None) -> Trajectories:
        """Noises id sequences: one 1-D array, a list of arrays, or flat ids with offsets=.

        Sequence i gets the seed of index indices[i] (default first_index + i), so its trajectory does
        not depend on the batch, the threads or the sharding. trajectories=K draws up to K distinct
        ones per sequence (needs temperature > 0, a LOW..HIGH schedule or the random scorer). threads=0:
        all cores. seed= overrides the Noiser's seed for this call. The GIL is released throughout.
        """
        return self._n.noise(ids, offsets, trajectories, threads, indices, first_index, distinct,
                             -1 if seed is None else int(seed))

    def noise_text(self, lines, vocab, *, trajectories=1, threads=0, indices=None, first_index=0, distinct=True,
                   seed=None) -> Trajectories:
        """Noises text lines: scored as words (a Noiser built from text) or as vocab's ids, written as
        vocab's ids. Line i gets the seed of index indices[i] (default first_index + i: the CLI's line
        number when the lines are a whole file)."""
        if isinstance(lines, (str, os.PathLike)) and os.path.exists(lines):
            lines = read_lines(lines)
        return self._n.noise_text(lines, vocab, trajectories, threads, indices, first_index, distinct,
                                  -1 if seed is None else int(seed))

    def __repr__(self):
        o = self.options
        return (f"Noiser({o['scorer']!r}, layout={o['layout']!r}, schedule={o['schedule']!r}, selection={o['selection']!r}, "
                f"temperature={o['temperature']}, seed={o['seed']}, space={self.space!r})")


# ---- backends -------------------------------------------------------------------------------------

class NgramBackend:
    """The n-gram insertion model (slotdiff/backends/ngram.hpp)."""

    @staticmethod
    def load(path, layout="side") -> Backend:
        """Reads a model written by `slotdiff ngram` or save(). Raises slotdiff.Error naming the file."""
        return _slotdiff._ngram_load(os.fspath(path), layout)

    @staticmethod
    def train_text(lines, vocab, *, heldout_every=20, trajectories=1, temperature=0.0, seed=0, order=3,
                   discount=0.75, threads=0):
        """Trains from text lines (IDF trajectories, side_slots; backends/ngram_text.hpp). Returns
        (backend, report dict with held-out nats per slot)."""
        if isinstance(lines, (str, os.PathLike)):
            lines = read_lines(lines)
        return _slotdiff._ngram_train_text(lines, vocab, heldout_every, trajectories, float(temperature), seed, order,
                                           float(discount), threads)

    @staticmethod
    def save(backend, path):
        """Writes the model (a temporary file renamed over the target)."""
        _slotdiff._ngram_save(backend, os.fspath(path))


class ReferenceBackend:
    """The reference transformer denoiser on the CPU (slotdiff/backends/reference)."""

    @staticmethod
    def load(path, vocab, threads=1) -> Backend:
        """Loads safetensors weights trained with `vocab` (refused otherwise, naming both)."""
        return _slotdiff._reference_load(os.fspath(path), vocab, threads)


def OracleBackend(trajectories, vocabulary_size, none_id=NONE) -> Backend:
    """Replays noising trajectories: start i of denoise must be the last state of trajectory i, and the
    loop (greedy, gaps="independent") rebuilds x_0 exactly (slotdiff/backends/oracle.hpp)."""
    return _slotdiff._oracle(trajectories, int(vocabulary_size), int(none_id))


def _is_torch_module(fn):
    try:
        import torch
    except ImportError:
        return False
    return isinstance(fn, torch.nn.Module)


def CallableBackend(fn, vocabulary_size, *, none_id=NONE, layout="side", top_k=False, name=None) -> Backend:
    """Any Python callable as a backend.

    fn(ids, offsets): ids int32 (total tokens,), offsets int64 (sequences + 1,), sequence i =
    ids[offsets[i]:offsets[i+1]] (a torch.nn.Module gets torch tensors, int64, under no_grad).
    It returns, for every slot of every sequence in order (side: 2n slots, 1 for an empty sequence;
    gap: n + 1), either normalised log-probabilities (slots, vocabulary_size), or with top_k=True a
    pair (ids (slots, k'), log_probs (slots, k')) best first, k' >= the candidates denoise asks for.
    numpy or torch (CPU; CUDA tensors are copied). A wrong shape or dtype raises TypeError/ValueError
    and NaN raises ValueError, naming the callable and the slot; an exception inside fn propagates.
    """
    label = name or f"Python backend {getattr(fn, '__qualname__', type(fn).__name__)}"
    if _is_torch_module(fn):
        import torch
        module = fn

        def fn(ids, offsets):  # noqa: F811 - the module with torch inputs
            with torch.no_grad():
                return module(torch.from_numpy(ids).long(), torch.from_numpy(offsets))
    return _slotdiff._callable(fn, int(vocabulary_size), int(none_id), layout, bool(top_k), label)


def decoding_preset() -> dict:
    """The recommended decoding (slotdiff/denoise/decoding.hpp): denoise keyword arguments plus 'stop'.

        slotdiff.denoise(backend, starts, **slotdiff.decoding_preset())
    """
    p = {k: float(f"{v:.7g}") if isinstance(v, float) else v for k, v in _slotdiff._decoding_preset().items()}  # float32 values
    stop_rule = stop.any_of(stop.max_steps(p["max_steps"]), stop.max_length(p["max_length"]),
                            stop.all_of(stop.length_at_least(p["min_length"]), stop.probability_below(p["stop_probability"])))
    kw = {k: p[k] for k in ("temperature", "top_k", "top_p", "repetition_penalty", "min_probability", "no_adjacent_repeat",
                            "candidates", "gaps", "min_insertions", "max_insertions", "min_confidence")}
    kw["stop"] = stop_rule
    return kw


def denoise(backend, starts, stop=None, *, offsets=None, vocabulary_size=None, none_id=NONE, layout="side",
            top_k_output=False, temperature=0.0, top_k=0, top_p=1.0, repetition_penalty=1.0, min_probability=0.0,
            no_adjacent_repeat=False, min_confidence=0.0, max_insertions=None, gaps="one_per_gap", min_insertions=1,
            candidates=16, max_steps=256, max_length=None, seed=0, trace=True):
    """Grows every start sequence (keywords, or empty for the root slot) until `stop` says it is done
    (slotdiff/denoise/denoise.hpp; docs/denoising.md has every option).

    backend: a slotdiff.Backend, or any callable (ids, offsets) -> log-probs, wrapped with
        CallableBackend(fn, vocabulary_size, none_id=, layout=, top_k=top_k_output).
    starts: one 1-D id array (returns one Generation), a list of arrays, or flat ids with offsets=
        (returns a list). stop: a slotdiff.stop policy (default: never; max_steps caps the loop).
    Options and defaults follow the C++ denoise_options: sampling (temperature 0 = greedy, top_k, top_p,
    repetition_penalty, min_probability, no_adjacent_repeat), fill (min_confidence, max_insertions,
    gaps one_per_gap | independent, min_insertions), candidates per slot, max_steps, max_length (a hard
    cap in tokens: a step is trimmed to fit, the most confident kept; None: none beyond the stop
    policy's own, stop.max_length), seed, trace. A sequence also ends when no slot offers an
    admissible word (Generation.ended_by == "nothing_admissible").
    The GIL is released while the loop runs; a Python backend takes it back for its calls only.
    Raises slotdiff.Error for invalid options, start tokens or backend answers (naming sequence and slot).
    """
    if not isinstance(backend, Backend):
        if not callable(backend):
            raise TypeError(f"backend: expected a slotdiff.Backend or a callable, got {type(backend).__name__}")
        if vocabulary_size is None:
            raise TypeError("vocabulary_size: required when the backend is a Python callable")
        backend = CallableBackend(backend, vocabulary_size, none_id=none_id, layout=layout, top_k=top_k_output)
    if stop is None:
        stop = globals()["stop"].never()
    if max_insertions is None:
        max_insertions = 2**63 - 1
    return _slotdiff._denoise(backend, starts, offsets, stop, float(temperature), int(top_k), float(top_p),
                              float(repetition_penalty), float(min_probability), bool(no_adjacent_repeat),
                              float(min_confidence), int(max_insertions), gaps, int(min_insertions), int(candidates),
                              int(max_steps), 2**64 - 1 if max_length is None else int(max_length), int(seed), bool(trace))


def __getattr__(name):  # the dataset needs torch: imported on first use
    if name == "NoisingDataset":
        from .data import NoisingDataset
        return NoisingDataset
    raise AttributeError(f"module 'slotdiff' has no attribute {name!r}")
