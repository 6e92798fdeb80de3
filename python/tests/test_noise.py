import json
import subprocess

import numpy as np
import pytest

import slotdiff
from conftest import ragged

# (CLI arguments, Noiser keyword arguments, trajectories per line, lines used)
CASES = [
    ([], {}, 1, 300),
    (["--scorer", "info", "--schedule", "count:2", "--select", "greedy"],
     {"scorer": "info", "schedule": "count:2", "selection": "greedy"}, 1, 300),
    (["--scorer", "tfidf", "--layout", "gap", "--keep", "2"], {"scorer": "tfidf", "layout": "gap", "keep_keywords": 2}, 1, 300),
    (["--scorer", "random", "--trajectories", "3"], {"scorer": "random"}, 3, 300),
    (["--temperature", "0.5", "--trajectories", "4", "--seed", "7", "--protect", "the,of"],
     {"temperature": 0.5, "seed": 7, "protect": ["the", "of"]}, 4, 300),
    (["--schedule", "fraction:0.3..0.7", "--trajectories", "2", "--seed", "3"], {"schedule": "fraction:0.3..0.7", "seed": 3}, 2, 300),
    (["--scorer", "mix:idf=0.5,random=0.5", "--schedule", "max"], {"scorer": "mix:idf=0.5,random=0.5", "schedule": "max"}, 1, 300),
    (["--scorer", "shift", "--metric", "euclidean", "--embedder", "EMBEDDER"], {"scorer": "shift", "metric": "euclidean", "embedder": "default"}, 1, 120),
    (["--scorer", "dynamic", "--temperature", "0.5", "--embedder", "EMBEDDER"], {"scorer": "dynamic", "temperature": 0.5, "embedder": "default"}, 1, 40),
]


