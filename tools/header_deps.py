#!/usr/bin/env python3
"""Which slotdiff headers each public header depends on, from the compiler's own `-MM` lists.

For every header under include/slotdiff (`*.hpp`; `*.cuh` only with --nvcc) it runs
`g++ -std=c++20 -MM -I include <third-party dirs> -x c++ HEADER`, keeps the slotdiff headers of the
answer (transitive, as the preprocessor sees them: #if branches not taken are not followed) and marks
as *direct* those the header names in its own #include lines. From that it draws a table
(header -> direct and transitive slotdiff dependencies), a summary per folder (which folders each
folder's headers reach), and the check that tests/concepts/check_deps.cmake enforces: concepts/
reaches only types/, concepts/ and error.hpp.

With --before REV it analyses REV as well (checked out with `git worktree add --no-checkout` into a
temporary folder, only include/ written, the worktree removed afterwards) and prints what changed.

Third-party include folders (Eigen3, Boost, xtensor, nlohmann_json) are found the way the build finds
them: a throw-away CMake project calls find_package for each and prints the targets'
INTERFACE_INCLUDE_DIRECTORIES. Add or replace them with -I DIR (and --no-cmake). They are passed as
-isystem so that -MM leaves their headers out.

    /usr/bin/python3 tools/header_deps.py                        # the working tree, as text
    /usr/bin/python3 tools/header_deps.py --after HEAD --before 0b033e1 --markdown docs/header-deps.md

Only the standard library is used. Exit status: 0, or 1 when a header fails to preprocess or, with
--check, when concepts/ reaches an implementation header; 2 on a usage error.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SYSTEM_DIRS = {"/usr/include", "/usr/local/include"}  # as -I/-isystem they break #include_next
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
# The rule of tests/concepts/check_deps.cmake: a contract names vocabulary types only.
MISSING = set()  # third-party headers not found (with --skip-missing)
CONCEPT_ALLOWED = re.compile(r"^(concepts/|types/|error\.hpp$)")

CMAKE_PROBE = """cmake_minimum_required(VERSION 3.16)
project(slotdiff_header_deps_probe CXX)
find_package(Boost QUIET CONFIG COMPONENTS headers)
find_package(Eigen3 QUIET NO_MODULE)
find_package(xtensor QUIET CONFIG)
find_package(nlohmann_json QUIET CONFIG)
foreach(t Boost::headers Eigen3::Eigen xtensor xtl nlohmann_json::nlohmann_json)
  if(TARGET ${t})
    get_target_property(dirs ${t} INTERFACE_INCLUDE_DIRECTORIES)
    if(dirs)
      message(STATUS "INCLUDE_DIRS ${t}=${dirs}")
    endif()
  endif()
endforeach()
"""


def cmake_include_dirs():
    """The include folders of the packages the build uses, as CMake's find_package sees them."""
    cmake = shutil.which("cmake")
    if not cmake:
        return [], "cmake not found: third-party folders only from -I"
    with tempfile.TemporaryDirectory(prefix="header_deps_cmake_") as tmp:
        with open(os.path.join(tmp, "CMakeLists.txt"), "w", encoding="utf-8") as f:
            f.write(CMAKE_PROBE)
        r = subprocess.run([cmake, "-S", tmp, "-B", os.path.join(tmp, "b")], capture_output=True, text=True)
    if r.returncode != 0:
        return [], "the CMake probe failed: third-party folders only from -I"
    dirs, found = [], []
    for line in r.stdout.splitlines():
        m = re.search(r"INCLUDE_DIRS (\S+)=(.*)$", line)
        if m:
            found.append(m.group(1))
            for d in m.group(2).split(";"):
                d = d.strip()
                if d and "$<" not in d and d not in dirs:
                    dirs.append(d)
    return dirs, "CMake found " + (", ".join(found) if found else "none of the packages")


