import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch (python3-torch) is not installed")

import slotdiff
from slotdiff import stop


@pytest.fixture(scope="module")
def trajectories(vocab, lines):
    # keep 3 keywords: every trajectory ends at its own state (all would share the empty one), which
    # the torch replay below needs, as it sees only the states (the C++ oracle also sees the origins)
    return slotdiff.Noiser(corpus=lines, temperature=0.5, seed=11, keep_keywords=3).noise_text(lines[:40], vocab)


def last_states(trs):
    return [trs.state(i, int(trs.steps[i])) for i in range(len(trs))]


def x0(trs, i):
    return np.asarray(trs.tokens[trs.offsets[i]:trs.offsets[i + 1]])


ORACLE = dict(gaps="independent", min_insertions=0)  # noising may empty both slots of a gap


def test_oracle_rebuilds_x0(vocab, trajectories):
    oracle = slotdiff.OracleBackend(trajectories, len(vocab))
    gens = slotdiff.denoise(oracle, last_states(trajectories), stop.no_change(), **ORACLE)
    assert len(gens) == len(trajectories)
    for i, g in enumerate(gens):
        assert np.array_equal(g.tokens, x0(trajectories, i)), i
        # T steps rebuild x_0; at x_0 the oracle offers nothing and the loop ends the sequence
        assert g.steps == int(trajectories.steps[i]) and g.ended_by == "nothing_admissible"
        assert len(g.trace) == g.steps and all(np.all(s["probability"] == 1.0) for s in g.trace)


class TorchOracle(torch.nn.Module):
    """The same replay as the C++ oracle, as a torch module over (ids, offsets) tensors: a table from
    each state (a tuple of ids) to its per-slot targets; one-hot log-probabilities."""

    def __init__(self, trs, vocabulary):
        super().__init__()
        self.vocabulary = vocabulary
        self.table = {}
        for i in range(len(trs)):
            for t in range(int(trs.steps[i])):
                key, value = tuple(trs.state(i, t + 1).tolist()), trs.targets(i, t).tolist()
                assert self.table.setdefault(key, value) == value, "two trajectories share a state"

    def forward(self, ids, offsets):
        rows = []
        for s in range(len(offsets) - 1):
            seq = tuple(ids[offsets[s]:offsets[s + 1]].tolist())
            slots = 2 * len(seq) if seq else 1
            rows += self.table.get(seq, [slotdiff.NONE] * slots)
        out = torch.full((len(rows), self.vocabulary), float("-inf"))
        out[torch.arange(len(rows)), torch.tensor(rows, dtype=torch.long)] = 0.0
        return out


def test_a_torch_module_backend_reproduces_the_oracle(vocab, trajectories):
    starts = last_states(trajectories)
    want = slotdiff.denoise(slotdiff.OracleBackend(trajectories, len(vocab)), starts, stop.no_change(), **ORACLE)
    module = TorchOracle(trajectories, len(vocab))
    got = slotdiff.denoise(module, starts, stop.no_change(), vocabulary_size=len(vocab), **ORACLE)
    for w, g in zip(want, got):
        assert np.array_equal(w.tokens, g.tokens) and np.array_equal(w.births, g.births) and w.steps == g.steps
    # The same as a top-k callable returning numpy.
    def topk(ids, offsets):
        lp = module(torch.from_numpy(ids).long(), torch.from_numpy(offsets)).numpy()
        order = np.argsort(-lp, axis=1, kind="stable")[:, :16]
        return order.astype(np.int32), np.take_along_axis(lp, order, 1)
    got2 = slotdiff.denoise(topk, starts, stop.no_change(), vocabulary_size=len(vocab), top_k_output=True, **ORACLE)
    assert all(np.array_equal(w.tokens, g.tokens) for w, g in zip(want, got2))


def test_nan_and_bad_answers_raise_naming_them(vocab):
    V = 16

    def nan_backend(ids, offsets):
        n = 2 * max(len(ids), 1)
        out = np.full((n, V), np.log(1.0 / V), np.float32)
        out[1, 5] = np.nan
        return out
    with pytest.raises(ValueError, match=r"nan_backend.*NaN log-probability for token 5 at sequence 0, slot 1"):
        slotdiff.denoise(nan_backend, [np.array([4, 6], np.int32)], stop.max_steps(2), vocabulary_size=V)

    def wrong_shape(ids, offsets):
        return np.zeros((3, V), np.float32)
    with pytest.raises(ValueError, match=r"shape \(3, 16\), expected \(4, 16\)"):
        slotdiff.denoise(wrong_shape, [np.array([4, 6], np.int32)], vocabulary_size=V)

    def ints(ids, offsets):
        return np.zeros((4, V), np.int64)
    with pytest.raises(TypeError, match="dtype int64, expected a float dtype"):
        slotdiff.denoise(ints, [np.array([4, 6], np.int32)], vocabulary_size=V)

    def unnormalised(ids, offsets):
        return np.zeros((4, V), np.float32)
    with pytest.raises(slotdiff.Error, match="sums to 16"):
        slotdiff.denoise(unnormalised, [np.array([4, 6], np.int32)], vocabulary_size=V)

    def raises(ids, offsets):
        raise KeyError("from the model")
    with pytest.raises(KeyError, match="from the model"):
        slotdiff.denoise(raises, [np.array([4, 6], np.int32)], vocabulary_size=V)
    with pytest.raises(TypeError, match="vocabulary_size: required"):
        slotdiff.denoise(raises, [np.array([4])])
    with pytest.raises(slotdiff.Error, match="invalid token id 99 at position 0"):
        slotdiff.denoise(unnormalised, [np.array([99])], vocabulary_size=V)
    with pytest.raises(TypeError, match=r"starts\[0\]: dtype float64"):
        slotdiff.denoise(unnormalised, [np.array([4.0])], vocabulary_size=V)