@pytest.mark.parametrize("cli_args,kwargs,k,count", CASES, ids=[" ".join(c[0]) or "default" for c in CASES])
def test_same_seed_same_trajectories_as_the_cli(cli, vocab, lines, source_dir, tmp_path, cli_args, kwargs, k, count):
    text = lines[:count]
    corpus = tmp_path / "in.txt"
    corpus.write_text("\n".join(text) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    cli_args = [str(source_dir / "data/corpus/embedder.sdsif") if a == "EMBEDDER" else a for a in cli_args]
    subprocess.run([cli, "noise", str(corpus), "--vocab", str(source_dir / "data/corpus/vocab.txt"), "--threads", "2",
                    "--no-progress", "--out", str(out)] + cli_args, check=True, capture_output=True)
    want = [json.loads(l) for l in out.read_text().splitlines()]
    noiser = slotdiff.Noiser(corpus=text, **kwargs)
    trs = noiser.noise_text(text, vocab, trajectories=k, threads=2)
    assert len(trs) == len(want) > 0
    for i, w in enumerate(want):
        tokens, removed = ragged(trs, i)
        assert int(trs.sentence[i]) == w["id"]
        assert int(trs.sample[i]) == w.get("trajectory", 0)
        assert int(trs.steps[i]) == w["steps"], i
        assert tokens.tolist() == w["tokens"]
        assert removed.tolist() == w["removed_at"], i


def test_targets_rebuild_every_state(vocab, lines):
    for layout in ("side", "gap"):
        noiser = slotdiff.Noiser(corpus=lines, layout=layout, schedule="fraction:0.4", temperature=0.3, seed=5)
        trs = noiser.noise_text(lines[:60], vocab, trajectories=2)
        slots_per = (lambda n: 2 * n if n else 1) if layout == "side" else (lambda n: n + 1)
        for i in range(len(trs)):
            for t in range(int(trs.steps[i])):
                x_t, x_next, tg = trs.state(i, t), trs.state(i, t + 1), trs.targets(i, t)
                assert len(tg) == slots_per(len(x_next))
                # Put each slot's target back into x_{t+1}: side slot 2j is left of token j, 2j+1 right.
                rebuilt = []
                if layout == "side":
                    if len(x_next) == 0:
                        rebuilt = [g for g in tg if g != slotdiff.NONE]
                    for j, tok in enumerate(x_next):
                        rebuilt += [g for g in tg[2 * j:2 * j + 1] if g != slotdiff.NONE] + [int(tok)] + \
                                   [g for g in tg[2 * j + 1:2 * j + 2] if g != slotdiff.NONE]
                else:
                    for j in range(len(x_next) + 1):
                        if tg[j] != slotdiff.NONE:
                            rebuilt.append(int(tg[j]))
                        if j < len(x_next):
                            rebuilt.append(int(x_next[j]))
                assert rebuilt == x_t.tolist(), (layout, i, t)


def test_threads_batches_and_forms_agree(vocab, lines):
    noiser = slotdiff.Noiser(corpus=[vocab.encode(l) for l in lines], temperature=0.5, seed=2)
    assert noiser.space == "ids"
    seqs = [vocab.encode(l) for l in lines[:80]]
    a = noiser.noise(seqs, threads=1, trajectories=3)
    b = noiser.noise(seqs, threads=3, trajectories=3)
    flat = np.concatenate(seqs)
    offsets = np.cumsum([0] + [len(s) for s in seqs])
    c = noiser.noise(flat, offsets=offsets, threads=2, trajectories=3)
    for x in (b, c):
        assert np.array_equal(a.tokens, x.tokens) and np.array_equal(a.removed_at, x.removed_at)
        assert np.array_equal(a.steps, x.steps) and np.array_equal(a.sentence, x.sentence)
    # A sentence keeps its trajectory in a smaller batch when it keeps its index.
    d = noiser.noise(seqs[40:], indices=np.arange(40, 80), trajectories=3)
    first = int(np.searchsorted(a.sentence, 40))
    assert np.array_equal(d.removed_at, a.removed_at[a.offsets[first]:])
    # One sequence.
    one = noiser.noise(seqs[0])
    assert len(one) == 1 and np.array_equal(one.removed_at, a.removed_at[:len(seqs[0])])
    # int64 input is converted, int32 viewed; both give the same.
    e = noiser.noise([s.astype(np.int64) for s in seqs], trajectories=3)
    assert np.array_equal(a.removed_at, e.removed_at)


def test_results_are_zero_copy_views(vocab, lines):
    trs = slotdiff.Noiser(corpus=lines).noise_text(lines[:20], vocab)
    tokens = trs.tokens
    assert tokens.base is not None and not tokens.flags.owndata
    assert np.shares_memory(tokens, trs.tokens)
    del trs  # the view keeps the trajectories alive
    assert tokens.sum() > 0


def test_examples_match_the_shard_layout(vocab, lines):
    trs = slotdiff.Noiser(corpus=lines).noise_text(lines[:30], vocab)
    ex = trs.examples()
    assert len(ex["input_offsets"]) == int(np.sum(trs.steps)) + 1
    j = 0
    for i in range(len(trs)):
        for t in range(int(trs.steps[i])):
            io, to = ex["input_offsets"], ex["target_offsets"]
            assert np.array_equal(ex["inputs"][io[j]:io[j + 1]], trs.state(i, t + 1))
            assert np.array_equal(ex["targets"][to[j]:to[j + 1]], trs.targets(i, t))
            assert ex["trajectory"][j] == i and ex["step"][j] == t
            j += 1
    steps = trs.random_steps(seed=9)
    assert np.all((steps >= 0) & (steps < np.maximum(trs.steps, 1)))
    one = trs.examples(steps)
    assert len(one["trajectory"]) == int(np.sum(steps >= 0))
    assert np.array_equal(steps, trs.random_steps(seed=9))


def test_bad_input_raises_naming_it(vocab, lines):
    noiser = slotdiff.Noiser(corpus=[vocab.encode(l) for l in lines[:20]])
    with pytest.raises(TypeError, match="dtype float64 is not an integer dtype"):
        noiser.noise(np.array([4.0, 5.0, 6.0]))
    with pytest.raises(TypeError, match=r"ids\[1\]: dtype float32"):
        noiser.noise([np.array([4, 5]), np.array([1.5], np.float32)])
    with pytest.raises(ValueError, match="offsets: last entry is 5, but ids holds 6 ids"):
        noiser.noise(np.arange(4, 10), offsets=[0, 2, 5])
    with pytest.raises(ValueError, match="offsets: decrease at entry 2"):
        noiser.noise(np.arange(4, 10), offsets=[0, 4, 2, 6])
    with pytest.raises(ValueError, match="offsets: first entry is 1"):
        noiser.noise(np.arange(4, 10), offsets=[1, 6])
    with pytest.raises(ValueError, match="token id -3 at position 1 is negative"):
        noiser.noise(np.array([4, -3, 5], np.int32))
    with pytest.raises(ValueError, match="indices: 1 entries for 2 sequences"):
        noiser.noise([np.array([4, 5]), np.array([6])], indices=[0])
    with pytest.raises(slotdiff.Error, match="cannot parse \"fraction:7x\""):
        slotdiff.Noiser(corpus=lines, schedule="fraction:7x")
    with pytest.raises(ValueError, match="scorer: expected idf"):
        slotdiff.Noiser("idfx", corpus=lines)
    with pytest.raises(ValueError, match="corpus: the idf scorer"):
        slotdiff.Noiser("idf")
    with pytest.raises(ValueError, match="trajectories=3: every trajectory would be the same"):
        noiser.noise([np.array([4, 5, 6])], trajectories=3)
    with pytest.raises(ValueError, match="call noise_text"):
        slotdiff.Noiser(corpus=lines).noise(np.array([4, 5]))


def test_targets_with_another_none_id(vocab, lines):
    """none_id= puts that id exactly where "insert nothing" goes, in targets() and examples()."""
    trs = slotdiff.Noiser(corpus=lines, schedule="fraction:0.4").noise_text(lines[:40], vocab)
    for none in (0, 7, 9000):
        for i in range(len(trs)):
            for t in range(int(trs.steps[i])):
                usual, other = trs.targets(i, t), trs.targets(i, t, none_id=none)
                assert other.tolist() == [none if x == slotdiff.Tokenizer.none else x for x in usual.tolist()]
        usual, other = trs.examples()["targets"], trs.examples(none_id=none)["targets"]
        assert other.tolist() == [none if x == slotdiff.Tokenizer.none else x for x in usual.tolist()]
    with pytest.raises(ValueError, match="none_id"):
        trs.targets(0, 0, none_id=-1)
    with pytest.raises(ValueError, match="none_id"):
        trs.examples(none_id=-1)


def test_scorer_names_are_parsed_as_the_cli_parses_them(lines):
    with pytest.raises(ValueError, match=r'scorer: "mix:idf=x": "idf=x" has a weight that is not a finite number >= 0'):
        slotdiff.Noiser("mix:idf=x", corpus=lines)
    with pytest.raises(ValueError, match='"bogus=1" names no scorer that can be mixed'):
        slotdiff.Noiser("mix:bogus=1", corpus=lines)
    with pytest.raises(ValueError, match="repeats a scorer"):
        slotdiff.Noiser("mix:idf,idf=2", corpus=lines)
    with pytest.raises(ValueError, match="metric: expected cosine, euclidean, sqeuclidean or ip"):
        slotdiff.Noiser("idf", corpus=lines, metric="manhattan")
