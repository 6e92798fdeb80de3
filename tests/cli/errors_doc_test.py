#!/usr/bin/python3
"""docs/errors.md is the test: every row of its table names a command line (in `code`) and the exact
line `slotdiff` prints on stderr (in `code`). This script makes the files the rows use in a fresh work
folder, runs each command line there, and checks that the program fails (status 1; 2 for a command
line without a known command, which also prints the usage) and prints that line. A row whose message changes fails here, so the page cannot drift from the program.

    errors_doc_test.py SLOTDIFF WORKDIR REPO_ROOT [--print]

--print runs every row and prints what the program said, for writing the page."""
import os
import pathlib
import re
import shlex
import shutil
import struct
import subprocess
import sys

exe, work, root = os.path.abspath(sys.argv[1]), pathlib.Path(sys.argv[2]).resolve(), pathlib.Path(sys.argv[3]).resolve()
show = "--print" in sys.argv[4:]
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)


def run(args, cwd=work):
    """Runs the program; a command line ending in "> /dev/full" has its stdout on /dev/full."""
    out = subprocess.PIPE
    if len(args) >= 2 and args[-2] == ">":
        assert args[-1] == "/dev/full", args
        out, args = open("/dev/full", "wb"), args[:-2]
    try:
        return subprocess.run([exe, *args], stdout=out, stderr=subprocess.PIPE, cwd=cwd, timeout=600,
                              env=dict(os.environ, SLOTDIFF_DATA_DIR=str(root), XDG_CACHE_HOME=str(work / "cache")))
    finally:
        if out is not subprocess.PIPE:
            out.close()


# ---- the files the rows name ---------------------------------------------------------------------------
def write(name, data):
    (work / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


sentences = [l for l in (root / "data/corpus/train.txt").read_text(encoding="utf-8").splitlines() if l.strip()][:200]
write("in.txt", "\n".join(sentences) + "\n")
write("bad-vocab.txt", "hello world\n")
write("utf16-vocab.txt", "\ufeffslotdiff-vocabulary 1\n".encode("utf-16-le"))
(work / "folder").mkdir()
write("tokens-wrap.jsonl", '{"id":0,"layout":"side_slots","removed_at":[1],"steps":1,"tokens":[4294967301]}\n')
write("steps-big.jsonl", '{"id":0,"layout":"side_slots","removed_at":[1],"steps":2147483647,"tokens":[5]}\n')
write("empty.jsonl", "\n")
write("garbage.bin", "not a model\n")
write("garbage.sdsif", "not an embedder\n")
write("garbage.safetensors", struct.pack("<Q", 1 << 60) + b"{}")
model = (root / "models/reference.safetensors").read_bytes()
n = struct.unpack("<Q", model[:8])[0]
header = model[8:8 + n]
for key, bad in ((b'"norm_eps":"1e-05"', b'"norm_eps":"inf"  '), (b'"d_model":"256"', b'"d_model":"25x"')):
    assert key in header and len(key) == len(bad), key
    write("eps-" + ("inf" if b"eps" in key else "dmodel") + ".safetensors", model[:8] + header.replace(key, bad) + model[8 + n:])
os.mkfifo(work / "fifo")
tiny = run(["vocab", "--max-size", "300", "-o", "tiny-vocab.txt", "in.txt"])
assert tiny.returncode == 0, tiny.stderr
small = run(["ngram", "--corpus", "in.txt", "--vocab", "tiny-vocab.txt", "--augment", "1", "--out", "small.ngram"])
assert small.returncode == 0, small.stderr

# ---- the rows ------------------------------------------------------------------------------------------
page = (root / "docs/errors.md").read_text(encoding="utf-8")
rows = re.findall(r"^\|\s*(\d+)\s*\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|", page, re.M)
assert len(rows) >= 25, f"docs/errors.md has {len(rows)} rows, expected at least 25"
numbers = [int(r[0]) for r in rows]
assert numbers == list(range(1, len(rows) + 1)), f"rows are not numbered 1..{len(rows)}: {numbers}"
failures = []
for number, command, message in rows:
    words = shlex.split(command.replace("\\|", "|"))  # "> /dev/full" stays two words
    assert words[0] == "slotdiff", command
    p = run(words[1:])
    err = p.stderr.decode("utf-8", errors="replace")
    message = message.replace("\\|", "|").replace("<data>", str(root))
    if show:
        print(f"{number}: {command}\n   rc {p.returncode}: {err.strip()}")
        continue
    if p.returncode not in (1, 2) or message not in err.splitlines():
        failures.append(f"row {number}: `{command}`\n  expected (status 1): {message}\n  got (status {p.returncode}): {err.strip()}")
if failures:
    sys.exit("docs/errors.md disagrees with the program:\n" + "\n".join(failures))
print(f"docs/errors.md: {len(rows)} rows checked")
