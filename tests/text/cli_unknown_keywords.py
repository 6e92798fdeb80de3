#!/usr/bin/python3
"""`slotdiff generate` with keywords the vocabulary may lack: the notes' "fox jumps dog" and a made-up
word. Never an error; every keyword is printed, in order, as the user typed it; a word outside the
vocabulary reaches the model as <unk> (id 1) and is announced on stderr.

    cli_unknown_keywords.py SLOTDIFF"""
import json
import subprocess
import sys


def main():
    exe = sys.argv[1]
    sets = ["fox jumps dog", "flibbertigib"]
    cmd = [exe, "generate", "--temperature", "0", "--max-steps", "3"]
    for s in sets:
        cmd += ["--keywords", s]
    run = subprocess.run(cmd + ["--json"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert '"flibbertigib" is not in the vocabulary' in run.stderr, run.stderr
    gens = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(gens) == len(sets), run.stdout
    for s, g in zip(sets, gens):
        kept = [w for w, b in zip(g["text"], g["births"]) if b == 0]
        assert kept == s.split(), (s, g["text"])
        assert "<unk>" not in g["text"], g["text"]
    made_up = [t for t, b in zip(gens[1]["tokens"], gens[1]["births"]) if b == 0]
    assert made_up == [1], made_up  # the model saw <unk>
    # The plain text output prints the typed words too.
    plain = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr
    lines = plain.stdout.splitlines()
    assert "flibbertigib" in [w.strip(".,;:!?\"'") for w in lines[1].split()] and "<unk>" not in plain.stdout, plain.stdout
    words = [w.strip(".,;:!?\"'") for w in lines[0].split()]  # punctuation may be glued to a word
    assert [w for w in words if w in ("fox", "jumps", "dog")][:3] == ["fox", "jumps", "dog"], lines[0]
    print("ok")


if __name__ == "__main__":
    main()
