#!/usr/bin/env python3
"""docs/examples.md shows each example's code whole: under every "## ...: `NAME.cpp`" heading, the
first ```cpp block must be examples/NAME.cpp, byte for byte (trailing newlines aside), and every
examples/*.cpp that the doc's table lists must have such a section.

    examples_doc_test.py DOCS/EXAMPLES.md EXAMPLES_DIR"""
import os
import re
import sys


def main():
    doc, folder = sys.argv[1], sys.argv[2]
    text = open(doc, encoding="utf-8").read()
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    checked = []
    for s in sections:
        head = s.splitlines()[0]
        m = re.search(r"`(\w+\.cpp)`\s*$", head)
        if not m:
            continue
        name = m.group(1)
        block = re.search(r"^```cpp\n(.*?)^```$", s, flags=re.M | re.S)
        if not block:
            raise SystemExit(f"{doc}: section \"{head}\" has no ```cpp block")
        want = open(os.path.join(folder, name), encoding="utf-8").read().rstrip("\n")
        got = block.group(1).rstrip("\n")
        if got != want:
            for i, (a, b) in enumerate(zip(got.splitlines(), want.splitlines()), 1):
                if a != b:
                    raise SystemExit(f"{doc}: the code of {name} differs from examples/{name} at line {i}:\n"
                                     f"  doc:  {a}\n  file: {b}")
            raise SystemExit(f"{doc}: the code of {name} and examples/{name} differ in length")
        checked.append(name)
    listed = set(re.findall(r"^\| \[`(\w+\.cpp)`\]", text, flags=re.M))
    missing = sorted(listed - set(checked))
    if missing or len(checked) < 6:
        raise SystemExit(f"{doc}: sections with code: {checked}; listed without one: {missing}")
    print(f"ok: {len(checked)} examples shown whole: {', '.join(checked)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
