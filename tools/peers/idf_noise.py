#!/usr/bin/python3
"""The Python peer of slotdiff's IDF noiser, for the speed comparison in docs/benchmarks/noise.md.

The same algorithm, step for step: the tokenizer's splitting rules, word IDF log((1+N)/(1+df)) + 1
rounded to float32, side_slots feasibility, a fraction:F schedule capped by the most removable, and
the exact DP (least total score, ties by the same splitmix64 ranks). So its trajectories must equal
`slotdiff noise --scorer idf --select exact --schedule fraction:F --seed S` line for line (--check).

    /usr/bin/python3 tools/peers/idf_noise.py data/wordnet/examples.txt data/wordnet/glosses.txt \
        [--fraction 0.5] [--seed 0] [--limit N] [--check slotdiff.jsonl]
"""
import argparse, json, math, re, struct, sys, time

M64 = (1 << 64) - 1
WORD = r"[0-9A-Za-z\u0080-\U0010FFFF]"
TOKEN = re.compile(rf"{WORD}+(?:['-]{WORD}+)*|[\x21-\x7e]")
LOWER = {c: c + 32 for c in range(65, 91)}
LIM_LEADING, LIM_INTERIOR, LIM_TRAILING, LIM_WHOLE = 1, 2, 1, 1  # side_slots


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def tokenize(line):
    return TOKEN.findall(line.translate(LOWER))


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def max_feasible(n):
    best = {(0, 0): 0}  # (run, kept seen) -> most removals
    for _ in range(n):
        nxt = {}
        for (r, s), v in best.items():
            if r <= (LIM_INTERIOR if s else LIM_LEADING):
                nxt[(0, 1)] = max(nxt.get((0, 1), -1), v)
            if r + 1 <= (max(LIM_INTERIOR, LIM_TRAILING) if s else max(LIM_LEADING, LIM_WHOLE)):
                nxt[(r + 1, s)] = max(nxt.get((r + 1, s), -1), v + 1)
        best = nxt
    return max(v for (r, s), v in best.items() if r <= (LIM_TRAILING if s else LIM_WHOLE))


def select_exact(scores, k, seed):
    """Flags of the feasible k-set of least (total score, total tie rank); the same DP as select_exact."""
    n = len(scores)
    INF = (math.inf, 0)
    cur = {(0, 0, 0): (0.0, 0)}  # (removed j, run r, kept seen s) -> (sum, ties)
    back = []
    for i, c in enumerate(scores):
        rank = splitmix64(seed ^ splitmix64(i)) >> 32
        nxt, bk = {}, {}
        for (j, r, s), v in cur.items():
            if r <= (LIM_INTERIOR if s else LIM_LEADING) and v < nxt.get((j, 0, 1), INF):
                nxt[(j, 0, 1)] = v
                bk[j] = (r, s)
            if j < k and r + 1 <= (max(LIM_INTERIOR, LIM_TRAILING) if s else max(LIM_LEADING, LIM_WHOLE)):
                w = (v[0] + c, v[1] + rank)
                if w < nxt.get((j + 1, r + 1, s), INF):
                    nxt[(j + 1, r + 1, s)] = w
        cur = nxt
        back.append(bk)
    ends = [(v, (r, s)) for (j, r, s), v in cur.items() if j == k and r <= (LIM_TRAILING if s else LIM_WHOLE)]
    _, (r, s) = min(ends, key=lambda e: e[0])
    flags, j = [0] * n, k
    for i in range(n - 1, -1, -1):
        if r > 0:
            flags[i], j, r = 1, j - 1, r - 1
        else:
            r, s = back[i][j]
    return flags


def noise(ids, idf, fraction, seed):
    alive = list(range(len(ids)))
    removed_at = [0] * len(ids)
    t = 0
    while alive:
        n = len(alive)
        k = min(max(1, math.ceil(f32(fraction) * n)), max_feasible(n))
        flags = select_exact([idf[ids[p]] for p in alive], k, splitmix64((seed + t) & M64))
        t += 1
        for p, f in zip(alive, flags):
            if f:
                removed_at[p] = t
        alive = [p for p, f in zip(alive, flags) if not f]
    return [r if r else t + 1 for r in removed_at], t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--fraction", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=0, help="corpus seed, as `slotdiff noise --seed`")
    ap.add_argument("--limit", type=int, default=0, help="noise only the first N lines (timing on a slice)")
    ap.add_argument("--check", help="a `slotdiff noise` JSONL of the same input to compare against")
    args = ap.parse_args()
    lines = [l.rstrip("\n") for f in args.inputs for l in open(f, encoding="utf-8")]
    t0 = time.perf_counter()
    vocab, sentences = {}, []
    for l in lines:
        sentences.append([vocab.setdefault(w, len(vocab)) for w in tokenize(l)])
    df = [0] * len(vocab)
    for s in sentences:
        for w in set(s):
            df[w] += 1
    idf = [f32(math.log((1.0 + len(sentences)) / (1.0 + d)) + 1.0) for d in df]
    t1 = time.perf_counter()
    todo = sentences[: args.limit] if args.limit else sentences
    out = [noise(s, idf, args.fraction, splitmix64(args.seed ^ splitmix64(i))) for i, s in enumerate(todo)]
    t2 = time.perf_counter()
    print(f"idf_noise.py: tokenize + idf {t1 - t0:.2f} s; noised {len(todo)} sentences in {t2 - t1:.2f} s "
          f"({len(todo) / (t2 - t1):.0f} sentences/s)", file=sys.stderr)
    if args.check:
        ref = [json.loads(l) for l in open(args.check)]
        ref = {r["id"]: (r["removed_at"], r["steps"]) for r in ref}
        bad = [i for i, o in enumerate(out) if i in ref and ref[i] != (o[0], o[1])]
        print(f"idf_noise.py: {len(out) - len(bad)} of {len(out)} trajectories equal slotdiff's"
              + (f"; first difference at line {bad[0]}" if bad else ""), file=sys.stderr)
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
