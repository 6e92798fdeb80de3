#!/usr/bin/env python3
"""Finds blocks of code written twice: runs of N or more identical significant lines (default 6).

    check_repeats.py [--min-lines N] [--list] PATH...

Reads every C/C++/CUDA source under each PATH (*.hpp *.h *.cuh *.cpp *.cc *.cu) and reports each
pair of places that share a run of at least N *significant* lines, the same line for line after
white space is folded (runs of spaces and tabs become one space, the ends are trimmed) and comments
are removed. A significant line has some code left after that: blank lines, comment-only lines,
lines of nothing but braces and punctuation (`};`, `) {`) and `#include` / `#pragma once` lines are
passed over, so they neither count toward N nor break a run. Text inside string literals, raw ones
included, is kept as it stands.

One row per pair of places, the longest run first:
    R1 include/slotdiff/a.hpp:10-24 ~ include/slotdiff/b.hpp:40-54 (7 lines)
The line numbers are those of the run's first and last significant lines. A run that repeats with
itself shifted (`x:10-20 ~ x:14-24`) is reported too: the same lines stand twice.

Exit status: 0 when nothing repeats, 1 when something does (the rows are printed), 2 on a usage
error. Only the standard library is used, so CTest runs it with /usr/bin/python3 as it is.
"""
import argparse
import os
import re
import sys

EXTENSIONS = (".hpp", ".h", ".hh", ".cuh", ".cpp", ".cc", ".cxx", ".cu")
WS = re.compile(r"[ \t\f\v]+")
SKIP_DIRECTIVE = re.compile(r"^#\s*(include|pragma\s+once)\b")


def strip_comments(text):
    """The text with comments replaced by spaces (newlines kept), strings and raw strings intact."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            # a backslash at the end of a // comment line continues the comment
            while j < n and j > 0 and text[j - 1] == "\\":
                k = text.find("\n", j + 1)
                j = n if k < 0 else k
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "/" and nxt == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "R" and nxt == '"' and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")
                                          or text[i - 1] in "uUL8"):
            m = re.match(r'R"([^()\\ \t\n]{0,16})\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i + m.end())
            end = n if end < 0 else end + len(m.group(1)) + 2
            out.append(text[i:end])
            i = end
        elif c == '"' or (c == "'" and not (i > 0 and text[i - 1].isalnum())):  # not 1'000 separators
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(text[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def significant_lines(text):
    """[(line number, normalised text)] of the lines that count."""
    out = []
    for number, line in enumerate(strip_comments(text).split("\n"), 1):
        norm = WS.sub(" ", line).strip()
        if not norm or not re.search(r"[A-Za-z0-9_\"']", norm) or SKIP_DIRECTIVE.match(norm):
            continue
        out.append((number, norm))
    return out


def source_files(paths):
    for path in paths:
        if os.path.isfile(path):
            yield path
            continue
        for dirpath, dirnames, files in os.walk(path):
            dirnames.sort()
            for name in sorted(files):
                if name.endswith(EXTENSIONS):
                    yield os.path.join(dirpath, name)


def find_repeats(files, min_lines):
    """Pairs of places sharing a maximal run of >= min_lines significant lines.

    Returns [(length, (file, first, last), (file, first, last))], longest first."""
    seqs = []  # per file: (name, [(line, text)])
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as h:
            seqs.append((f, significant_lines(h.read())))
    ids = {}
    coded = [[ids.setdefault(t, len(ids)) for _, t in lines] for _, lines in seqs]
    # Every window of min_lines consecutive significant lines, grouped by content.
    windows = {}
    for fi, code in enumerate(coded):
        for k in range(len(code) - min_lines + 1):
            windows.setdefault(tuple(code[k:k + min_lines]), []).append((fi, k))
    found = {}
    for places in windows.values():
        if len(places) < 2:
            continue
        for x in range(len(places)):
            for y in range(x + 1, len(places)):
                (fa, a), (fb, b) = places[x], places[y]
                ca, cb = coded[fa], coded[fb]
                # only the start of a maximal run: the lines before must differ
                if a > 0 and b > 0 and ca[a - 1] == cb[b - 1]:
                    continue
                length = min_lines
                while (a + length < len(ca) and b + length < len(cb)
                       and ca[a + length] == cb[b + length]):
                    length += 1
                key = (fa, a, fb, b)
                found[key] = max(found.get(key, 0), length)
    rows = []
    for (fa, a, fb, b), length in found.items():
        la, lb = seqs[fa][1], seqs[fb][1]
        rows.append((length, (seqs[fa][0], la[a][0], la[a + length - 1][0]),
                     (seqs[fb][0], lb[b][0], lb[b + length - 1][0])))
    rows.sort(key=lambda r: (-r[0], r[1], r[2]))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("paths", nargs="+", help="files or folders to read")
    p.add_argument("--min-lines", type=int, default=6, help="shortest run reported (default 6)")
    p.add_argument("--relative-to", default=None,
                   help="print paths relative to this folder (default: as given)")
    args = p.parse_args(argv)
    if args.min_lines < 2:
        p.error("--min-lines must be at least 2")
    files = list(source_files(args.paths))
    rows = find_repeats(files, args.min_lines)

    def name(f):
        return os.path.relpath(f, args.relative_to) if args.relative_to else f

    for i, (length, (fa, a1, a2), (fb, b1, b2)) in enumerate(rows, 1):
        print(f"R{i} {name(fa)}:{a1}-{a2} ~ {name(fb)}:{b1}-{b2} ({length} lines)")
    if rows:
        print(f"check_repeats: {len(rows)} repeated block(s) of {args.min_lines} or more significant lines "
              f"in {len(files)} files")
        return 1
    print(f"check_repeats: no block of {args.min_lines} or more significant lines repeated "
          f"({len(files)} files read)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
