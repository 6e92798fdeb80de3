#!/usr/bin/python3
"""End-to-end test of `slotdiff noise`: bad lines are skipped and counted, output order and content do
not depend on the thread count, shards partition the whole, and the .npy shard loads with numpy.

    e2e_test.py CLI WORKDIR REPO_ROOT
"""
import json, pathlib, subprocess, sys

cli, work, root = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
work.mkdir(parents=True, exist_ok=True)
sample = (root / "data/wordnet/examples.txt").read_text(encoding="utf-8").splitlines()[:400]
bad = ["", "   ", "... !? ;", "bad \udcff utf8", " ".join(["w"] * 100000)]
lines = sample[:100] + bad + sample[100:]
inp = work / "in.txt"
inp.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape") + b"\n")


def run(*args):
    p = subprocess.run([cli, "noise", str(inp), "--no-progress", *args], capture_output=True)
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout.decode(), p.stderr.decode()


one, err = run("--threads", "1", "--schedule", "fraction:0.3", "--seed", "5", "--scorer", "random")
assert "400 of 405 lines noised" in err, err
assert "2 empty, 1 invalid UTF-8, 1 punctuation only, 1 over 512 tokens" in err, err
assert "line(s) 104" in err, err
two, _ = run("--threads", "2", "--schedule", "fraction:0.3", "--seed", "5", "--scorer", "random")
assert one == two, "output depends on the thread count"
parts = [run("--threads", "2", "--schedule", "fraction:0.3", "--seed", "5", "--scorer", "random", "--shard", f"{i}/3")[0]
         for i in range(3)]
merged = sorted((l for p in parts for l in p.splitlines()), key=lambda l: json.loads(l)["id"])
assert merged == one.splitlines(), "shards do not partition the whole"
for l in one.splitlines():
    r = json.loads(l)
    assert len(r["tokens"]) == len(r["removed_at"]) and max(r["removed_at"], default=1) <= r["steps"] + 1

out = work / "shard"
run("--format", "npy", "--out", str(out), "--layout", "gap", "--protect", "the,of")
p = subprocess.run(["/usr/bin/python3", str(root / "tools/read_shards.py"), str(out), "2"], capture_output=True, text=True)
assert p.returncode == 0 and "400 trajectories" in p.stderr, p.stderr

bad_run = subprocess.run([cli, "noise", str(inp), "--schedule", "fraction:7"], capture_output=True, text=True)
assert bad_run.returncode == 1 and "fraction must lie in (0, 1]" in bad_run.stderr, bad_run.stderr
bad_run = subprocess.run([cli, "noise", "/nonexistent.txt"], capture_output=True, text=True)
assert bad_run.returncode == 1 and "/nonexistent.txt" in bad_run.stderr, bad_run.stderr
print("e2e ok")