def list_headers(include_root, with_cuh):
    out = []
    base = os.path.join(include_root, "slotdiff")
    for dirpath, _, files in os.walk(base):
        for name in files:
            if name.endswith(".hpp") or (with_cuh and name.endswith(".cuh")):
                out.append(os.path.relpath(os.path.join(dirpath, name), base).replace(os.sep, "/"))
    return sorted(out)


def parse_make_deps(text):
    """The prerequisites of a `target: a b \\ c` rule, as written by -MM."""
    text = text.replace("\\\n", " ")
    _, _, deps = text.partition(":")
    return deps.split()


def folder_of(rel):
    """A header's folder: its directory below slotdiff/, or the file itself at the top level."""
    d = os.path.dirname(rel)
    return d + "/" if d else rel


def direct_includes(path, include_root, base):
    """slotdiff headers named in the header's own #include lines (relative to slotdiff/)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    out = set()
    for quote, name in INCLUDE_RE.findall(text):
        candidates = [os.path.join(include_root, name)]
        if quote == '"':
            candidates.insert(0, os.path.join(os.path.dirname(path), name))
        for c in candidates:
            c = os.path.normpath(c)
            if os.path.isfile(c) and c.startswith(base + os.sep):
                out.add(os.path.relpath(c, base).replace(os.sep, "/"))
                break
    return out


def analyse(include_root, cxx, nvcc, extra_dirs, jobs, skip_missing=False, missing=None):
    """{header: {"direct": [...], "all": [...]}} for every header, plus a list of failures.

    skip_missing: a header whose third-party includes are not installed is preprocessed again with
    -MG (the missing names, added to `missing`, are left out; a missing slotdiff header still fails)."""
    missing = set() if missing is None else missing
    include_root = os.path.abspath(include_root)
    base = os.path.join(include_root, "slotdiff")
    headers = list_headers(include_root, nvcc is not None)
    sys_flags = []
    for d in extra_dirs:
        if os.path.normpath(d) not in SYSTEM_DIRS:
            sys_flags += ["-isystem", d]

    def one(rel):
        path = os.path.join(base, rel)
        if rel.endswith(".cuh"):
            cmd = [nvcc, "-std=c++20", "-MM", "-I", include_root] + sys_flags + ["-x", "cu", path]
        else:
            cmd = [cxx, "-std=c++20", "-MM", "-I", include_root] + sys_flags + ["-x", "c++", path]
        r = subprocess.run(cmd, capture_output=True, text=True)
        missing_ok = False
        if r.returncode != 0 and skip_missing:
            # -MG: a header that is not found is listed, not fatal, and the preprocessor goes on
            cmd = cmd[:3] + ["-MG"] + cmd[3:]
            r = subprocess.run(cmd, capture_output=True, text=True)
            missing_ok = True
        if r.returncode != 0:
            return rel, None, " ".join(cmd) + "\n" + r.stderr.strip()
        deps = set()
        for d in parse_make_deps(r.stdout):
            p = os.path.normpath(d if os.path.isabs(d) else os.path.join(os.getcwd(), d))
            if missing_ok and not os.path.exists(p):
                if d.startswith("slotdiff/"):
                    return rel, None, f"{rel} includes {d}, which does not exist"
                missing.add(d)
                continue
            if p.startswith(base + os.sep):
                q = os.path.relpath(p, base).replace(os.sep, "/")
                if q != rel:
                    deps.add(q)
        direct = direct_includes(path, include_root, base) & deps
        return rel, {"direct": sorted(direct), "all": sorted(deps)}, None

    result, failures = {}, []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for rel, deps, err in pool.map(one, headers):
            if deps is None:
                failures.append((rel, err))
            else:
                result[rel] = deps
    return result, failures


def folder_summary(table):
    """{folder: {"headers": n, "direct": set, "all": set}}: the other folders its headers reach."""
    out = {}
    for rel, deps in table.items():
        f = folder_of(rel)
        s = out.setdefault(f, {"headers": 0, "direct": set(), "all": set()})
        s["headers"] += 1
        s["direct"] |= {folder_of(d) for d in deps["direct"]} - {f}
        s["all"] |= {folder_of(d) for d in deps["all"]} - {f}
    return out


def concept_violations(table):
    return [(rel, d) for rel, deps in sorted(table.items()) if rel.startswith("concepts/")
            for d in deps["all"] if not CONCEPT_ALLOWED.match(d)]


def mutual_folders(summary):
    """Pairs of folders that reach each other (a cycle between folders)."""
    pairs = []
    for a in sorted(summary):
        for b in sorted(summary[a]["all"]):
            if a < b and b in summary and a in summary[b]["all"]:
                pairs.append((a, b))
    return pairs


def fmt(items):
    return ", ".join(items) if items else "(none)"


def worktree_include(repo, rev, wt):
    """Check out REV's include/ into a new worktree wt; return its include dir."""
    subprocess.run(["git", "-C", repo, "worktree", "add", "--quiet", "--detach", "--no-checkout", wt, rev],
                   check=True)
    subprocess.run(["git", "-C", wt, "checkout", "--quiet", rev, "--", "include"], check=True)
    return os.path.join(wt, "include")


