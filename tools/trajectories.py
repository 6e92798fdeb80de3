"""Compact trajectory sets and the training examples they expand to (side_slots), with numpy only.

A shard folder of `slotdiff noise --format npy` stores every example x_{t+1} -> targets written out,
which for K trajectories per sentence is hundreds of MB. A trajectory set keeps only what defines
them, and the trainer draws examples from it afresh every epoch:

  tokens       uint16/int32 [sum n_i]   each distinct sentence's x_0 once (vocabulary ids)
  offsets      int64 [N+1]             sentence i is tokens[offsets[i]:offsets[i+1]]
  traj_sent    int32 [S]               the sentence of trajectory s
  removed_at   uint8 [sum n_{traj_sent[s]}]  per trajectory, per token of its x_0: the step that
                                        removes it, 1..T; T+1 for a token still in x_T (docs/formats.md)
  roffsets     int64 [S+1]             trajectory s's removed_at slice
  steps        int32 [S]               T of trajectory s
  sentence_ids int64 [S]               the input line of trajectory s (for held-out rules)
  vocabulary, none_id                  scalars, copied from shard.json

examples(ts) builds x_{t+1} and its per-slot targets for a chosen t per trajectory, vectorised, with
the library's rule (include/slotdiff/noise/trajectory.hpp, targets_into): the tokens removed from one
gap fill that gap's slots from the first; gap g of x_{t+1} (g kept tokens before it) has the slots
max(2g-1, 0) and 2g (side_slots: right of token g-1, left of token g); an empty x_{t+1} has one root
slot. `check_against_shard` compares the result with the C++ writer's examples.

    /usr/bin/python3 tools/trajectories.py pack SHARD_DIR OUT.npz     # shard folder -> trajectory set
    /usr/bin/python3 tools/trajectories.py check SHARD_DIR            # this expansion == the shard's
"""
import json
import pathlib
import sys

import numpy as np


def pack(shard_dir, out_path):
    """Reads a shard folder's trajectory arrays and writes the compact set (np.savez_compressed)."""
    d = pathlib.Path(shard_dir)
    meta = json.loads((d / "shard.json").read_text())
    if meta.get("layout") != "side_slots":
        raise SystemExit(f"{d}: layout {meta.get('layout')}, only side_slots is supported")
    x0 = np.load(d / "x0_tokens.npy")
    xo = np.load(d / "x0_offsets.npy")
    rem = np.load(d / "removed_at.npy")
    steps = np.load(d / "steps.npy")
    sids = np.load(d / "sentence_ids.npy")
    if rem.size and int(rem.max()) > 255:
        raise SystemExit(f"{d}: a trajectory has more than 254 steps; uint8 removed_at cannot hold it")
    # One copy of each sentence: trajectories of one input line share their x_0.
    uniq, first, inverse = np.unique(sids, return_index=True, return_inverse=True)
    lens = np.diff(xo)
    soff = np.concatenate([[0], np.cumsum(lens[first])]).astype(np.int64)
    tokens = np.concatenate([x0[xo[i]:xo[i + 1]] for i in first]) if len(first) else np.zeros(0, np.int32)
    for s in range(len(sids)):  # every trajectory's x_0 must equal its sentence's copy
        i = inverse[s]
        if not np.array_equal(x0[xo[s]:xo[s + 1]], tokens[soff[i]:soff[i + 1]]):
            raise SystemExit(f"{d}: trajectories of input line {sids[s]} disagree on x_0")
    vocab = int(meta["vocabulary"])
    tmp = pathlib.Path(str(out_path) + ".tmp.npz")
    np.savez_compressed(tmp, tokens=tokens.astype(np.uint16 if vocab <= 65536 else np.int32), offsets=soff,
                        traj_sent=inverse.astype(np.int32), removed_at=rem.astype(np.uint8), roffsets=xo.astype(np.int64),
                        steps=steps.astype(np.int32), sentence_ids=sids.astype(np.int64),
                        vocabulary=np.int64(vocab), none_id=np.int64(meta.get("none_id", 3)))
    tmp.replace(out_path)
    return len(uniq), len(sids)


