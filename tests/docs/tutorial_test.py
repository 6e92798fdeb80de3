#!/usr/bin/env python3
"""Runs the commands of docs/tutorial.md in order, as a reader would, and checks that each succeeds.

    tutorial_test.py TUTORIAL.md SLOTDIFF_BINARY REPO_ROOT WORKDIR

The commands are the lines starting with "$ " inside ```console blocks (a line ending in a
backslash continues on the next). They run one after another in one bash process (so `cd` and
`export` carry over, as in a terminal) inside WORKDIR, which holds links to the repository's data/,
models/ and tools/ and stands for the repository root; the slotdiff binary under test comes first on PATH,
the n-gram cache goes to WORKDIR, and a leading `python3` is this interpreter (the one CMake found
with numpy). Each command's output is printed; the first that fails stops the test, naming it."""
import os
import re
import shlex
import shutil
import subprocess
import sys


def commands(markdown):
    cmds, in_console, pending = [], False, None
    for line in open(markdown, encoding="utf-8").read().splitlines():
        if line.startswith("```"):
            in_console = line.strip() == "```console"
            continue
        if not in_console:
            continue
        if pending is not None:
            pending += "\n" + line
            if not line.endswith("\\"):
                cmds.append(pending)
                pending = None
        elif line.startswith("$ "):
            if line.endswith("\\"):
                pending = line[2:]
            else:
                cmds.append(line[2:])
    return cmds


def main():
    markdown, binary, repo, work = sys.argv[1:5]
    cmds = commands(markdown)
    if len(cmds) < 10:
        raise SystemExit(f"only {len(cmds)} commands found in {markdown}: is the ```console format still used?")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "tmp"))
    for d in ("data", "models", "tools"):
        os.symlink(os.path.join(repo, d), os.path.join(work, d))
    script = ["set -o pipefail"]
    for i, c in enumerate(cmds, 1):
        c = re.sub(r"^python3 ", shlex.quote(sys.executable) + " ", c)
        script.append(f"echo {shlex.quote(f'>>> [{i}/{len(cmds)}] $ ' + c)}")
        script.append(f"{c}\nrc=$?; if [ $rc -ne 0 ]; then echo {shlex.quote(f'FAILED (command {i}): ' + c)} \"(exit $rc)\"; exit 1; fi")
    env = dict(os.environ)
    env.pop("SLOTDIFF_DATA_DIR", None)
    env["PATH"] = os.path.dirname(os.path.abspath(binary)) + os.pathsep + env.get("PATH", "")
    env["XDG_CACHE_HOME"] = os.path.join(work, "cache")
    env["TMPDIR"] = os.path.join(work, "tmp")
    r = subprocess.run(["bash", "-c", "\n".join(script)], cwd=work, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    print(r.stdout)
    if r.returncode != 0:
        return 1
    print(f"ok: the {len(cmds)} commands of {os.path.basename(markdown)} ran in order and each succeeded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
