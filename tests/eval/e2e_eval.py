#!/usr/bin/python3
"""`slotdiff eval` end to end on a tiny corpus (the first 1500 training and 60 test lines of
data/corpus, an 800-word vocabulary, so that many keywords are unknown to the model).

usage: e2e_eval.py SLOTDIFF WORK_DIR SOURCE_DIR

Checks: the rows and their invariants (references score BLEU 1 and repeat nothing; every row keeps
the keywords in order; the random floor is as long as the references; the judge prefers the
references to the random floor); 2-4 keywords a set, each a word of its sentence, in order; the
samples print keywords the vocabulary lacks as typed; the same numbers at 1 and 2 threads; the subset
is chosen by text, not position; bad input fails with a message naming it.
"""
import json
import os
import re
import subprocess
import sys


def run(args, ok=True):
    p = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if ok and p.returncode != 0:
        sys.exit(f"FAILED: {' '.join(args)}\nrc {p.returncode}\n{p.stderr}")
    return p


def words(line):
    # the tokenizer's split for plain prose: words, and punctuation marks on their own
    return re.findall(r"[A-Za-z0-9\u0080-\uffff]+(?:['-][A-Za-z0-9\u0080-\uffff]+)*|[^\sA-Za-z0-9]", line.lower())


def main(exe, work, src):
    os.makedirs(work, exist_ok=True)
    corpus = os.path.join(src, "data", "corpus")
    with open(os.path.join(corpus, "train.txt"), encoding="utf-8") as f:
        train = [next(f) for _ in range(1500)]
    with open(os.path.join(corpus, "test.txt"), encoding="utf-8") as f:
        test = [next(f) for _ in range(60)]
    tr, te, vocab = (os.path.join(work, n) for n in ("train.txt", "test.txt", "vocab.txt"))
    open(tr, "w", encoding="utf-8").writelines(train)
    open(te, "w", encoding="utf-8").writelines(test + ["\n"])  # one empty line: skipped
    run([exe, "vocab", "--max-size", "800", "-o", vocab, tr])

    def evaluate(threads, extra=(), name="out"):
        out = os.path.join(work, f"{name}.json")
        p = run([exe, "eval", "--test", te, "--train", tr, "--vocab", vocab, "--model", "ng=ngram", "--subset", "25",
                 "--samples", "25", "--threads", str(threads), "--judge-order", "3", "--json", out, *extra])
        with open(out, encoding="utf-8") as f:
            return json.load(f), p.stdout

    j1, table = evaluate(1)
    j2, _ = evaluate(2, name="out2")
    rows = {r["name"]: r for r in j1["rows"]}
    assert [r["name"] for r in j1["rows"]] == ["references", "random", "ng"], j1["rows"]
    assert "| ng |" in table and "| references |" in table, table
    ref, rnd, ng = rows["references"], rows["random"], rows["ng"]
    assert ref["bleu2"] == 1 and ref["bleu4"] == 1 and ref["adjacent_repeat_rate"] == 0, ref
    for r in (ref, rnd, ng):
        assert r["coverage_in_order"] == 1 and r["keywords_present"] == 1, r
    assert rnd["mean_length"] == ref["mean_length"], (rnd, ref)
    assert rnd["bleu4"] < 1 and ng["bleu4"] < 1
    assert ref["judge_perplexity"] < rnd["judge_perplexity"], (ref, rnd)
    assert j1["settings"]["sentences"] == 25

    # Keywords: 2-4 per set (never more than the sentence has), words of the sentence, in order.
    unknown_shown = 0
    vocab_words = {l.split("\t")[0] for l in open(vocab, encoding="utf-8").read().splitlines()[1:]}
    for s in j1["samples"]:
        kw, sent = s["keywords"], words(s["reference"])
        assert 2 <= len(kw) <= 4 or len(kw) == len(sent), (kw, sent)
        it = iter(sent)
        assert all(k in it for k in kw), (kw, sent)
        out = words(s["outputs"]["ng"])
        it = iter(out)
        assert all(k in it for k in kw), (kw, out)
        unknown_shown += sum(k not in vocab_words for k in kw)
    assert unknown_shown > 0, "expected some keywords outside the 800-word vocabulary"

    # The same results at any thread count.
    strip = lambda j: [{k: v for k, v in r.items() if k != "seconds"} for r in j["rows"]]
    assert strip(j1) == strip(j2), (strip(j1), strip(j2))
    assert j1["samples"] == j2["samples"]

    # The subset depends on the text: reversing the file picks the same sentences.
    rev = os.path.join(work, "reversed.txt")
    open(rev, "w", encoding="utf-8").writelines(reversed(test))
    out = os.path.join(work, "rev.json")
    run([exe, "eval", "--test", rev, "--train", tr, "--vocab", vocab, "--model", "ng=ngram", "--subset", "25",
         "--samples", "25", "--judge-order", "3", "--json", out])
    with open(out, encoding="utf-8") as f:
        jr = json.load(f)
    assert sorted(s["reference"] for s in jr["samples"]) == sorted(s["reference"] for s in j1["samples"])
    assert abs(jr["rows"][0]["judge_perplexity"] - ref["judge_perplexity"]) <= 1e-9 * ref["judge_perplexity"]

    # --all scores every usable line (the empty one is skipped).
    ja, _ = evaluate(2, ["--all"], name="all")
    assert ja["settings"]["sentences"] == 60, ja["settings"]

    # Bad input is named.
    for args, needle in ((["--model", "x=bogus"], "bogus"), (["--model", "noequals"], "noequals"),
                         (["--test", os.path.join(work, "missing.txt")], "missing.txt"),
                         (["--temperature", "hot"], "hot"), (["--model", "a=ngram", "--model", "a=ngram"], "twice")):
        p = run([exe, "eval", "--train", tr, "--vocab", vocab, *(["--test", te] if "--test" not in args else []), *args], ok=False)
        assert p.returncode == 1 and needle in p.stderr, (args, p.returncode, p.stderr)
    print("ok")


if __name__ == "__main__":
    main(*sys.argv[1:])
