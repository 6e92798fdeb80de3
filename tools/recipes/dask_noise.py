#!/usr/bin/python3
"""`slotdiff noise` on a Dask cluster: one bag partition per shard, mapped through the slotdiff noiser.

    PYTHONPATH=build/python /usr/bin/python3 tools/recipes/dask_noise.py data/corpus/train.txt \\
        --shards 8 --workers 2 --format npy -o out/          # a local cluster of 2 worker processes
    ... --scheduler tcp://host:8786                          # an existing cluster instead

Shard I of N holds the input lines i with i % N == I, exactly as `slotdiff noise --shard I/N`, and is
written to OUT/shard-0000I-of-0000N.jsonl (or the .npy shard folder OUT/shard-0000I-of-0000N) in the
bytes that command writes: same ids, same trajectories, same JSON. merge_shards.py merges the N outputs
into the one-process output byte for byte (docs/python.md, "Beyond one machine").

Scoring statistics are the same for every shard: each worker builds its Noiser (once per process,
cached) from the whole input's noised lines, or from --idf-corpus, as the CLI does; the input (and the
vocabulary, IDF corpus, embedder) must be readable by every worker at the same path, as on a shared
filesystem under Slurm. Lines the CLI skips (empty, invalid UTF-8, punctuation only, over --max-tokens)
are skipped and counted the same way. Needs Debian's python3-dask and python3-distributed, and the
slotdiff package (docs/python.md) on every worker's path.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shard_io  # noqa: E402

_NOISERS = {}  # per worker process: (input, options) -> (Noiser, vocabulary)


def _noiser(input_path, o):
    """The Noiser of these options over the whole input's statistics, built once per worker process."""
    import slotdiff
    key = (os.path.abspath(input_path), tuple(sorted((k, str(v)) for k, v in o.items())))
    if key not in _NOISERS:
        corpus = (shard_io.idf_corpus_lines(o["idf_corpus"]) if o["idf_corpus"] else
                  [t for _, t in shard_io.valid_lines(input_path, o["max_tokens"])])
        noiser = slotdiff.Noiser(o["scorer"], corpus, layout=o["layout"], schedule=o["schedule"], selection=o["select"],
                                 keep_keywords=o["keep"], seed=o["seed"], temperature=o["temperature"],
                                 protect=o["protect"] or None, embedder=o["embedder"], metric=o["metric"],
                                 embedder_oov=o["embedder_oov"], exact_up_to=o["exact_up_to"])
        vocab = slotdiff.Tokenizer.load(o["vocab"] or str(slotdiff.data_path("corpus", "vocab.txt")))
        _NOISERS[key] = (noiser, vocab)
    return _NOISERS[key]


def shard_records(input_path, shard, shards, max_tokens):
    """The bag partition of shard I: [(line index, text or None, skip reason)] of the lines i % N == I."""
    out = []
    for i, line in enumerate(shard_io.read_line_bytes(input_path)):
        if i % shards == shard:
            why, text = shard_io.classify(line, max_tokens)
            out.append((i, text, why))
    return out


def noise_partition(records, input_path, shard, shards, out, o):
    """Noises one shard's records and writes its output; returns [a summary dict]."""
    start = time.perf_counter()
    records = list(records)
    noiser, vocab = _noiser(input_path, o)
    kept = [(i, t) for i, t, why in records if why == shard_io.SKIP_NONE]
    trs = noiser.noise_text([t for _, t in kept], vocab, trajectories=o["trajectories"], threads=o["threads"],
                            indices=[i for i, _ in kept])
    path = shard_io.shard_name(out, shard, shards, o["format"])
    if o["format"] == "jsonl":
        shard_io.write_jsonl(path, shard_io.jsonl_lines(trs, o["trajectories"], vocab if o["words"] else None))
    else:
        shard_io.write_npy_shard(path, shard_io.npy_arrays(trs), {"side": "side_slots", "gap": "gap_slots"}[trs.layout],
                                 len(vocab))
    skipped = [sum(1 for r in records if r[2] == k) for k in range(1, 5)]
    return [{"shard": shard, "path": path, "lines": len(records), "noised": len(kept), "trajectories": len(trs),
             "skipped": skipped, "seconds": time.perf_counter() - start, "worker": os.getpid()}]


