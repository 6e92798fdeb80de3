#!/usr/bin/python3
"""Merges the N shards of a sharded `slotdiff noise` run (the CLI's --shard I/N under Slurm, or
dask_noise.py) into what one process writes for the whole input, byte for byte.

    merge_shards.py --format jsonl -o all.jsonl out/shard-*-of-00004.jsonl
    merge_shards.py --format npy   -o all      out/shard-*-of-00004          (shard folders)

JSONL: lines ordered by "id" (the input line), then "trajectory"; npy: trajectories ordered by
sentence_ids, their examples with them (shard_io.py says exactly how). A shard of a sharded run holds
its ids in increasing order, so the merge streams (JSONL) or is one stable sort (npy).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shard_io  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--format", choices=("jsonl", "npy"), default="jsonl")
    p.add_argument("-o", "--out", required=True, help="merged JSONL file, or shard folder (npy)")
    p.add_argument("shards", nargs="+", help="the shard files (jsonl) or folders (npy), any order")
    a = p.parse_args(argv)
    for s in a.shards:
        if not os.path.exists(s):
            p.error(f"shard {s} does not exist")
    (shard_io.merge_jsonl if a.format == "jsonl" else shard_io.merge_npy)(a.shards, a.out)
    print(f"merge_shards: {len(a.shards)} shards -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
