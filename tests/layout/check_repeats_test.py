#!/usr/bin/env python3
"""tools/check_repeats.py finds what it should and nothing else, on small trees written here.

    check_repeats_test.py TOOLS/CHECK_REPEATS.PY

Each case writes a few headers into a temporary folder, runs the checker on it and compares the
rows (file:first-last pairs) and the exit status with what the case expects."""
import os
import re
import subprocess
import sys
import tempfile

BLOCK = [
    "int total = 0;",
    "for (int i = 0; i < n; ++i)",
    "total += weights[i] * values[i];",
    "if (total < 0)",
    "total = -total;",
    "return total / n;",
]


def run(checker, files, min_lines=None):
    with tempfile.TemporaryDirectory(prefix="check_repeats_test_") as tmp:
        for name, text in files.items():
            path = os.path.join(tmp, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        cmd = [sys.executable, checker, "--relative-to", tmp, tmp]
        if min_lines:
            cmd += ["--min-lines", str(min_lines)]
        r = subprocess.run(cmd, capture_output=True, text=True)
    rows = re.findall(r"^R\d+ (\S+) ~ (\S+) \((\d+) lines\)$", r.stdout, re.M)
    return r.returncode, rows, r.stdout + r.stderr


def body(lines, indent="  "):
    return "\n".join(indent + line for line in lines) + "\n"


def main():
    checker = sys.argv[1]
    failures = []

    def expect(name, files, code, rows, min_lines=None):
        got_code, got_rows, out = run(checker, files, min_lines)
        if got_code != code or sorted(got_rows) != sorted(rows):
            failures.append(f"{name}: expected exit {code} and rows {rows}, got exit {got_code}:\n{out}")

    # The same six lines in two files, one copy re-indented, with a comment, a blank line, a brace
    # line and a trailing comment in the middle: found, with the lines of the first and last one.
    a = "#pragma once\nint f(const int* weights, const int* values, int n) {\n" + body(BLOCK) + "}\n"
    b = ("#pragma once\n// another file\nint g(const int* weights, const int* values, int n)\n{\n"
         + "      int total   =  0;\n"
         + "\n"
         + "  for (int i = 0; i < n; ++i)   // each element\n"
         + "  {\n"
         + "    /* weighted */ total += weights[i] * values[i];\n"
         + "  }\n"
         + "  /// a doc comment\n"
         + body(BLOCK[3:]) + "}\n")
    expect("planted across files", {"x/a.hpp": a, "y/b.hpp": b}, 1, [("x/a.hpp:3-8", "y/b.hpp:5-14", "6")])

    # Five lines are not six; with --min-lines 5 they are.
    five = {"a.hpp": body(BLOCK[:5]), "b.hpp": "int other;\n" + body(BLOCK[:5])}
    expect("five lines", five, 0, [])
    expect("five lines, --min-lines 5", five, 1, [("a.hpp:1-5", "b.hpp:2-6", "5")], min_lines=5)

    # Inside one file, and a longer run reported once with its full length.
    long_block = BLOCK + ["int spare = total;", "(void)spare;"]
    one = body(long_block) + "int between;\n" + body(long_block)
    expect("inside one file", {"a.hpp": one}, 1, [("a.hpp:1-8", "a.hpp:10-17", "8")])

    # Lines that do not count: braces and punctuation, comments, blank lines, #include lines.
    thin = "}\n};\n) {\n\n// a comment\n#include <vector>\n"
    expect("only thin lines", {"a.hpp": thin * 3, "b.hpp": thin * 3}, 0, [])

    # Text that looks like a comment inside a string stays; a raw string's lines are code.
    s1 = body(['const char* a = "// not a comment 1";'] + BLOCK[1:])
    s2 = body(['const char* a = "// not a comment 2";'] + BLOCK[1:])
    expect("strings are not comments", {"a.hpp": s1, "b.hpp": s2}, 0, [])
    raw = 'const char* page = R"html(\n' + "\n".join(f"<p>line {i}</p>" for i in range(6)) + '\n)html";\n'
    expect("raw strings count", {"a.hpp": raw, "b.hpp": "int x;\n" + raw}, 1,
           [("a.hpp:1-8", "b.hpp:2-9", "8")])

    # One differing line breaks a run into two short ones.
    broken = body(BLOCK[:3] + ["total *= 2;"] + BLOCK[3:])
    expect("a differing line", {"a.hpp": body(BLOCK), "b.hpp": broken}, 0, [])

    if failures:
        print("\n\n".join(failures))
        return 1
    print("check_repeats_test: all cases passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
