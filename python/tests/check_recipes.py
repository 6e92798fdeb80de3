#!/usr/bin/python3
"""The "Beyond one machine" recipes (tools/recipes, docs/python.md): N shards merged equal the
one-process output byte for byte, for the CLI's --shard I/N (the Slurm recipe) and for dask_noise.py
on a local cluster of 2 worker processes; each Dask shard equals the CLI's shard byte for byte.

"Merged" is tools/recipes/merge_shards.py: JSONL lines ordered by (id, trajectory), .npy trajectories
ordered by sentence_ids with their examples. Not a pytest file (CTest runs it alone, as python_recipes);
exit 77 (skipped) without dask/distributed or the CLI. Environment: PYTHONPATH with the slotdiff
package, SLOTDIFF_CLI (the slotdiff binary), SLOTDIFF_SOURCE_DIR. About 15 s.
"""
import os
import pathlib
import subprocess
import sys
import tempfile

SOURCE = pathlib.Path(os.environ.get("SLOTDIFF_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(SOURCE / "tools" / "recipes"))


def skip(why):
    print(f"SKIPPED: {why}")
    sys.exit(77)


try:
    import dask  # noqa: F401
    from dask.distributed import Client, LocalCluster
except ImportError as e:
    skip(f"no dask/distributed for {sys.executable} ({e}); install python3-dask python3-distributed (scripts/setup-deps)")
import numpy as np  # noqa: E402
import slotdiff  # noqa: E402

import dask_noise  # noqa: E402
import shard_io  # noqa: E402

CLI = os.environ.get("SLOTDIFF_CLI")
if not CLI or not os.path.exists(CLI):
    skip("no slotdiff CLI (set SLOTDIFF_CLI; CTest does when the tools are built)")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def same_tree(a, b):
    """Byte-for-byte equal files (JSONL) or folders (every file of a .npy shard)."""
    a, b = pathlib.Path(a), pathlib.Path(b)
    if a.is_file() or b.is_file():
        return a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()
    names = sorted(p.name for p in a.iterdir())
    return names == sorted(p.name for p in b.iterdir()) and all((a / n).read_bytes() == (b / n).read_bytes() for n in names)


def make_input(path):
    """300 corpus lines and every line the CLI skips or reads specially: a byte-order mark, CRLF, blank,
    punctuation only, invalid UTF-8, one over --max-tokens 60, joiners, non-ASCII."""
    with open(SOURCE / "data" / "corpus" / "train.txt", "rb") as f:
        corpus = [next(f).rstrip(b"\n") for _ in range(300)]
    extra = [b"", b"  \t ", b"... !!", b"\xff\xfe broken", b"a crlf line, it ends in a return\r",
             b" ".join([b"long"] * 61), b"don't re-enter -- the o'neil case - ok", b"caf\xc3\xa9 na\xc3\xafve d\xc3\xa9j\xc3\xa0 vu"]
    lines = [b"\xef\xbb\xbf" + corpus[0]]
    for i, l in enumerate(corpus[1:]):
        lines.append(l)
        if i % 37 == 0:
            lines.append(extra[(i // 37) % len(extra)])
    path.write_bytes(b"\n".join(lines) + b"\n")
    return len(lines)


def cli_noise(inp, out, args):
    subprocess.run([CLI, "noise", str(inp), "--out", str(out), "--no-progress", "--threads", "2", "--max-tokens", "60"] + args,
                   check=True, capture_output=True)


# (name, CLI options, dask_noise options, format)
CASES = [
    ("jsonl, idf", [], [], "jsonl"),
    ("npy, 2 trajectories, temperature 0.5, gap, seed 3",
     ["--format", "npy", "--trajectories", "2", "--temperature", "0.5", "--layout", "gap", "--seed", "3"],
     ["--format", "npy", "--trajectories", "2", "--temperature", "0.5", "--layout", "gap", "--seed", "3"], "npy"),
    ("jsonl --words, tfidf, 3 trajectories, protect", ["--words", "--scorer", "tfidf", "--trajectories", "3", "--temperature", "1",
                                                       "--protect", "the,of"],
     ["--words", "--scorer", "tfidf", "--trajectories", "3", "--temperature", "1", "--protect", "the,of"], "jsonl"),
]
SHARDS = 3


def main():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        inp = tmp / "in.txt"
        count = make_input(inp)
        check(len(shard_io.read_line_bytes(inp)) == count, f"{count} input lines read as the CLI reads them")
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        try:
            check(len(client.scheduler_info()["workers"]) == 2, "a local cluster of 2 worker processes")
            for n, (name, cli_args, dask_args, fmt) in enumerate(CASES):
                case = tmp / f"case{n}"
                whole = case / ("whole.jsonl" if fmt == "jsonl" else "whole")
                case.mkdir()
                cli_noise(inp, whole, cli_args)
                # The Slurm recipe: one CLI run per shard.
                cli_shards = []
                for i in range(SHARDS):
                    cli_shards.append(shard_io.shard_name(str(case / "cli"), i, SHARDS, fmt))
                    os.makedirs(case / "cli", exist_ok=True)
                    cli_noise(inp, cli_shards[-1], cli_args + ["--shard", f"{i}/{SHARDS}"])
                merge = shard_io.merge_jsonl if fmt == "jsonl" else shard_io.merge_npy
                merged = str(case / ("cli-merged.jsonl" if fmt == "jsonl" else "cli-merged"))
                merge(list(reversed(cli_shards)), merged)
                check(same_tree(merged, whole), f"{name}: CLI --shard I/{SHARDS} merged == one process, byte for byte")
                # The Dask recipe, on the cluster.
                a, o = dask_noise.parse([str(inp), "-o", str(case / "dask"), "--shards", str(SHARDS), "--max-tokens", "60"] + dask_args)
                summaries = dask_noise.run(str(inp), str(case / "dask"), SHARDS, o, client)
                check([s["shard"] for s in summaries] == list(range(SHARDS)), f"{name}: Dask wrote {SHARDS} shards")
                for i, s in enumerate(summaries):
                    check(same_tree(s["path"], cli_shards[i]), f"{name}: Dask shard {i} == CLI --shard {i}/{SHARDS}, byte for byte")
                merged = str(case / ("dask-merged.jsonl" if fmt == "jsonl" else "dask-merged"))
                merge([s["path"] for s in summaries], merged)
                check(same_tree(merged, whole), f"{name}: Dask shards merged == one process, byte for byte")
                # The comparison can fail: a merge that misses a shard, or a shard scored with its own statistics.
                merge([s["path"] for s in summaries[:-1]], merged)
                check(not same_tree(merged, whole), f"{name}: {SHARDS - 1} of {SHARDS} shards merged differ from the whole")
            skipped = [sum(s["skipped"][k] for s in summaries) for k in range(4)]
            check(all(k > 0 for k in skipped), f"every skip reason met and counted: {skipped}")
        finally:
            client.close()
            cluster.close()
        # Statistics from the shard alone would give other trajectories (why every worker sees the whole input).
        own = [t for i, t in shard_io.valid_lines(inp, 60) if i % SHARDS == 0]
        vocab = slotdiff.Tokenizer.load(str(SOURCE / "data" / "corpus" / "vocab.txt"))
        idx = [i for i, _ in shard_io.valid_lines(inp, 60) if i % SHARDS == 0]
        alone = "".join(shard_io.jsonl_lines(slotdiff.Noiser("idf", own).noise_text(own, vocab, indices=idx)))
        check(alone != (tmp / "case0" / "cli" / "shard-00000-of-00003.jsonl").read_text(encoding="utf-8"),
              "shard 0 scored with its own statistics differs (the recipe must use the whole input's)")
        # The .npy writer matches numpy's reader and the CLI's header layout on an empty shard too.
        empty = slotdiff.Noiser("idf", ["a b"]).noise_text([], vocab)
        shard_io.write_npy_shard(str(tmp / "empty"), shard_io.npy_arrays(empty), "side_slots", len(vocab))
        a = np.load(tmp / "empty" / "x0_offsets.npy")
        check(a.dtype == np.int64 and a.tolist() == [0], "an empty shard is written and read back")
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all recipe checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
