#!/usr/bin/python3
"""End-to-end test of `slotdiff noise --trajectories K` and the semantic scorers: for every scorer,
each sentence gets 1..K distinct trajectories, every step is feasible for the side layout, the output
is the same at 1 and 2 threads and for the same seed, another seed changes it, JSONL and .npy agree;
`slotdiff embed train` builds the embedder; bad options name the option and the value.

    cli_trajectories_test.py CLI WORKDIR REPO_ROOT
"""
import json, pathlib, subprocess, sys

import numpy as np

cli, work, root = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
work.mkdir(parents=True, exist_ok=True)
examples = (root / "data/wordnet/examples.txt").read_text(encoding="utf-8").splitlines()
inp = work / "in.txt"
inp.write_text("\n".join(["a quick brown fox jumps over the lazy dog", "one two"] + examples[:60]) + "\n", encoding="utf-8")
emb = work / "emb.sdsif"
p = subprocess.run([cli, "embed", "train", str(root / "data/wordnet/examples.txt"), "--dim", "16", "--min-count", "2",
                    "-o", str(emb)], capture_output=True, text=True)
assert p.returncode == 0 and emb.exists(), p.stderr
K = 4


def run(*args, ok=True):
    p = subprocess.run([cli, "noise", str(inp), "--no-progress", "--embedder", str(emb), *args], capture_output=True)
    if ok:
        assert p.returncode == 0, p.stderr.decode()
    return p


def feasible_side(mask):
    """side_slots: runs <= 1 at either end, <= 2 between kept tokens, everything only from length <= 1."""
    n = len(mask)
    if all(mask):
        return n <= 1
    i = 0
    while i < n:
        if not mask[i]:
            i += 1
            continue
        j = i
        while j < n and mask[j]:
            j += 1
        limit = 1 if (i == 0 or j == n) else 2
        if j - i > limit:
            return False
        i = j
    return True


def check(out):
    by_id = {}
    for line in out.splitlines():
        r = json.loads(line)
        by_id.setdefault(r["id"], []).append(r)
        ra, T = r["removed_at"], r["steps"]
        for t in range(T):
            alive = [x for x in ra if x > t]
            mask = [x == t + 1 for x in alive]
            assert any(mask) and feasible_side(mask), (r, t)
    assert len(by_id) == 62, len(by_id)
    for i, rs in by_id.items():
        assert 1 <= len(rs) <= K, (i, len(rs))
        assert [r["trajectory"] for r in rs] == list(range(len(rs)))
        keys = {tuple(r["removed_at"]) for r in rs}
        assert len(keys) == len(rs), f"sentence {i}: repeated trajectories"
    assert len(by_id[0]) == K and len(by_id[1]) <= 2, (len(by_id[0]), len(by_id[1]))
    return sum(len(v) for v in by_id.values())


for scorer in ["idf", "random", "shift", "dynamic", "mix:idf=0.5,shift=0.5", "tfidf"]:
    common = ["--scorer", scorer, "--trajectories", str(K), "--temperature", "0.8", "--schedule", "count:2"]
    a = run(*common, "--seed", "5", "--threads", "1").stdout.decode()
    b = run(*common, "--seed", "5", "--threads", "2").stdout.decode()
    c = run(*common, "--seed", "6", "--threads", "2").stdout.decode()
    assert a == b, f"{scorer}: output depends on the thread count"
    assert a != c, f"{scorer}: another seed gives the same output"
    n = check(a)
    check(c)
    shard = work / ("shard_" + scorer.replace(":", "_").replace(",", "_").replace("=", ""))
    run(*common, "--seed", "5", "--format", "npy", "--out", str(shard))
    ids = np.load(shard / "sentence_ids.npy")
    steps = np.load(shard / "steps.npy")
    assert len(ids) == n == len(steps), (len(ids), n)
    jl = [json.loads(l) for l in a.splitlines()]
    assert list(ids) == [r["id"] for r in jl] and list(steps) == [r["steps"] for r in jl]
    print(f"{scorer}: {n} trajectories for 62 sentences")

# A random schedule alone varies the trajectories of a deterministic scorer.
out = run("--scorer", "idf", "--trajectories", "3", "--schedule", "fraction:0.2..0.7").stdout.decode()
assert max(len([1 for l in out.splitlines() if json.loads(l)["id"] == 0]), 0) >= 2

for args, words in [
    (["--trajectories", "3"], ["--trajectories 3", "--temperature"]),
    (["--scorer", "mix:idf=x"], ["--scorer", "idf=x"]),
    (["--scorer", "mix:bogus=1"], ["--scorer", "bogus=1"]),
    (["--scorer", "cosy"], ["--scorer", "cosy"]),
    (["--metric", "manhattan", "--scorer", "shift"], ["--metric", "manhattan"]),
    (["--temperature", "-1"], ["--temperature", "-1"]),
    (["--scorer", "shift", "--embedder", "/nonexistent.sdsif"], ["--embedder", "/nonexistent.sdsif"]),
    (["--schedule", "fraction:0.7..0.2"], ["--schedule", "fraction"]),
    (["--scorer", "dynamic", "--protect", "fox"], ["--protect"]),
]:
    p = run(*args, ok=False)
    err = p.stderr.decode()
    assert p.returncode == 1 and all(w in err for w in words), (args, err)
print("cli trajectories ok")