def run(input_path, out, shards, o, client):
    """Builds the bag (partition I = shard I), maps it through the noiser, writes every shard; returns
    the summaries in shard order."""
    import dask
    import dask.bag as db
    os.makedirs(out, exist_ok=True)
    parts = [dask.delayed(shard_records)(input_path, i, shards, o["max_tokens"]) for i in range(shards)]
    bag = db.from_delayed(parts)
    # map_partitions passes the partition's index nowhere, so each partition gets its shard number
    # from a bag of shard numbers zipped to it partition by partition.
    numbers = db.from_sequence(range(shards), npartitions=shards)
    summaries = db.map_partitions(lambda recs, num: noise_partition(recs, input_path, list(num)[0], shards, out, o),
                                  bag, numbers)
    return sorted(summaries.compute(scheduler=client.get if client else "processes"), key=lambda s: s["shard"])


def parse(argv=None):
    p = argparse.ArgumentParser(description="slotdiff noise on a Dask cluster, one bag partition per shard",
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("input", help="the text file (one sentence a line), readable by every worker")
    p.add_argument("-o", "--out", required=True, help="output folder: shard-0000I-of-0000N.jsonl or shard folders")
    p.add_argument("--shards", type=int, default=4, help="N: shard I holds the lines i %% N == I (default 4)")
    p.add_argument("--workers", type=int, default=2, help="worker processes of the local cluster (default 2)")
    p.add_argument("--threads", type=int, default=1, help="noising threads per shard (default 1; 0: all cores)")
    p.add_argument("--scheduler", help="address of an existing Dask scheduler (default: start a local cluster)")
    p.add_argument("--format", choices=("jsonl", "npy"), default="jsonl")
    p.add_argument("--words", action="store_true", help="JSONL: also the words and each step's text")
    p.add_argument("--vocab", help="vocabulary of the ids written out (default: the bundled one)")
    p.add_argument("--idf-corpus", help="text the statistics are learned from (default: the input, all shards)")
    p.add_argument("--max-tokens", type=int, default=512)
    p.add_argument("--scorer", default="idf")
    p.add_argument("--layout", default="side", choices=("side", "gap"))
    p.add_argument("--schedule", default="fraction:0.5")
    p.add_argument("--select", default="exact", choices=("exact", "greedy"))
    p.add_argument("--keep", type=int, default=0)
    p.add_argument("--protect", action="append", default=[], help="W1,W2,...: never removed; repeatable")
    p.add_argument("--trajectories", type=int, default=1)
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--embedder", help="SIF embedder for shift/dynamic (default: the bundled one)")
    p.add_argument("--metric", default="cosine")
    p.add_argument("--embedder-oov", default="hash", choices=("hash", "skip"))
    p.add_argument("--exact-up-to", type=int, default=10)
    a = p.parse_args(argv)
    if a.shards < 1 or a.workers < 1:
        p.error(f"--shards and --workers: need at least 1, got {a.shards} and {a.workers}")
    if not os.path.isfile(a.input):
        p.error(f"input {a.input} is not a file")
    o = {k: getattr(a, k) for k in ("format", "words", "vocab", "idf_corpus", "max_tokens", "scorer", "layout", "schedule",
                                    "select", "keep", "trajectories", "temperature", "seed", "metric", "embedder_oov",
                                    "exact_up_to", "threads")}
    o["protect"] = [w for arg in a.protect for w in arg.split(",") if w]
    uses_embedder = a.scorer == "dynamic" or "shift" in a.scorer
    o["embedder"] = (os.path.abspath(a.embedder) if a.embedder else "default") if uses_embedder else None
    for k in ("vocab", "idf_corpus"):
        if o[k]:
            o[k] = os.path.abspath(o[k])
    return a, o


def main(argv=None):
    a, o = parse(argv)
    from dask.distributed import Client, LocalCluster
    start = time.perf_counter()
    if a.scheduler:
        client, cluster = Client(a.scheduler), None
    else:
        cluster = LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        summaries = run(os.path.abspath(a.input), os.path.abspath(a.out), a.shards, o, client)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    for s in summaries:
        print(f"shard {s['shard']}/{a.shards}: {s['noised']} of {s['lines']} lines noised into {s['trajectories']} "
              f"trajectories in {s['seconds']:.2f} s (worker pid {s['worker']}) -> {s['path']}", file=sys.stderr)
    skipped = [sum(s["skipped"][k] for s in summaries) for k in range(4)]
    print(f"dask_noise: {sum(s['noised'] for s in summaries)} of {sum(s['lines'] for s in summaries)} lines noised into "
          f"{sum(s['trajectories'] for s in summaries)} trajectories, {a.shards} shards on "
          f"{len({s['worker'] for s in summaries})} worker processes in {time.perf_counter() - start:.2f} s; skipped: "
          + ", ".join(f"{n} {shard_io.SKIP_NAMES[k + 1]}" for k, n in enumerate(skipped)), file=sys.stderr)


if __name__ == "__main__":
    main()