class TrajectorySet:
    def __init__(self, path):
        z = np.load(path)
        self.path = str(path)
        self.tokens = z["tokens"].astype(np.int64)
        self.offsets = z["offsets"]
        self.traj_sent = z["traj_sent"].astype(np.int64)
        self.removed_at = z["removed_at"].astype(np.int32)
        self.roffsets = z["roffsets"]
        self.steps = z["steps"].astype(np.int64)
        self.sentence_ids = z["sentence_ids"]
        self.vocabulary = int(z["vocabulary"])
        self.none_id = int(z["none_id"])
        n = len(self.steps)
        if len(self.traj_sent) != n or len(self.roffsets) != n + 1 or len(self.sentence_ids) != n:
            raise SystemExit(f"{path}: trajectory arrays disagree in length")
        if not np.array_equal(np.diff(self.roffsets), np.diff(self.offsets)[self.traj_sent]):
            raise SystemExit(f"{path}: removed_at slices do not match their sentences' lengths")

    def __len__(self):
        return len(self.steps)

    def examples(self, traj, t):
        """x_{t+1} and targets for trajectories `traj` at steps `t` (0 <= t < steps[traj]).
        Returns (inputs, input_offsets, targets, target_offsets), packed like a shard's arrays."""
        traj = np.asarray(traj, np.int64)
        t = np.asarray(t, np.int64)
        if len(traj) and (np.any(t < 0) or np.any(t >= self.steps[traj])):
            raise ValueError("a step lies outside [0, T-1] of its trajectory")
        lens = np.diff(self.roffsets)[traj]
        total = int(lens.sum())
        ex = np.repeat(np.arange(len(traj)), lens)                       # example of each token
        start = np.concatenate([[0], np.cumsum(lens)[:-1]]) if len(traj) else np.zeros(0, np.int64)
        within = np.arange(total) - np.repeat(start, lens)
        tok = self.tokens[self.offsets[self.traj_sent[traj]][ex] + within] if total else np.zeros(0, np.int64)
        r = self.removed_at[self.roffsets[traj][ex] + within] if total else np.zeros(0, np.int64)
        tt = t[ex] + 1
        present = r > tt            # in x_{t+1}
        target = r == tt            # in x_t, not in x_{t+1}
        n_in = np.bincount(ex, weights=present, minlength=len(traj)).astype(np.int64)
        io = np.concatenate([[0], np.cumsum(n_in)])
        inputs = tok[present]
        nslots = np.where(n_in == 0, 1, 2 * n_in)
        to = np.concatenate([[0], np.cumsum(nslots)])
        targets = np.full(int(to[-1]), self.none_id, np.int64)
        # g: kept tokens before each token in its example (exclusive count).
        pc = np.cumsum(present) - present
        g = pc - io[:-1][ex]
        # rank within its gap: 1 when the previous token of x_t in the same example is also a target.
        xt = np.flatnonzero(present | target)
        rank = np.zeros(total, np.int64)
        if len(xt) > 1:
            prev_t = target[xt[:-1]] & (ex[xt[:-1]] == ex[xt[1:]])
            rank[xt[1:]] = prev_t
        slot = np.maximum(2 * g - 1, 0) + rank
        tg = np.flatnonzero(target)
        targets[to[:-1][ex[tg]] + slot[tg]] = tok[tg]
        return inputs, io, targets, to

    def sample_steps(self, rng, traj=None):
        """One step per trajectory, uniform over 0..T-1."""
        traj = np.arange(len(self)) if traj is None else np.asarray(traj)
        return traj, (rng.random(len(traj)) * self.steps[traj]).astype(np.int64)

    def all_steps(self, traj=None):
        """Every step of every trajectory (what a shard folder holds)."""
        traj = np.arange(len(self)) if traj is None else np.asarray(traj)
        reps = self.steps[traj]
        tr = np.repeat(traj, reps)
        t = np.arange(int(reps.sum())) - np.repeat(np.concatenate([[0], np.cumsum(reps)[:-1]]), reps)
        return tr, t


def check_against_shard(shard_dir):
    """Packs `shard_dir` in memory and checks that all_steps() rebuilds its inputs and targets."""
    import tempfile
    d = pathlib.Path(shard_dir)
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "set.npz"
        pack(d, path)
        ts = TrajectorySet(path)
        tr, t = ts.all_steps()
        inputs, io, targets, to = ts.examples(tr, t)
    ref_in, ref_io = np.load(d / "inputs.npy"), np.load(d / "input_offsets.npy")
    ref_tg, ref_to = np.load(d / "targets.npy"), np.load(d / "target_offsets.npy")
    ref_sent, ref_step = np.load(d / "example_sentence.npy"), np.load(d / "example_step.npy")
    if not (np.array_equal(ref_sent, tr) and np.array_equal(ref_step, t + 1)):
        raise SystemExit("check: the shard's example order differs from (trajectory, step) order")
    for name, a, b in (("input offsets", io, ref_io), ("inputs", inputs, ref_in), ("target offsets", to, ref_to),
                       ("targets", targets, ref_tg)):
        if not np.array_equal(a, b):
            bad = np.flatnonzero(a != b)[:5] if len(a) == len(b) else f"lengths {len(a)} vs {len(b)}"
            raise SystemExit(f"check: {name} differ from the shard's ({bad})")
    return len(tr)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "pack":
        n, s = pack(sys.argv[2], sys.argv[3])
        print(f"packed {s} trajectories of {n} sentences into {sys.argv[3]}")
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        print(f"check: {check_against_shard(sys.argv[2])} examples equal to the shard's")
    else:
        print(__doc__)
        sys.exit(2)
