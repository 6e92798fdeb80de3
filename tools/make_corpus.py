#!/usr/bin/python3
"""Extract the bundled English corpus from WordNet 3.0 (Debian's wordnet-base).

Writes, under data/wordnet/ (or --out):
  examples.txt   the quoted example sentences of every synset with at least --min-words words,
                 one per line, deduplicated, in WordNet file order (noun, verb, adj, adv)
  glosses.txt    the definitions (the gloss parts that are not examples), one per line, deduplicated
  synonyms.tsv   pairs of single-word lemmas of the same synset, "word<TAB>word", lowercased,
                 each unordered pair once (first < second), sorted
  LICENSE        the WordNet 3.0 licence, which allows redistribution with its notice

Deterministic: the same input files give byte-identical outputs. Needs only the standard library.

    /usr/bin/python3 tools/make_corpus.py [--wordnet /usr/share/wordnet] [--out data/wordnet]
"""
import argparse
import itertools
import pathlib
import re
import sys

POS_FILES = ["noun", "verb", "adj", "adv"]

LICENSE = """\
WordNet Release 3.0

This software and database is being provided to you, the LICENSEE, by
Princeton University under the following license.  By obtaining, using
and/or copying this software and database, you agree that you have
read, understood, and will comply with these terms and conditions.:

Permission to use, copy, modify and distribute this software and
database and its documentation for any purpose and without fee or
royalty is hereby granted, provided that you agree to comply with
the following copyright notice and statements, including the disclaimer,
and that the same appear on ALL copies of the software, database and
documentation, including modifications that you make for internal
use or for distribution.

WordNet 3.0 Copyright 2006 by Princeton University.  All rights reserved.

THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON
UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES, EXPRESS OR
IMPLIED.  BY WAY OF EXAMPLE, BUT NOT LIMITATION, PRINCETON
UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES OF MERCHANT-
ABILITY OR FITNESS FOR ANY PARTICULAR PURPOSE OR THAT THE USE
OF THE LICENSED SOFTWARE, DATABASE OR DOCUMENTATION WILL NOT
INFRINGE ANY THIRD PARTY PATENTS, COPYRIGHTS, TRADEMARKS OR
OTHER RIGHTS.

The name of Princeton University or Princeton may not be used in
advertising or publicity pertaining to distribution of the software
and/or database.  Title to copyright in this software, database and
any associated documentation shall at all times remain with
Princeton University and LICENSEE agrees to preserve same.

---
The files in this folder (examples.txt, glosses.txt, synonyms.tsv) are derived from the WordNet 3.0
database files data.noun, data.verb, data.adj and data.adv (Debian package wordnet-base) by
tools/make_corpus.py: example sentences and glosses extracted as plain text, and synonym pairs of
single-word lemmas of the same synset.
"""

QUOTED = re.compile(r'"([^"]*)"')
ADJ_MARKER = re.compile(r"\((a|p|ip)\)$")  # syntactic markers on adjective lemmas: big(a)


def parse_line(line):
    """(lemmas, gloss) of one synset line of a WordNet data file."""
    head, _, gloss = line.partition(" | ")
    fields = head.split()
    w_cnt = int(fields[3], 16)
    lemmas = [ADJ_MARKER.sub("", fields[4 + 2 * i]) for i in range(w_cnt)]
    return lemmas, gloss.strip()


def split_gloss(gloss):
    """Definitions and example sentences of a gloss: examples are the double-quoted parts."""
    examples = [m.strip() for m in QUOTED.findall(gloss)]
    rest = QUOTED.sub("", gloss)
    parts = [p.strip(" ;,-") for p in rest.split(";")]
    definition = "; ".join(p for p in parts if p)
    return definition, examples


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wordnet", default="/usr/share/wordnet", help="folder with data.{noun,verb,adj,adv}")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parent.parent / "data" / "wordnet"))
    ap.add_argument("--min-words", type=int, default=5, help="shortest example sentence kept (words)")
    args = ap.parse_args()

    src = pathlib.Path(args.wordnet)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    examples, glosses, pairs = {}, {}, set()  # dicts keep first-seen order and dedupe
    for pos in POS_FILES:
        path = src / f"data.{pos}"
        if not path.exists():
            sys.exit(f"make_corpus: {path} not found (apt-get install wordnet-base)")
        with open(path, encoding="utf-8", errors="strict") as f:
            for line in f:
                if line.startswith("  "):  # the licence header of the data file
                    continue
                lemmas, gloss = parse_line(line)
                definition, exs = split_gloss(gloss)
                if definition:
                    glosses.setdefault(definition, None)
                for e in exs:
                    if len(e.split()) >= args.min_words:
                        examples.setdefault(e, None)
                words = sorted({w.lower() for w in lemmas if "_" not in w and "-" not in w and w.isalpha()})
                for a, b in itertools.combinations(words, 2):
                    pairs.add((a, b))

    (out / "examples.txt").write_text("".join(e + "\n" for e in examples), encoding="utf-8")
    (out / "glosses.txt").write_text("".join(g + "\n" for g in glosses), encoding="utf-8")
    (out / "synonyms.tsv").write_text("".join(f"{a}\t{b}\n" for a, b in sorted(pairs)), encoding="utf-8")
    (out / "LICENSE").write_text(LICENSE, encoding="utf-8")
    print(f"make_corpus: {len(examples)} examples, {len(glosses)} glosses, {len(pairs)} synonym pairs -> {out}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
