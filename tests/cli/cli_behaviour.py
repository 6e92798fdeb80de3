#!/usr/bin/python3
"""The `slotdiff` program's behaviour beyond its happy path (issue 15):

- write failures: every command that prints exits 1 naming stdout when stdout is /dev/full; a file
  output on a link to /dev/full is written in place (never renamed over) or refused; a regular file
  output that hits the file-size limit fails, naming the file, and leaves no partial file;
- the n-gram cache of `generate` is keyed on the bytes of the vocabulary and the corpus (a reordered
  vocabulary of the same size trains a new model; the same bytes reuse it);
- `noise --protect W` with W missing from the IDF corpus protects W only, not every unknown word;
- `generate --help` documents every stop rule; a UTF-8 BOM does not stick to the first word.

    cli_behaviour.py SLOTDIFF WORKDIR REPO_ROOT"""
import json
import os
import pathlib
import resource
import shutil
import signal
import subprocess
import sys

exe, work, root = os.path.abspath(sys.argv[1]), pathlib.Path(sys.argv[2]).resolve(), pathlib.Path(sys.argv[3]).resolve()
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)
vocab = str(root / "data/corpus/vocab.txt")


def run(*args, ok=True, stdout=subprocess.PIPE, env=None, preexec=None, stdin_text=None):
    p = subprocess.run([exe, *args], stdout=stdout, stderr=subprocess.PIPE, cwd=work, env=env, preexec_fn=preexec,
                       input=stdin_text.encode() if stdin_text is not None else None, timeout=600)
    err = p.stderr.decode(errors="replace")
    if ok:
        assert p.returncode == 0, (args, p.returncode, err)
    else:
        assert p.returncode == 1, (args, p.returncode, err)
    return p, err


# ---- a tiny data root: its own corpus and vocabulary, so training the n-gram takes a moment -------------
data = work / "data-root"
(data / "data/corpus").mkdir(parents=True)
sentences = [l for l in (root / "data/corpus/train.txt").read_text(encoding="utf-8").splitlines() if l.strip()][:300]
(data / "data/corpus/train.txt").write_text("\n".join(sentences) + "\n", encoding="utf-8")
run("vocab", "--max-size", "600", "-o", str(data / "data/corpus/vocab.txt"), str(data / "data/corpus/train.txt"))
tiny = ["--data-dir", str(data)]
text = work / "in.txt"
text.write_text("\n".join(sentences[:20]) + "\n", encoding="utf-8")

# ---- write failures -----------------------------------------------------------------------------------
with open("/dev/full", "wb") as full:
    for args in (["--help"], ["--version"], ["noise", "--help"], ["generate", "--help"],
                 [*tiny, "generate", "--keywords", "river water", "--max-steps", "2"],
                 ["noise", str(text), "--vocab", vocab, "--no-progress"],
                 [*tiny, "ngram", "--heldout-every", "5", "--augment", "1"]):
        p, err = run(*args, ok=False, stdout=full)
        assert "error: cannot write to stdout: No space left on device" in err, (args, err)

link = work / "full"  # a link to /dev/full: a rename onto it would replace the link, never the device
link.symlink_to("/dev/full")
p, err = run("noise", str(text), "--vocab", vocab, "--no-progress", "-o", str(link), ok=False)
assert f"slotdiff noise: error: cannot write to {link}: No space left on device" in err, err
assert link.is_symlink(), "the link was replaced"
for args in (["vocab", "-o", str(link), str(text)], [*tiny, "ngram", "--augment", "1", "--out", str(link)]):
    p, err = run(*args, ok=False)
    assert f"--out: {link} is not a regular file" in err, (args, err)
    assert link.is_symlink(), "the link was replaced"


def small_files():
    """In the child: files may not grow past 2 KiB, and a write beyond fails with EFBIG (not SIGXFSZ)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


big = work / "big.jsonl"
big.write_text("previous content\n")
p, err = run("noise", str(text), "--vocab", vocab, "--no-progress", "--words", "-o", str(big), ok=False, preexec=small_files)
assert f"cannot write {big}" in err or f"cannot write to {big}" in err, err
assert big.read_text() == "previous content\n", "a failed write changed the file"
assert not [f for f in os.listdir(work) if f.startswith("big.jsonl.")], os.listdir(work)
p, err = run("vocab", "-o", str(work / "v.txt"), str(text), ok=False, preexec=small_files)
assert "v.txt" in err and not (work / "v.txt").exists(), err

# ---- the n-gram cache is keyed on content -------------------------------------------------------------
cache = work / "cache"
env = dict(os.environ, XDG_CACHE_HOME=str(cache))
gen = [*tiny, "generate", "--keywords", "water", "--max-steps", "2"]
p, err = run(*gen, env=env)
assert "training the n-gram model" in err, err
first = sorted(os.listdir(cache / "slotdiff"))
assert len(first) == 1, first
p, err = run(*gen, env=env)
assert "training the n-gram model" not in err, "the same bytes did not reuse the cache"
lines = (data / "data/corpus/vocab.txt").read_text(encoding="utf-8").splitlines(keepends=True)
lines[10], lines[11] = lines[11], lines[10]  # same size, other ids
(data / "data/corpus/vocab.txt").write_text("".join(lines), encoding="utf-8")
p, err = run(*gen, env=env)
assert "training the n-gram model" in err, "a reordered vocabulary reused the stale model"
assert len(os.listdir(cache / "slotdiff")) == 2

# ---- --protect W with W outside the IDF corpus ---------------------------------------------------------
(work / "idf.txt").write_text("the cat sat on the mat\nthe dog sat\n", encoding="utf-8")
p, _ = run("noise", "--vocab", vocab, "--idf-corpus", "idf.txt", "--protect", "zebra", "--schedule", "count:1",
           "--no-progress", "-", stdin_text="the qqq zebra rrr\n")
t = json.loads(p.stdout)
kept = [i for i, r in enumerate(t["removed_at"]) if r > t["steps"]]
assert kept == [2], ("only the protected word stays", t)

# ---- help and text input ------------------------------------------------------------------------------
p, _ = run("generate", "--help")
h = p.stdout.decode()
for rule in ("Stopping", "--max-steps", "--max-length", "--min-probability", "--min-length", "--stop-prob",
             "--min-insertions"):
    assert rule in h.split("Stopping", 1)[1] if rule != "Stopping" else rule in h, (rule, h)
p, _ = run("noise", "--vocab", vocab, "--words", "--no-progress", "-", stdin_text="\ufeffthe cat sat\n")
assert json.loads(p.stdout)["words"][0] == "the", p.stdout
print("cli behaviour ok")
