#!/usr/bin/python3
"""Decoding health on a fixed list of keyword sets: runs `slotdiff generate --json` once over all of
them and prints the adjacent-repeat rate (share of output tokens equal to their left neighbour), the
share of keyword sets left without any insertion, and the mean output length.

    examples/measure_decoding.py SLOTDIFF [--pairs examples/keyword_pairs.txt] [-- generate options]

Uses Debian's /usr/bin/python3 standard library only."""
import json
import subprocess
import sys


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    if not argv:
        sys.exit(__doc__)
    exe = argv[0]
    pairs_path = "examples/keyword_pairs.txt"
    if "--pairs" in argv:
        pairs_path = argv[argv.index("--pairs") + 1]
    with open(pairs_path, encoding="utf-8") as f:
        pairs = [line.strip() for line in f if line.strip()]
    cmd = [exe, "generate", "--json"]
    for p in pairs:
        cmd += ["--keywords", p]
    cmd += extra
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    gens = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    per_set = len(gens) // len(pairs)
    tokens = repeats = empty = 0
    for i, g in enumerate(gens):
        t = g["tokens"]
        tokens += len(t)
        repeats += sum(1 for a, b in zip(t, t[1:]) if a == b)
        keywords = len(pairs[i // per_set].split())
        empty += len(t) <= keywords
    print(f"generations {len(gens)}  adjacent-repeat {100.0 * repeats / max(tokens, 1):.1f}%  "
          f"no insertion {100.0 * empty / max(len(gens), 1):.0f}% ({empty}/{len(gens)})  "
          f"mean length {tokens / max(len(gens), 1):.1f}")


if __name__ == "__main__":
    main()
