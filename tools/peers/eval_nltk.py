#!/usr/bin/python3
"""Reference values for the benchmark's metrics (include/slotdiff/eval/), for tests/eval/test_peer.cpp.

Run with Debian's /usr/bin/python3 (python3-nltk 3.8). Input files hold one sentence a line, tokens
separated by single spaces (an empty line is an empty sentence). Output: "name value" lines.

  eval_nltk.py bleu HYPS REFS
      nltk.translate.bleu_score.corpus_bleu, one reference per hypothesis: BLEU-2 and BLEU-4, without
      smoothing and with Chen & Cherry's method 1 (epsilon 0.1).
  eval_nltk.py kn TRAIN TEST ORDER VOCAB_SIZE DISCOUNT
      kn_logprob / kn_predictions: ln P of TEST under interpolated modified Kneser-Ney of ORDER, written
      here from Chen & Goodman (1998) with plain dictionaries (no nltk): one <s> and one </s> per
      sentence, KenLM's adjusted counts, discounts from count-of-counts, a uniform floor over
      VOCAB_SIZE + 1 ids.
      nltk_bigram_perplexity: nltk.lm.KneserNeyInterpolated(order=2, discount=DISCOUNT) on TRAIN,
      perplexity on TEST's padded bigrams (every TEST word must occur in TRAIN). nltk's model has one
      discount and no uniform floor; it equals ours with discounts {0,0,0} at order 1 and
      {D,D,D} at order 2. (At higher orders nltk pads with N-1 <s> and its lower-order gamma counts
      raw-count types, so it is not comparable there.)
"""
import math
import sys
from collections import Counter, defaultdict


def read(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split() for line in f]


def bleu(hyps_path, refs_path):
    from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu
    import warnings

    hyps, refs = read(hyps_path), read(refs_path)
    refs = [[r] for r in refs]
    m1 = SmoothingFunction().method1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nltk warns when an order has no match
        print("bleu2", repr(corpus_bleu(refs, hyps, weights=(0.5, 0.5))))
        print("bleu4", repr(corpus_bleu(refs, hyps)))
        print("bleu2_method1", repr(corpus_bleu(refs, hyps, weights=(0.5, 0.5), smoothing_function=m1)))
        print("bleu4_method1", repr(corpus_bleu(refs, hyps, smoothing_function=m1)))


BOS, EOS = "<s>", "</s>"


def kn_model(train, order, vocab_size):
    """Returns prob(word, context_tuple) for interpolated modified Kneser-Ney."""
    raw = [Counter() for _ in range(order + 1)]
    for s in train:
        p = [BOS] + s + [EOS]
        for k in range(1, order + 1):
            for i in range(len(p) - k + 1):
                g = tuple(p[i : i + k])
                if g != (BOS,):
                    raw[k][g] += 1
    adjusted = [None] * (order + 1)
    adjusted[order] = raw[order]
    for k in range(order - 1, 0, -1):
        a = Counter()
        for g in raw[k + 1]:  # each distinct left extension counts once
            a[g[1:]] += 1
        for g, c in raw[k].items():
            if g[0] == BOS:
                a[g] = c
        adjusted[k] = a
    discounts = [None] * (order + 1)
    stats = [None] * (order + 1)
    for k in range(1, order + 1):
        n = Counter(c for c in adjusted[k].values() if c <= 4)
        y = n[1] / (n[1] + 2 * n[2]) if n[1] + 2 * n[2] > 0 else 0.5
        d1 = 1 - 2 * y * n[2] / n[1] if n[1] else y
        d2 = 2 - 3 * y * n[3] / n[2] if n[2] else d1
        d3 = 3 - 4 * y * n[4] / n[3] if n[3] else d2
        discounts[k] = [min(max(d1, 0.0), 1.0), min(max(d2, 0.0), 2.0), min(max(d3, 0.0), 3.0)]
        st = defaultdict(lambda: [0, 0, 0, 0])  # total, n1, n2, n3+
        for g, c in adjusted[k].items():
            e = st[g[:-1]]
            e[0] += c
            e[min(c, 3)] += 1
        stats[k] = dict(st)

    def prob(word, context):
        p = 1.0 / (vocab_size + 1)
        for k in range(1, min(len(context) + 1, order) + 1):
            h = tuple(context[len(context) - (k - 1) :]) if k > 1 else ()
            if h not in stats[k]:
                break
            total, n1, n2, n3 = stats[k][h]
            d = discounts[k]
            a = adjusted[k].get(h + (word,), 0)
            disc = max(a - d[min(a, 3) - 1], 0.0) if a else 0.0
            p = (disc + (d[0] * n1 + d[1] * n2 + d[2] * n3) * p) / total
        return p

    return prob


def kn(train_path, test_path, order, vocab_size, discount):
    train, test = read(train_path), read(test_path)
    prob = kn_model(train, int(order), int(vocab_size))
    lp, count = 0.0, 0
    for s in test:
        ctx = [BOS]
        for w in s + [EOS]:
            lp += math.log(prob(w, ctx))
            ctx.append(w)
            count += 1
    print("kn_logprob", repr(lp))
    print("kn_predictions", count)

    from nltk.lm import KneserNeyInterpolated
    from nltk.lm.preprocessing import pad_both_ends, padded_everygram_pipeline
    from nltk.util import bigrams

    grams, words = padded_everygram_pipeline(2, train)
    lm = KneserNeyInterpolated(2, discount=float(discount))
    lm.fit(grams, words)
    test_bigrams = [g for s in test for g in bigrams(pad_both_ends(s, n=2))]
    print("nltk_bigram_perplexity", repr(lm.perplexity(test_bigrams)))


def main(argv):
    if len(argv) >= 2 and argv[1] == "bleu" and len(argv) == 4:
        bleu(argv[2], argv[3])
    elif len(argv) >= 2 and argv[1] == "kn" and len(argv) == 7:
        kn(*argv[2:])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
