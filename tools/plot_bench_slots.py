#!/usr/bin/python3
"""Turns bench_slots' JSON output into the plot and the tables of docs/benchmarks.md.

    build/release/benchmarks/bench_slots --benchmark_min_time=0.05 --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
        --benchmark_out=build/release/bench_slots.json --benchmark_out_format=json
    /usr/bin/python3 tools/plot_bench_slots.py build/release/bench_slots.json docs/img/bench_slots.png

Prints markdown tables (median time per step, the editor-like run, and the figures of issue 2's
targets) on stdout.
"""
import json
import re
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

K_NAMES = {0: "1", 1: "n/8", 2: "n/2", 3: "max"}
PATTERNS = {0: "uniform", 1: "clustered", 2: "single_point"}
BASELINES = {"bm_vector_insert": "vector::insert", "bm_memmove_floor": "memmove floor", "bm_check_batch": "check batch"}
PER_STEP = ("memmove floor", "check batch")  # measured once per (n, k), not per pattern


def load(path):
    """{(impl, n, k, pattern): median seconds per step}, and editor-run steps/s per impl."""
    data = json.load(open(path))
    steps, editor = {}, {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"]
        m = re.match(r"bm_editor<(\w+)<side_(?:layout|slots)>>", name)  # side_slots: runs before the rename
        if m:
            editor[m.group(1)] = b["items_per_second"]
            continue
        m = re.match(r"(bm_step<(\w+)<side_(?:layout|slots)>>|bm_vector_insert|bm_memmove_floor|bm_check_batch)/n:(\d+)/k:(\d)/pattern:(\d)",
                     name)
        if not m:
            continue
        impl = m.group(2) or BASELINES[m.group(1)]
        n, k, p = int(m.group(3)), int(m.group(4)), int(m.group(5))
        unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        steps[(impl, n, k, p)] = b["real_time"] * unit / b["steps_per_iter"]
    return steps, editor


def main(src, png):
    steps, editor = load(src)
    impls = ["vector_slots", "devector_slots", "gap_buffer_slots", "gapped_slots", "vector::insert", "memmove floor",
             "check batch"]
    ns = sorted({key[1] for key in steps})

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), sharey=True)
    for ax, k in zip(axes, (0, 1, 2)):
        for impl in impls:
            p = 0
            xs = [n for n in ns if (impl, n, k, p) in steps]
            if xs:
                ax.loglog(xs, [steps[(impl, n, k, p)] * 1e6 for n in xs], marker="o", label=impl)
        ax.set_title(f"one step, k = {K_NAMES[k]} insertions, uniform slots")
        ax.set_xlabel("n (tokens before the step)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("time per step (us, median)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=110)

    print("| n | k | pattern | " + " | ".join(impls) + " |")
    print("|---|---|---|" + "---|" * len(impls))
    for n in ns:
        for k in range(4):
            for p in range(3):
                row = [steps.get((i, n, k, 0 if i in PER_STEP else p)) for i in impls]
                if all(v is None for v in row[:4]):
                    continue
                cells = ["-" if v is None else f"{v * 1e6:.3g}" for v in row]
                print(f"| {n} | {K_NAMES[k]} | {PATTERNS[p]} | " + " | ".join(cells) + " |")
    print()
    print("Editor-like run (k = 1 at or next to the previous insertion point, n = 262144), steps/s:")
    for impl, rate in sorted(editor.items(), key=lambda kv: -kv[1]):
        print(f"- {impl}: {rate:,.0f}")
    targets(steps, editor, impls[:4])


def targets(steps, editor, seqs):
    """The figures of issue 2's targets, from the same run."""
    n = 16384
    print()
    print(f"Issue 2 targets (n = {n}):")
    base = steps.get(("vector::insert", n, 1, 0))
    if base:
        parts = [f"{i} {steps[(i, n, 1, 0)] * 1e6:.3g} us ({base / steps[(i, n, 1, 0)]:.1f}x)" for i in seqs
                 if (i, n, 1, 0) in steps]
        print(f"- k = n/8 uniform vs repeated vector::insert ({base * 1e6:.3g} us): " + ", ".join(parts))
    floor = steps.get(("memmove floor", n, 2, 0))
    check = steps.get(("check batch", n, 2, 0))
    if floor and check:
        print(f"- k = n/2: checking the batch alone {check * 1e6:.3g} us = {check / floor:.2f}x the memmove floor")
    for p in (0, 1, 2):
        have = [(steps[(i, n, 2, p)], i) for i in seqs if (i, n, 2, p) in steps]
        if floor and have:
            t, best = min(have)
            print(f"- k = n/2 {PATTERNS[p]}: best {best} {t * 1e6:.3g} us vs memmove floor {floor * 1e6:.3g} us "
                  f"({t / floor:.2f}x)" + (f", vs floor + check {t / (floor + check):.2f}x" if check else ""))
    if "gap_buffer_slots" in editor and "vector_slots" in editor:
        print(f"- editor-like run: gap_buffer_slots / vector_slots = "
              f"{editor['gap_buffer_slots'] / editor['vector_slots']:,.0f}x")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