def remove_worktree(repo, wt):
    subprocess.run(["git", "-C", repo, "worktree", "remove", "--force", wt], check=False,
                   capture_output=True)
    subprocess.run(["git", "-C", repo, "worktree", "prune"], check=False, capture_output=True)


def resolve(repo, rev, short=True):
    """REV as a commit hash (a name like HEAD~1 means another commit inside the new worktree)."""
    return subprocess.run(["git", "-C", repo, "rev-parse"] + (["--short"] if short else []) + [rev + "^{commit}"],
                          check=True, capture_output=True, text=True).stdout.strip()


def run_on(repo, rev, args, dirs):
    """Analyse REV (None: the working tree's include/)."""
    if rev is None:
        return analyse(os.path.join(repo, "include"), args.cxx, args.nvcc, dirs, args.jobs,
                       args.skip_missing, MISSING)
    tmp = tempfile.mkdtemp(prefix="header_deps_")
    wt = os.path.join(tmp, "worktree")
    try:
        inc = worktree_include(repo, resolve(repo, rev, short=False), wt)
        return analyse(inc, args.cxx, args.nvcc, dirs, args.jobs, args.skip_missing, MISSING)
    finally:
        remove_worktree(repo, wt)  # also when the checkout failed half-way
        shutil.rmtree(tmp, ignore_errors=True)


