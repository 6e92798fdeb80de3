"""NoisingDataset: noising on the fly inside a PyTorch DataLoader (docs/python.md).

Every epoch draws a fresh trajectory per sentence and a random step of it, so a model never sees
the same fixed trajectory twice (the .npy shards of `slotdiff noise` are one trajectory per
sentence, written once). Everything is seeded: sentence i's example in epoch e depends only on
(seed, e, i), never on the worker, the thread count or the batch it lands in.
"""
import os

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from . import Noiser, Tokenizer, read_lines

from .padding import IGNORE, NEVER_INSERT, NONE, PAD, ROOT, UNK, padded_batch  # noqa: F401 (re-exported)

_MASK64 = (1 << 64) - 1


def _mix(*xs):
    """A 64-bit hash of integers (splitmix64 steps), for per-epoch seeds."""
    h = 0x9E3779B97F4A7C15
    for x in xs:
        h = (h ^ (int(x) & _MASK64)) & _MASK64
        h = (h + 0x9E3779B97F4A7C15) & _MASK64
        z = h
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        h = z ^ (z >> 31)
    return h & ((1 << 63) - 1)


class NoisingDataset(IterableDataset):
    """Batches of training examples noised on the fly.

    source: a text file path, a list of text lines, a list of id arrays, or a pair (ids, offsets).
    vocab: a Tokenizer (or a vocabulary file path); needed for text.
    noiser: a slotdiff.Noiser; by default one is built from **noise_options (scorer, schedule,
        temperature, ...) with the source as its statistics corpus (the CLI's default).
    batch_tokens: padded tokens per batch (examples of similar length go together), or
    batch_size: examples per batch (then batch_tokens is ignored).
    padded: True yields dicts {tokens (B, L), mask (B, L), targets (B, L, 2), sentence (B,), step (B,)}
        for the reference architecture's loss (side layout); False yields the packed form {inputs,
        input_offsets, targets, target_offsets, sentence, step} (any layout).
    seed: fixes everything. Call set_epoch(e) before each epoch (as with DistributedSampler): epoch e
        noises sentence i with the seed hash(seed, e) and index i, and picks its step with another hash,
        so the examples of an epoch are the same whatever the number of workers; fixed=True keeps epoch
        0's trajectories and steps forever.
    steps: "random" (one step per trajectory, drawn each epoch) or "all" (every step of every
        trajectory; with fixed=True exactly what one .npy shard of `slotdiff noise` holds).
    trajectories: K trajectories per sentence per epoch (each gives one example).
    heldout_every / split: sentence i is held out when i % heldout_every == 0; split="train" keeps the
        others, "heldout" only those, "all" every sentence.
    chunk: sentences noised at a time (threads= C++ threads each; 1 inside DataLoader workers).
    Workers split the sentences by index (i % num_workers); the order of batches is shuffled within a
    chunk by a seeded generator (shuffle=False keeps sentence order).
    none_id: the id the targets hold where nothing is inserted; default the vocabulary's none
        (vocab.none, which is 3, Tokenizer.none), or 3 without a vocab. Another model vocabulary passes
        its own.
    """

    def __init__(self, source, vocab=None, *, noiser=None, batch_tokens=2048, batch_size=None, padded=True, seed=0,
                 fixed=False, steps="random", trajectories=1, heldout_every=0, split="all", chunk=4096, threads=1, shuffle=True,
                 none_id=None, **noise_options):
        super().__init__()
        if isinstance(vocab, (str, os.PathLike)):
            vocab = Tokenizer.load(os.fspath(vocab))
        self.vocab = vocab
        if isinstance(source, (str, os.PathLike)):
            source = read_lines(source)
        self.ids = self.offsets = self.lines = None
        if isinstance(source, tuple) and len(source) == 2:
            self.ids, self.offsets = np.asarray(source[0], np.int32), np.asarray(source[1], np.int64)
            n = len(self.offsets) - 1
        elif len(source) and isinstance(source[0], str):
            if vocab is None:
                raise TypeError("vocab: a text source needs a Tokenizer (or a vocabulary path)")
            self.lines = list(source)
            n = len(self.lines)
        else:
            seqs = [np.asarray(s, np.int32) for s in source]
            self.offsets = np.cumsum([0] + [len(s) for s in seqs]).astype(np.int64)
            self.ids = np.concatenate(seqs).astype(np.int32) if seqs else np.zeros(0, np.int32)
            n = len(seqs)
        if split not in ("all", "train", "heldout"):
            raise ValueError(f"split: expected all, train or heldout, got {split!r}")
        idx = np.arange(n, dtype=np.int64)
        if heldout_every and split != "all":
            held = idx % heldout_every == 0
            idx = idx[held] if split == "heldout" else idx[~held]
        elif split != "all":
            raise ValueError("split: train/heldout need heldout_every > 0")
        self.indices = idx
        if noiser is None:
            stats = self.lines if self.lines is not None else [self.ids[self.offsets[i]:self.offsets[i + 1]] for i in range(n)]
            noiser = Noiser(corpus=stats, **noise_options)
        elif noise_options:
            raise TypeError(f"noise options {sorted(noise_options)} given with noiser=; set them on the Noiser")
        if padded and noiser.layout != "side":
            raise ValueError("padded: the reference architecture's batches need layout side (use padded=False)")
        if trajectories > 1 and not fixed and noiser.options["temperature"] == 0 and ".." not in noiser.options["schedule"] \
                and "random" not in noiser.options["scorer"]:
            raise ValueError("trajectories > 1 with a deterministic noiser would repeat one trajectory")
        if batch_size is not None and batch_size <= 0:
            raise ValueError(f"batch_size: must be positive, got {batch_size}")
        if batch_size is None and batch_tokens <= 0:
            raise ValueError(f"batch_tokens: must be positive, got {batch_tokens}")
        self.noiser, self.batch_tokens, self.batch_size, self.padded = noiser, batch_tokens, batch_size, padded
        self.seed, self.fixed, self.trajectories, self.chunk, self.threads = seed, fixed, trajectories, chunk, threads
        self.shuffle = shuffle
        if steps not in ("random", "all"):
            raise ValueError(f"steps: expected random or all, got {steps!r}")
        self.steps = steps
        if none_id is None:
            none_id = vocab.none if vocab is not None else NONE
        if int(none_id) < 0:
            raise ValueError(f"none_id: expected an id >= 0, got {none_id}")
        self.none_id = int(none_id)
        self.epoch = 0

    def set_epoch(self, epoch: int):
        """The epoch the next iteration draws (0, 1, ...); ignored with fixed=True."""
        self.epoch = int(epoch)

    def __len__(self):  # sentences, not batches (the batch count depends on lengths)
        return len(self.indices)

    # -- one epoch ----------------------------------------------------------------------------------
    def examples(self, indices, epoch=None):
        """The packed examples of sentences `indices` (their global numbers) in an epoch: dict of numpy
        arrays inputs, input_offsets, targets, target_offsets, sentence, step."""
        e = 0 if self.fixed else (self.epoch if epoch is None else epoch)
        seed = _mix(self.seed, e)
        indices = np.asarray(indices, np.int64)
        if self.lines is not None:
            trs = self.noiser.noise_text([self.lines[i] for i in indices], self.vocab, trajectories=self.trajectories,
                                         threads=self.threads, indices=indices, seed=seed)
        else:
            trs = self.noiser.noise([self.ids[self.offsets[i]:self.offsets[i + 1]] for i in indices],
                                    trajectories=self.trajectories, threads=self.threads, indices=indices, seed=seed)
        ex = trs.examples(None if self.steps == "all" else trs.random_steps(_mix(seed, 0x5EED)), none_id=self.none_id)
        ex["sentence"] = np.asarray(trs.sentence)[ex["trajectory"]]
        return ex

    def _batches(self, ex, rng):
        io = ex["input_offsets"]
        lens = np.diff(io)
        n = len(lens)
        if n == 0:
            return []
        tie = rng.permutation(n) if self.shuffle else np.arange(n)
        order = np.lexsort((tie, np.maximum(lens, 1)))  # by length, ties at random
        out, start = [], 0
        while start < n:
            if self.batch_size is not None:
                end = min(n, start + self.batch_size)
            else:
                end = start + 1
                while end < n and max(int(lens[order[end]]), 1) * (end - start + 1) <= self.batch_tokens:
                    end += 1
            out.append(order[start:end])
            start = end
        if self.shuffle:
            rng.shuffle(out)
        return out

    def _emit(self, ex, rows):
        if self.padded:
            tok, m, tgt = padded_batch(ex["inputs"], ex["input_offsets"], ex["targets"], ex["target_offsets"], rows)
            return {"tokens": tok, "mask": m, "targets": tgt, "sentence": torch.from_numpy(ex["sentence"][rows]),
                    "step": torch.from_numpy(ex["step"][rows])}
        io, to = ex["input_offsets"], ex["target_offsets"]
        ins = [ex["inputs"][io[r]:io[r + 1]] for r in rows]
        tgs = [ex["targets"][to[r]:to[r + 1]] for r in rows]
        return {"inputs": torch.from_numpy(np.concatenate(ins).astype(np.int64)),
                "input_offsets": torch.from_numpy(np.cumsum([0] + [len(x) for x in ins]).astype(np.int64)),
                "targets": torch.from_numpy(np.concatenate(tgs).astype(np.int64)),
                "target_offsets": torch.from_numpy(np.cumsum([0] + [len(x) for x in tgs]).astype(np.int64)),
                "sentence": torch.from_numpy(ex["sentence"][rows]), "step": torch.from_numpy(ex["step"][rows])}

    def __iter__(self):
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
        mine = self.indices[self.indices % nw == wid]
        e = 0 if self.fixed else self.epoch
        for c, start in enumerate(range(0, len(mine), self.chunk)):
            part = mine[start:start + self.chunk]
            ex = self.examples(part, e)
            rng = np.random.default_rng([self.seed, e, wid, nw, c])
            for rows in self._batches(ex, rng):
                yield self._emit(ex, rows)
