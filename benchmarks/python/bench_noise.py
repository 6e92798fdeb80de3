#!/usr/bin/python3
"""Noising through Python vs the `slotdiff noise` CLI, and the per-step cost of a Python backend.

    PYTHONPATH=build/h-python/python /usr/bin/python3 benchmarks/python/bench_noise.py \
        --cli build/h-python/tools/cli/slotdiff --lines 20000 --threads 2 --repeat 3

1. Noising: the same corpus, scorer, options and threads. The CLI's figure is its own summary line
   ("noising and writing ... sentences/s": the noising plus building and writing the .npy shard);
   the Python figure times Noiser.noise_text plus Trajectories.examples() (the shard's arrays, in
   memory). Also the end-to-end wall time of each (CLI process start to exit; Python: statistics,
   tokenisation, noising, examples). Best of --repeat runs, as the machine may be shared.
2. Denoising: a Python callable backend that returns precomputed top-k arrays (no model work), so
   what is measured is the crossing: building the (ids, offsets) arrays, the call, checking and
   copying the answer. Reported per call (one call per denoising step of a whole batch) and per
   sequence-step; plus the same for a small torch module (embedding + linear head).
"""
import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]


def best(f, repeat):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    return min(times), out


def bench_noising(args, slotdiff, lines, vocab, opts, kw, k):
    """The CLI's noising rate against Noiser.noise_text + examples() on the same lines and threads,
    the runs alternating (CLI, Python, CLI, ...) so that a change in the machine's load hits both."""
    noiser = slotdiff.Noiser(corpus=lines, **kw)  # warm-up and the statistics' time
    t0 = time.perf_counter()
    noiser = slotdiff.Noiser(corpus=lines, **kw)
    t_build = time.perf_counter() - t0
    cli_rate, cli_wall, py_time = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp, "in.txt")
        src.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            r = subprocess.run([args.cli, "noise", str(src), "--vocab", args.vocab, "--threads", str(args.threads),
                                "--no-progress", "--format", "npy", "--out", str(pathlib.Path(tmp, "shard"))] + opts,
                               check=True, capture_output=True, text=True)
            cli_wall.append(time.perf_counter() - t0)
            m = re.search(r"noising and writing ([0-9.e+-]+) s, ([0-9.e+-]+) sentences/s", r.stderr)
            cli_rate.append(float(m.group(2)))
            t0 = time.perf_counter()
            trs = noiser.noise_text(lines, vocab, trajectories=k, threads=args.threads)
            ex = trs.examples()
            py_time.append(time.perf_counter() - t0)
    rate = len(lines) / min(py_time)
    print(f"CLI:    noising + shard    {max(cli_rate):9,.0f} sentences/s (runs: {', '.join(f'{x:,.0f}' for x in cli_rate)}); "
          f"whole command {min(cli_wall):6.2f} s")
    print(f"Python: noising + examples {rate:9,.0f} sentences/s (runs: {', '.join(f'{len(lines) / x:,.0f}' for x in py_time)}; "
          f"{len(trs):,} trajectories, {len(ex['trajectory']):,} examples); statistics {t_build:.2f} s; "
          f"whole {t_build + min(py_time):6.2f} s")
    print(f"ratio CLI / Python sentences/s (best runs): {max(cli_rate) / rate:.2f}x")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True, help="the slotdiff binary (a release build)")
    ap.add_argument("--corpus", default=str(ROOT / "data/corpus/train.txt"))
    ap.add_argument("--vocab", default=str(ROOT / "data/corpus/vocab.txt"))
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-noise", action="store_true", help="only the denoising part")
    ap.add_argument("--cli-args", default="--temperature 0.5 --trajectories 4 --seed 1",
                    help="noising options, in the CLI's spelling (mapped to the Noiser below)")
    args = ap.parse_args()
    import slotdiff

    with open(args.corpus, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for _, l in zip(range(args.lines), f)]
    vocab = slotdiff.Tokenizer.load(args.vocab)
    opts = args.cli_args.split()
    kw, k = {}, 1
    for name, value in zip(opts[::2], opts[1::2]):
        if name == "--trajectories":
            k = int(value)
        else:
            kw[name[2:].replace("-", "_")] = float(value) if name == "--temperature" else (int(value) if name == "--seed" else value)
    print(f"corpus: {len(lines):,} lines of {args.corpus}; options {args.cli_args}; {args.threads} threads; best of {args.repeat}")

    if not args.skip_noise:
        bench_noising(args, slotdiff, lines, vocab, opts, kw, k)

    # ---- the Python backend's crossing --------------------------------------------------------------
    V, K = len(vocab), 16
    # none (id 3) first at 0.9, so greedy decoding inserts one token a step (the progress rule) and
    # the sequences stay short: the measure is the crossing, not the growth of the batch
    big_ids = np.tile(np.concatenate([[3], np.arange(4, 3 + K)]).astype(np.int32), (1 << 16, 1))
    big_lp = np.tile(np.log(np.concatenate([[0.9], np.full(K - 1, 0.1 / (K - 1))])).astype(np.float32), (1 << 16, 1))

    def constant(ids, offsets):
        slots = 2 * len(ids) + int(np.count_nonzero(np.diff(offsets) == 0))
        return big_ids[:slots], big_lp[:slots]
    starts = [vocab.encode(l)[:3] for l in lines[:64]]
    for name, fn, topk in [("precomputed top-k (numpy)", constant, True)]:
        b = slotdiff.CallableBackend(fn, V, top_k=True, name=name)
        t, gens = best(lambda: slotdiff.denoise(b, starts, slotdiff.stop.max_steps(8), candidates=K), args.repeat)
        calls, seq_steps = b.python_calls, sum(g.steps + 1 for g in gens)
        print(f"{name}: {t / (calls / args.repeat) * 1e6:8.1f} us per call of 64 sequences (whole loop), "
              f"{b.python_seconds / calls * 1e6:8.1f} us of it crossing into Python; "
              f"{t / (seq_steps / args.repeat) * 1e6:6.1f} us per sequence-step")
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(0)

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(V, 64)
            self.head = torch.nn.Linear(64, 2 * V)

        def forward(self, ids, offsets):
            h = self.emb(ids)
            lp = torch.log_softmax(self.head(h).view(-1, 2, V), -1).reshape(-1, V)
            n_empty = int((offsets[1:] == offsets[:-1]).sum())
            if n_empty:  # the root slot of an empty sequence
                lp = torch.cat([lp, torch.full((n_empty, V), -float(np.log(V)))])
            return lp
    torch.set_num_threads(args.threads)
    b = slotdiff.CallableBackend(Tiny(), V, name="tiny torch module")
    t, gens = best(lambda: slotdiff.denoise(b, starts, slotdiff.stop.max_steps(8), candidates=K), 1)
    calls = b.python_calls
    print(f"tiny torch module (full log-probs over {V:,} ids): {t / calls * 1e3:7.2f} ms per call of 64 sequences, "
          f"{b.python_seconds / calls * 1e3:7.2f} ms of it in Python (model + conversion); the rest is the loop's top-k")


if __name__ == "__main__":
    sys.exit(main())