def test_uniform_backend_and_stops(vocab):
    V = 12
    calls = []

    def uniform(ids, offsets):
        calls.append(len(offsets) - 1)
        slots = sum(2 * (offsets[i + 1] - offsets[i]) or 1 for i in range(len(offsets) - 1))
        return torch.full((slots, V), -np.log(V - 3)).index_fill_(1, torch.tensor([0, 1, 2]), float("-inf"))
    starts = [np.array([], np.int32), np.array([5, 6], np.int32)]
    gens = slotdiff.denoise(uniform, starts, stop.max_length(6) | stop.max_steps(3), vocabulary_size=V, seed=1)
    assert all(g.steps <= 3 and (len(g.tokens) >= 6 or g.steps == 3) for g in gens)
    assert calls[0] == 2 and sum(calls) == sum(g.steps for g in gens) + sum(not g.hit_step_cap for g in gens)
    assert gens[1].tokens[gens[1].births == 0].tolist() == [5, 6]  # the keywords stay, in order
    # every step inserts at most one token per gap and at least one (the progress rule)
    for g in gens:
        assert all(1 <= len(s["tokens"]) for s in g.trace)
    # the policies on their own
    r = dict(steps=2, length=7, inserted_last=0, best_insertion=0.1)
    assert stop.max_steps(2)(**r) and not stop.max_steps(3)(**r)
    assert stop.no_change()(**r) and stop.probability_below(0.2)(**r)
    assert not stop.all_of(stop.length_at_least(8), stop.probability_below(0.2))(**r)
    assert repr(stop.any_of(stop.max_steps(3), stop.never())) == "stop.any_of(stop.max_steps(3), stop.never())"
    with pytest.raises(slotdiff.Error, match="change_below needs"):
        slotdiff.denoise(uniform, starts, stop.change_below(0.1) | stop.max_steps(1), vocabulary_size=V)
    # the preset runs
    one = slotdiff.denoise(uniform, np.array([5, 6], np.int32), vocabulary_size=V, **slotdiff.decoding_preset())
    assert isinstance(one, slotdiff.Generation) and len(one.tokens) <= 22
    assert slotdiff.decoding_preset()["stop"].length_cap == 22 and stop.never().length_cap is None
    capped = slotdiff.denoise(uniform, starts, stop.max_steps(50), vocabulary_size=V, max_length=5, max_insertions=3)
    assert all(len(g.tokens) <= 5 and g.ended_by == "length_cap" for g in capped)


def test_ngram_backend_trains_saves_and_denoises(vocab, lines, tmp_path):
    model, report = slotdiff.NgramBackend.train_text(lines, vocab, heldout_every=10)
    assert report["train_sentences"] > 200 and report["heldout_nll"] > 0
    lp = model.log_probs([vocab.encode("the fox"), np.array([], np.int32)])
    assert lp.shape == (5, len(vocab)) and np.allclose(np.exp(lp).sum(1), 1, atol=1e-3)
    ids, logp = model.top_k([vocab.encode("the fox")], k=8)
    assert ids.shape == (4, 8) and np.all(np.diff(logp, axis=1) <= 0)
    slotdiff.NgramBackend.save(model, tmp_path / "m.bin")
    again = slotdiff.NgramBackend.load(tmp_path / "m.bin")
    assert np.array_equal(again.log_probs([vocab.encode("the fox")]), lp[:4])
    g = slotdiff.denoise(again, vocab.encode("fox dog"), **slotdiff.decoding_preset(), seed=3)
    assert g.steps > 0 and len(g.tokens) > 2 and "fox" in g.text(vocab)
    assert g.diagram(vocab).count("\n") == g.steps + 1
    assert '"trace"' in g.to_json(vocab)


def test_reference_cpu_backend_matches_the_torch_model(source_dir):
    import sys
    sys.path.insert(0, str(source_dir / "tools"))
    import train_reference as tr
    data = source_dir / "tests" / "reference" / "data"
    vocab = slotdiff.Tokenizer.load(str(data / "tiny_vocab.txt"))
    backend = slotdiff.ReferenceBackend.load(data / "tiny.safetensors", vocab)
    module = tr.load_weights(str(data / "tiny.safetensors"))
    rng = np.random.default_rng(0)
    seqs = [rng.integers(4, len(vocab), size=n).astype(np.int32) for n in (0, 1, 5, 9)]
    want = backend.log_probs(seqs)

    def torch_backend(ids, offsets):
        s = [ids[offsets[i]:offsets[i + 1]].numpy() for i in range(len(offsets) - 1)]
        tok, mask = tr.batch_from_sequences(s, "cpu")
        return tr.slot_rows(module.masked_log_probs(module(tok, mask)), s)
    cb = slotdiff.CallableBackend(lambda i, o: torch_backend(torch.from_numpy(i), torch.from_numpy(o)), len(vocab))
    lp = cb.log_probs(seqs)
    finite = np.isfinite(want)
    assert np.array_equal(finite, np.isfinite(lp))
    assert np.max(np.abs(want[finite] - lp[finite])) < 1e-3
    # Greedy denoising with both gives the same text.
    a = slotdiff.denoise(backend, seqs[1:3], stop.max_steps(3), candidates=8)
    b = slotdiff.denoise(cb, seqs[1:3], stop.max_steps(3), candidates=8)
    assert all(np.array_equal(x.tokens, y.tokens) for x, y in zip(a, b))