def read_layout(path, heading="Layout"):
    """The rules of the table under `## <heading>` in a Markdown file.

    Each row `| folders | what lives there | may include |` names its folders (or top-level headers)
    in backticks in the first cell, and what they may include in the last: backticked folders
    (`types/`), headers (`io/atomic_file.hpp`), or the word *anything*; the folders of one row may
    include each other. Returns {key: set or None} (None: anything)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## " + re.escape(heading) + r"\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not m:
        raise SystemExit(f"header_deps: no '## {heading}' section in {path}")
    rules = {}
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not line.lstrip().startswith("|") or set(cells[0]) <= set("-: "):
            continue
        keys = re.findall(r"`([^`]+)`", cells[0])
        if not keys:
            continue
        allowed = None if re.search(r"\banything\b", cells[-1]) else set(re.findall(r"`([^`]+)`", cells[-1]))
        for k in keys:  # the folders of one row may include each other
            rules[k] = None if allowed is None else allowed | set(keys)
    if not rules:
        raise SystemExit(f"header_deps: the '## {heading}' section of {path} has no table rows")
    return rules


def layout_violations(table, rules):
    """(problems, unknown): direct includes a row does not allow, and folders with no row."""
    problems, unknown = [], set()
    for rel in sorted(table):
        f = folder_of(rel)
        if f not in rules:
            unknown.add(f)
            continue
        allowed = rules[f]
        if allowed is None:
            continue
        for d in table[rel]["direct"]:
            if folder_of(d) == f or folder_of(d) in allowed or d in allowed:
                continue
            problems.append((rel, d))
    return problems, sorted(unknown)


# ---- reports ----------------------------------------------------------------------------------

def text_report(name, table, summary):
    lines = [f"== {name}: {len(table)} headers", "", "-- per folder (other folders reached; direct ones first)"]
    for f in sorted(summary):
        s = summary[f]
        further = sorted(s["all"] - s["direct"])
        lines.append(f"{f:28} direct: {fmt(sorted(s['direct']))}")
        if further:
            lines.append(f"{'':28} also:   {fmt(further)}")
    lines += ["", "-- per header (direct; then the further ones reached through them)"]
    for rel in sorted(table):
        d = table[rel]
        further = sorted(set(d["all"]) - set(d["direct"]))
        lines.append(f"{rel}: {fmt(d['direct'])}" + (f" | via them: {fmt(further)}" if further else ""))
    return "\n".join(lines)


def diff_lines(before, after, sb, sa):
    lines = []
    for f in sorted(set(sb) | set(sa)):
        b = sb.get(f, {}).get("all", set())
        a = sa.get(f, {}).get("all", set())
        tag = "new folder" if f not in sb else "gone" if f not in sa else ""
        if a != b or tag:
            lines.append((f, tag, sorted(a - b), sorted(b - a)))
    headers = []
    for rel in sorted(set(before) | set(after)):
        if rel not in before:
            headers.append((rel, "new", after[rel]["direct"], [], len(after[rel]["all"]), None))
        elif rel not in after:
            headers.append((rel, "gone", [], before[rel]["direct"], None, len(before[rel]["all"])))
        else:
            bd, ad = set(before[rel]["direct"]), set(after[rel]["direct"])
            ba, aa = set(before[rel]["all"]), set(after[rel]["all"])
            if bd != ad or ba != aa:
                headers.append((rel, "", sorted(ad - bd), sorted(bd - ad), len(aa), len(ba)))
    return lines, headers


def md_escape(s):
    return s.replace("|", "\\|")


def markdown(args, names, tables, summaries, dirs_note, command):
    out = []
    title_rev = names[-1]
    out.append("# Header dependencies")
    out.append("")
    out.append(f"Generated by `{command}`; do not edit by hand. "
               "Each public header under `include/slotdiff` was run through "
               "`g++ -std=c++20 -MM -I include` (third-party folders as `-isystem`: "
               f"{dirs_note}); the slotdiff headers in its answer are what it depends on, "
               "*direct* when the header names them in its own `#include` lines. Paths are relative to "
               "`include/slotdiff/`; a folder's summary lists the other folders its headers reach "
               "(a top-level header counts as a folder of its own). `*.cuh` files are "
               + ("included (nvcc)." if args.nvcc else "left out (they need nvcc; pass `--nvcc`)."))
    out.append("")
    if len(names) == 2:
        (bn, an), (bt, at), (bs, as_) = names, tables, summaries
        out.append(f"Before: `{bn}`. After: `{an}`.")
        out.append("")
    # checks
    out.append("## Checks")
    out.append("")
    out.append("| check | " + " | ".join(f"`{n}`" for n in names) + " |")
    out.append("|---|" + "---|" * len(names))
    rows = []
    viol = [concept_violations(t) for t in tables]
    rows.append(("`concepts/` reaches only `types/`, `concepts/` and `error.hpp` "
                 "(the rule of `tests/concepts/check_deps.cmake`)",
                 ["yes" if not v else "no: " + "; ".join(f"`{a}` -> `{b}`" for a, b in v) for v in viol]))
    rows.append(("what `concepts/` reaches", [fmt([f"`{x}`" for x in sorted(s.get("concepts/", {}).get("all", set()))])
                                              for s in summaries]))
    mutual = [mutual_folders(s) for s in summaries]
    rows.append(("pairs of folders that reach each other",
                 [fmt([f"`{a}` <-> `{b}`" for a, b in m]) for m in mutual]))
    rows.append(("headers", [str(len(t)) for t in tables]))
    for name, cells in rows:
        out.append(f"| {name} | " + " | ".join(md_escape(c) for c in cells) + " |")
    out.append("")
    if len(names) == 2:
        flines, hlines = diff_lines(bt, at, bs, as_)
        out.append("## What changed, per folder")
        out.append("")
        out.append("Folders reached (transitively) that were added or dropped between the two commits.")
        out.append("")
        out.append("| folder | | now reaches too | no longer reaches |")
        out.append("|---|---|---|---|")
        for f, tag, plus, minus in flines:
            out.append(f"| `{f}` | {tag} | {fmt(plus)} | {fmt(minus)} |")
        out.append("")
        out.append("## Folder summary, before and after")
        out.append("")
        out.append("Other folders each folder's headers reach: directly (by their own `#include` lines), "
                   "then through those.")
        out.append("")
        out.append(f"| folder | headers | before `{bn}`: direct | before: also via them | "
                   f"after `{an}`: direct | after: also via them |")
        out.append("|---|---|---|---|---|---|")
        for f in sorted(set(bs) | set(as_)):
            b, a = bs.get(f), as_.get(f)
            cnt = f"{b['headers'] if b else 0} -> {a['headers'] if a else 0}"
            cells = []
            for s in (b, a):
                if s is None:
                    cells += ["(no such folder)", ""]
                else:
                    cells += [fmt(sorted(s["direct"])), fmt(sorted(s["all"] - s["direct"]))]
            out.append(f"| `{f}` | {cnt} | " + " | ".join(cells) + " |")
        out.append("")
        out.append("## What changed, per header")
        out.append("")
        out.append("Direct includes added (+) and dropped (-), and how many slotdiff headers each reaches "
                   "in all, before -> after.")
        out.append("")
        out.append("| header | | direct + | direct - | reaches (before -> after) |")
        out.append("|---|---|---|---|---|")
        for rel, tag, plus, minus, na, nb in hlines:
            count = f"{'-' if nb is None else nb} -> {'-' if na is None else na}"
            out.append(f"| `{rel}` | {tag} | {fmt(plus)} | {fmt(minus)} | {count} |")
        out.append("")
    else:
        out.append("## Folder summary")
        out.append("")
        out.append("| folder | headers | direct | also via them |")
        out.append("|---|---|---|---|")
        s = summaries[0]
        for f in sorted(s):
            out.append(f"| `{f}` | {s[f]['headers']} | {fmt(sorted(s[f]['direct']))} | "
                       f"{fmt(sorted(s[f]['all'] - s[f]['direct']))} |")
        out.append("")
    t = tables[-1]
    out.append(f"## Every header at `{title_rev}`")
    out.append("")
    out.append("| header | direct | further, through those |")
    out.append("|---|---|---|")
    for rel in sorted(t):
        further = sorted(set(t[rel]["all"]) - set(t[rel]["direct"]))
        out.append(f"| `{rel}` | {fmt(t[rel]['direct'])} | {fmt(further)} |")
    out.append("")
    return "\n".join(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                   help="the repository (default: the one this script is in)")
    p.add_argument("--before", metavar="REV", help="also analyse REV and show what changed")
    p.add_argument("--after", metavar="REV", help="analyse REV instead of the working tree")
    p.add_argument("-I", dest="dirs", action="append", default=[], metavar="DIR",
                   help="a third-party include folder (repeatable)")
    p.add_argument("--no-cmake", action="store_true", help="do not ask CMake for the package folders")
    p.add_argument("--cxx", default="g++", help="the C++ compiler (default g++)")
    p.add_argument("--skip-missing", action="store_true",
                   help="a third-party header that is not installed is left out (g++ -MG), not an error")
    p.add_argument("--nvcc", help="nvcc: also analyse the *.cuh headers with it")
    p.add_argument("--jobs", type=int, default=2, help="compilers at once (default 2)")
    p.add_argument("--markdown", metavar="FILE", help="write the report as Markdown")
    p.add_argument("--json", metavar="FILE",
                   help='write the tables as JSON: [{"revision", "headers": {header: {"direct", "all"}}}], before first')
    p.add_argument("--check", action="store_true",
                   help="exit 1 when concepts/ reaches more than types/, concepts/ and error.hpp")
    p.add_argument("--layout", metavar="FILE",
                   help="check every direct include against the '## Layout' table of FILE "
                        "(docs/design.md); exit 1 on a breach or a folder the table lacks")
    p.add_argument("--quiet", action="store_true", help="print only the checks, not the tables")
    p.add_argument("--command", help="the command line to name in the Markdown report")
    args = p.parse_args(argv)

    repo = os.path.abspath(args.repo)
    dirs = list(args.dirs)
    note = "from -I" if dirs else "none"
    if not args.no_cmake:
        found, note = cmake_include_dirs()
        dirs += [d for d in found if d not in dirs]
    passed = [d for d in dirs if os.path.normpath(d) not in SYSTEM_DIRS]
    note += "; passed: " + (", ".join(f"`{d}`" for d in passed) if passed else "none beyond the compiler's own")

    revs = ([args.before] if args.before else []) + [args.after]
    names, tables, summaries, failed = [], [], [], False
    for rev in revs:
        name = "working tree" if rev is None else resolve(repo, rev)
        table, failures = run_on(repo, rev, args, dirs)
        for rel, err in failures:
            print(f"header_deps: {name}: {rel} failed to preprocess:\n{err}", file=sys.stderr)
            failed = True
        names.append(name)
        tables.append(table)
        summaries.append(folder_summary(table))

    for n, t, s in zip(names, tables, summaries):
        if not args.quiet:
            print(text_report(n, t, s))
            print()
    if len(names) == 2 and not args.quiet:
        flines, _ = diff_lines(tables[0], tables[1], summaries[0], summaries[1])
        print(f"== changes per folder, {names[0]} -> {names[1]}")
        for f, tag, plus, minus in flines:
            print(f"{f:28} {tag:10} +{fmt(plus)}  -{fmt(minus)}")
        print()
    bad = concept_violations(tables[-1])
    for n, t in zip(names, tables):
        v = concept_violations(t)
        print(f"concepts/ check at {n}: " + ("ok" if not v else f"{len(v)} dependencies outside types/, "
                                             "concepts/, error.hpp: " + "; ".join(f"{a} -> {b}" for a, b in v)))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump([{"revision": n, "headers": t} for n, t in zip(names, tables)], f, indent=1)
    if args.markdown:
        command = args.command or "/usr/bin/python3 tools/header_deps.py " + " ".join(argv or sys.argv[1:])
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(markdown(args, names, tables, summaries, note, command))
    if MISSING:
        print("header_deps: not installed, left out (--skip-missing): " + ", ".join(sorted(MISSING)),
              file=sys.stderr)
    layout_bad = False
    if args.layout:
        rules = read_layout(args.layout)
        problems, unknown = layout_violations(tables[-1], rules)
        gone = sorted(k for k in rules if not any(folder_of(h) == k for h in tables[-1]))
        for rel, d in problems:
            print(f"layout ({args.layout}): {rel} includes {d}, which its row does not allow")
        for f in unknown:
            print(f"layout ({args.layout}): {f} has no row in the table")
        for k in gone:
            print(f"layout ({args.layout}): the table's row {k} names no header of {names[-1]}")
        layout_bad = bool(problems or unknown or gone)
        if not layout_bad:
            print(f"layout ({args.layout}): every direct include of {len(tables[-1])} headers is one its row allows")
    if failed or (args.check and bad) or layout_bad:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
