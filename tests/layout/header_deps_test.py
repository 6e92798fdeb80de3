#!/usr/bin/env python3
"""tools/header_deps.py on a small git repository written here: two commits of a four-folder
include/ tree, compared with --before / --after.

    header_deps_test.py TOOLS/HEADER_DEPS.PY CXX

Checks the direct and transitive lists (an include inside `#if 0` does not count), the folder
summary, the concepts/ rule and --check's exit status, the before/after report, that the temporary
worktree is gone afterwards, and --layout against a small Markdown table."""
import json
import os
import subprocess
import sys
import tempfile


def write(root, files):
    for name, text in files.items():
        path = os.path.join(root, "include", "slotdiff", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if text is None:
            os.remove(path)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write("#pragma once\n" + text)


def git(root, *args):
    subprocess.run(["git", "-C", root, *args], check=True, capture_output=True)


def main():
    tool, cxx = sys.argv[1], sys.argv[2]
    failures = []

    def check(what, ok):
        if not ok:
            failures.append(what)

    with tempfile.TemporaryDirectory(prefix="header_deps_test_") as repo:
        git(repo, "init", "-q")
        git(repo, "config", "user.email", "test@example.invalid")
        git(repo, "config", "user.name", "test")
        # Before: the concept leans on an implementation header, as concepts/ did at 0b033e1.
        write(repo, {
            "error.hpp": "struct error {};\n",
            "types/token.hpp": "using token_id = int;\n",
            "slots/layout.hpp": '#include "slotdiff/types/token.hpp"\nstruct place {};\n',
            "concepts/layout.hpp": "#include <slotdiff/slots/layout.hpp>\n#if 0\n#include <slotdiff/error.hpp>\n#endif\n",
            "slots/vector.hpp": "#include <slotdiff/concepts/layout.hpp>\n",
        })
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "before")
        # After: the vocabulary type moves below the concept.
        write(repo, {
            "types/place.hpp": '#include "token.hpp"\nstruct place {};\n',
            "slots/layout.hpp": "#include <slotdiff/types/place.hpp>\n",
            "concepts/layout.hpp": "#include <slotdiff/types/place.hpp>\n#include <slotdiff/error.hpp>\n",
        })
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "after")

        out_json = os.path.join(repo, "deps.json")
        out_md = os.path.join(repo, "deps.md")
        base = [sys.executable, tool, "--repo", repo, "--cxx", cxx, "--no-cmake", "--jobs", "1"]
        r = subprocess.run(base + ["--before", "HEAD~1", "--after", "HEAD", "--json", out_json,
                                   "--markdown", out_md, "--check"], capture_output=True, text=True)
        check(f"exit 0 when the last commit keeps the rule, got {r.returncode}:\n{r.stdout}{r.stderr}",
              r.returncode == 0)
        tables = [rev["headers"] for rev in json.load(open(out_json, encoding="utf-8"))]
        before, after = tables
        check("before: concepts/layout.hpp direct = slots/layout.hpp (the #if 0 include left out)",
              before["concepts/layout.hpp"]["direct"] == ["slots/layout.hpp"])
        check("before: concepts/layout.hpp reaches slots/layout.hpp and types/token.hpp",
              before["concepts/layout.hpp"]["all"] == ["slots/layout.hpp", "types/token.hpp"])
        check("before: slots/vector.hpp reaches three headers transitively",
              before["slots/vector.hpp"]["all"] == ["concepts/layout.hpp", "slots/layout.hpp", "types/token.hpp"])
        check("after: a quoted include relative to the header's folder is direct",
              after["types/place.hpp"]["direct"] == ["types/token.hpp"])
        check("after: concepts/layout.hpp reaches error.hpp and types/ only",
              after["concepts/layout.hpp"]["all"] == ["error.hpp", "types/place.hpp", "types/token.hpp"])
        md = open(out_md, encoding="utf-8").read()
        check("report: the rule fails before and holds after",
              "| no: `concepts/layout.hpp` -> `slots/layout.hpp` | yes |" in md)
        check("report: concepts/ no longer reaches slots/", "| `concepts/` |  | error.hpp | slots/ |" in md)
        check("report: slots/ <-> concepts/ cycle before, none after",
              "| `concepts/` <-> `slots/` | (none) |" in md)
        check("report: types/place.hpp is new", "| `types/place.hpp` | new |" in md)
        listed = subprocess.run(["git", "-C", repo, "worktree", "list"], capture_output=True, text=True).stdout
        check(f"the temporary worktree is removed, got:\n{listed}", len(listed.strip().splitlines()) == 1)

        # --check fails on the commit that breaks the rule.
        r = subprocess.run(base + ["--after", "HEAD~1", "--check"], capture_output=True, text=True)
        check(f"--check exits 1 on the old commit, got {r.returncode}", r.returncode == 1)
        check("the text report names the offending dependency",
              "concepts/layout.hpp -> slots/layout.hpp" in r.stdout)

        # --layout: each header's direct includes against its folder's row of a Markdown table.
        layout = os.path.join(repo, "design.md")
        rows = {
            "types/": "`error.hpp`",
            "error.hpp": "nothing",
            "concepts/": "`types/`, `error.hpp`",
            "slots/": "`types/place.hpp`, `concepts/`",
        }

        def layout_run(rows):
            with open(layout, "w", encoding="utf-8") as f:
                f.write("# x\n\n## Layout\n\n| folder | what | may include |\n|---|---|---|\n")
                f.write("".join(f"| `{k}` | text | {v} |\n" for k, v in rows.items()))
                f.write("\n## Next\n\n| `slots/` | x | nothing |\n")
            return subprocess.run(base + ["--after", "HEAD", "--layout", layout], capture_output=True, text=True)

        r = layout_run(rows)
        check(f"--layout: the tree keeps the table, got {r.returncode}:\n{r.stdout}", r.returncode == 0)
        r = layout_run(dict(rows, **{"slots/": "`concepts/`"}))
        check(f"--layout: a header the row does not name is refused, got {r.returncode}:\n{r.stdout}",
              r.returncode == 1 and "slots/layout.hpp includes types/place.hpp" in r.stdout)
        r = layout_run({k: v for k, v in rows.items() if k != "concepts/"})
        check(f"--layout: a folder with no row is refused, got {r.returncode}:\n{r.stdout}",
              r.returncode == 1 and "concepts/ has no row" in r.stdout)
        r = layout_run(dict(rows, **{"stop/": "nothing"}))
        check(f"--layout: a row with no headers is refused, got {r.returncode}:\n{r.stdout}",
              r.returncode == 1 and "row stop/ names no header" in r.stdout)

    if failures:
        print("header_deps_test: failed:\n- " + "\n- ".join(failures))
        return 1
    print("header_deps_test: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
