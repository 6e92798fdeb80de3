import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch (python3-torch) is not installed")

import slotdiff
from slotdiff.data import IGNORE, NoisingDataset  # noqa: E402 (after the torch check)

DataLoader = torch.utils.data.DataLoader


def collect(ds, workers):
    """Every example of one pass, as (sentence, step, tokens, targets) tuples, plus the batch count."""
    out, batches = [], 0
    for b in DataLoader(ds, batch_size=None, num_workers=workers):
        batches += 1
        for r in range(len(b["sentence"])):
            m = b["mask"][r]
            out.append((int(b["sentence"][r]), int(b["step"][r]), tuple(b["tokens"][r][m].tolist()),
                        tuple(b["targets"][r][m].flatten().tolist())))
    return sorted(out), batches


@pytest.fixture(scope="module")
def dataset(vocab, lines):
    return NoisingDataset(lines[:200], vocab, temperature=0.5, seed=4, batch_tokens=256, chunk=64)


def test_the_same_examples_with_any_number_of_workers(dataset):
    one, _ = collect(dataset, 0)
    two, _ = collect(dataset, 2)
    assert len(one) == len({e[0] for e in one}) > 150  # one example per sentence (that has a step)
    assert one == two
    again, _ = collect(dataset, 2)
    assert again == two


def test_a_fresh_trajectory_each_epoch_and_fixed_keeps_one(vocab, lines, dataset):
    dataset.set_epoch(0)
    e0, _ = collect(dataset, 0)
    dataset.set_epoch(1)
    e1, _ = collect(dataset, 0)
    dataset.set_epoch(0)
    assert e0 != e1
    changed = sum(a != b for a, b in zip(e0, e1))
    assert changed > len(e0) // 3
    fixed = NoisingDataset(lines[:200], vocab, temperature=0.5, seed=4, batch_tokens=256, fixed=True)
    fixed.set_epoch(0)
    f0, _ = collect(fixed, 0)
    fixed.set_epoch(5)
    assert collect(fixed, 0)[0] == f0


def test_padded_batches_feed_the_reference_loss(dataset, vocab):
    b = next(iter(dataset))
    tok, m, tgt = b["tokens"], b["mask"], b["targets"]
    B, L = tok.shape
    assert m.shape == (B, L) and tgt.shape == (B, L, 2) and tok.dtype == torch.int64
    assert tok.numel() <= 256 or B == 1
    assert torch.all(tgt[~m] == IGNORE)
    assert torch.all((tgt[m] == IGNORE) | (tgt[m] >= 3))  # pad, unk, root are never targets
    # the padded form holds the same example as the packed one
    packed = NoisingDataset(dataset.lines[:200], vocab, temperature=0.5, seed=4, batch_tokens=256, chunk=64, padded=False)
    p = next(iter(packed))
    r0 = int(p["sentence"][0])
    ex = dataset.examples([r0])
    n = int(p["input_offsets"][1])
    assert p["inputs"][:n].tolist() == ex["inputs"].tolist()


def test_ids_source_and_splits(vocab, lines):
    ids, offsets = vocab.encode_batch(lines[:100])
    ds = NoisingDataset((ids, offsets), batch_size=8, heldout_every=10, split="train", seed=1)
    assert len(ds) == 90
    seen = set()
    for b in ds:
        assert b["tokens"].shape[0] <= 8
        seen.update(b["sentence"].tolist())
    assert seen and all(s % 10 for s in seen)
    held = NoisingDataset((ids, offsets), batch_size=8, heldout_every=10, split="heldout", seed=1)
    assert len(held) == 10


def test_bad_options_raise(vocab, lines):
    with pytest.raises(TypeError, match="vocab"):
        NoisingDataset(lines[:10])
    with pytest.raises(ValueError, match="layout side"):
        NoisingDataset(lines[:10], vocab, layout="gap")
    with pytest.raises(ValueError, match="batch_size"):
        NoisingDataset(lines[:10], vocab, batch_size=0)
    with pytest.raises(ValueError, match="split"):
        NoisingDataset(lines[:10], vocab, split="valid")


def test_none_id_reaches_the_targets(vocab, lines):
    base = NoisingDataset(lines[:50], vocab, seed=2, padded=False, shuffle=False)
    other = NoisingDataset(lines[:50], vocab, seed=2, padded=False, shuffle=False, none_id=7)
    assert base.none_id == vocab.none == 3
    a, b = base.examples(base.indices), other.examples(other.indices)
    assert a["inputs"].tolist() == b["inputs"].tolist()
    assert b["targets"].tolist() == [7 if x == 3 else x for x in a["targets"].tolist()]
    with pytest.raises(ValueError, match="none_id"):
        NoisingDataset(lines[:10], vocab, none_id=-2)
