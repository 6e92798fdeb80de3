#!/usr/bin/python3
"""Regenerates the figures of README.md and docs/ from the benchmark and eval outputs.

    /usr/bin/python3 tools/plots.py [--out docs/img] [--train-log FILE ...] [--eval FILE]
                                    [--cuda DIR] [--bench-slots FILE]

Each figure is drawn from one kind of output, and skipped (with the reason printed) when that output
is absent; nothing is made up.

  validation.png   training and validation curves (nats per slot) of each model, from the training
                   logs of tools/train_reference.py (default: models/*train-log*.txt)
  eval.png         the `slotdiff eval` table as bars, from its --json output (default:
                   docs/img/data/eval.json, the run of docs/eval.md's table:
                   slotdiff eval --threads 2 --json eval.json)
  cuda_vs_torch.png  median time of one top-k pass of the reference model, slotdiff's CUDA path
                   against PyTorch (eager, torch.compile, reduce-overhead) on the same GPU, from a
                   measurement folder holding bench_cuda.json and peer.json (docs/cuda.md; default:
                   docs/img/data, a copy of the H200 run of 2026-11-29 that docs/cuda.md reports)
  bench_slots.png  one denoising step in each slot sequence, from bench_slots' JSON
                   (docs/benchmarks.md), drawn by tools/plot_bench_slots.py

Needs matplotlib (Debian: python3-matplotlib); run with /usr/bin/python3.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def note(msg):
    print(f"plots: {msg}", file=sys.stderr)


# ---- validation curves --------------------------------------------------------------------------

TRAIN = re.compile(r"\[\s*([\d.]+)s\] epoch \d+ step (\d+): train ([\d.]+) nats/slot")
VALID = re.compile(r"\[\s*([\d.]+)s\] validation ([\d.]+) nats/slot at step (\d+)")
HELD = re.compile(r"held out: ([\d.]+) nats/slot")
KEPT = re.compile(r"kept the state of step (\d+)")


def parse_train_log(path):
    """{train: [(step, nats)], valid: [(step, nats)], held: nats or None, kept: step or None}"""
    log = {"train": [], "valid": [], "held": None, "kept": None}
    for line in open(path, encoding="utf-8", errors="replace"):
        if m := TRAIN.search(line):
            log["train"].append((int(m.group(2)), float(m.group(3))))
        elif m := VALID.search(line):
            log["valid"].append((int(m.group(3)), float(m.group(2))))
        elif m := HELD.search(line):
            log["held"] = float(m.group(1))
        elif m := KEPT.search(line):
            log["kept"] = int(m.group(1))
    return log


def plot_validation(logs, out):
    parsed = [(p, parse_train_log(p)) for p in logs]
    parsed = [(p, l) for p, l in parsed if l["train"] or l["valid"]]
    if not parsed:
        note(f"validation.png skipped: no training curve in {logs or 'models/*train-log*.txt (none found)'}")
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (path, log) in enumerate(parsed):
        name = os.path.basename(path).replace("-train-log.txt", "").replace(".txt", "")
        colour = f"C{i}"
        if log["train"]:
            ax.plot(*zip(*log["train"]), color=colour, alpha=0.55, label=f"{name}: training (as logged)")
        if log["valid"]:
            ax.plot(*zip(*log["valid"]), "o-", color=colour, label=f"{name}: validation")
        if log["kept"] is not None and log["held"] is not None:
            ax.plot([log["kept"]], [log["held"]], "*", color=colour, markersize=13,
                    label=f"{name}: held out {log['held']:.3f} (kept step {log['kept']})")
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("nats per slot (none included)")
    ax.set_title("Reference transformer: training and validation loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    plt.close(fig)
    print(f"wrote {out}")


# ---- eval table ---------------------------------------------------------------------------------

EVAL_COLUMNS = [("bleu2", "BLEU-2"), ("bleu4", "BLEU-4"), ("distinct1", "distinct-1"), ("distinct2", "distinct-2")]


def plot_eval(path, out):
    if not path or not os.path.exists(path):
        note(f"eval.png skipped: no eval JSON ({path}); make one with `slotdiff eval --json eval.json`")
        return
    data = json.load(open(path))
    rows = data["rows"]
    names = [r["name"] for r in rows]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [3, 1.3]})
    width = 0.8 / len(rows)
    for i, r in enumerate(rows):
        xs = [k + (i - (len(rows) - 1) / 2) * width for k in range(len(EVAL_COLUMNS))]
        bars = ax.bar(xs, [r[c] for c, _ in EVAL_COLUMNS], width, label=r["name"], color=f"C{i}")
        for b, (c, _) in zip(bars, EVAL_COLUMNS):
            ax.annotate(f"{r[c]:.3f}" if r[c] < 0.1 else f"{r[c]:.2f}", (b.get_x() + b.get_width() / 2, b.get_height()),
                        ha="center", va="bottom", fontsize=6.5, rotation=90, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(EVAL_COLUMNS)), [label for _, label in EVAL_COLUMNS])
    ax.set_ylim(0, 1.35)
    ax.set_ylabel("score (references = ceiling, random = floor)")
    ax.legend(fontsize=8, loc="upper center", ncol=len(rows))
    ax.grid(axis="y", alpha=0.3)
    ppl = [r["judge_perplexity"] for r in rows]
    ax2.bar(range(len(rows)), ppl, color=[f"C{i}" for i in range(len(rows))])
    ax2.set_yscale("log")
    ax2.set_xticks(range(len(rows)), names, rotation=30, ha="right", fontsize=8)
    ax2.set_title("judge perplexity (lower: more fluent)", fontsize=9)
    for i, p in enumerate(ppl):
        ax2.annotate(f"{p:.0f}", (i, p), ha="center", va="bottom", fontsize=8)
    s = data.get("settings", {})
    fig.suptitle(f"slotdiff eval: {s.get('sentences', '?')} test sentences ({s.get('subset', '')}), keywords to sentence",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    plt.close(fig)
    print(f"wrote {out}")


# ---- CUDA vs PyTorch ----------------------------------------------------------------------------

def plot_cuda(folder, out):
    bench, peer = os.path.join(folder or "", "bench_cuda.json"), os.path.join(folder or "", "peer.json")
    if not folder or not (os.path.exists(bench) and os.path.exists(peer)):
        note(f"cuda_vs_torch.png skipped: no bench_cuda.json and peer.json in {folder} "
             "(scripts/device-cuda makes them on a GPU machine: docs/cuda.md)")
        return
    b = json.load(open(bench))
    p = json.load(open(peer))
    ours = {}  # (batch, ragged) -> {label: ms}
    for r in b["benchmarks"]:
        if r.get("aggregate_name") != "median":
            continue
        m = re.match(r"BM_cuda_top_k/batch:(\d+)/ragged:(\d)/graphs:(\d)/slab:(\d+)/fused_gelu:(\d)", r["run_name"])
        if not m:
            continue
        batch, ragged, graphs, slab, fused = (int(x) for x in m.groups())
        scale = {"us": 1e-3, "ms": 1.0, "ns": 1e-6, "s": 1e3}[r["time_unit"]]
        if graphs and fused and slab == 1024:
            label = "slotdiff CUDA (defaults)"
        elif graphs and fused and slab == 4096:
            label = "slotdiff CUDA (slab 4096)"
        else:
            continue
        ours.setdefault((batch, bool(ragged)), {})[label] = r["real_time"] * scale
    theirs = {}
    for r in p["results"]:
        theirs.setdefault((r["batch"], bool(r["ragged"])), {})[f"PyTorch {r['variant']}"] = r["median_ms"]
    shapes = sorted(set(ours) & set(theirs))
    if not shapes:
        note("cuda_vs_torch.png skipped: no shape measured by both")
        return
    fig, axes = plt.subplots(1, len(shapes), figsize=(5 * len(shapes), 4))
    axes = axes if len(shapes) > 1 else [axes]
    tokens = {(r["batch"], bool(r["ragged"])): r["tokens"] for r in p["results"]}
    for ax, shape in zip(axes, shapes):
        entries = sorted(ours[shape].items()) + sorted(theirs[shape].items(), key=lambda kv: -kv[1])
        labels, ms = zip(*entries)
        colours = ["#3b6fd8" if l.startswith("slotdiff") else "#999999" for l in labels]
        ax.barh(range(len(ms)), ms, color=colours)
        ax.set_yticks(range(len(ms)), labels, fontsize=8)
        ax.invert_yaxis()
        best_torch = min(theirs[shape].values())
        for i, v in enumerate(ms):
            ax.annotate(f"{v:.2f} ms ({best_torch / v:.2f}x)" if labels[i].startswith("slotdiff") else f"{v:.2f} ms",
                        (v, i), va="center", xytext=(3, 0), textcoords="offset points", fontsize=8)
        ax.set_xlim(0, max(ms) * 1.45)
        ax.set_xlabel("median ms per top-k pass (lower is faster)")
        kind = "ragged lengths" if shape[1] else "one length"
        ax.set_title(f"batch {shape[0]}, {kind}, {tokens.get(shape, '?')} tokens", fontsize=10)
    fig.suptitle(f"Reference transformer, top-16 per slot on {p.get('device', 'the GPU')} "
                 f"(x: speed-up over the fastest PyTorch variant)", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    plt.close(fig)
    print(f"wrote {out}")


# ---- slot sequences -----------------------------------------------------------------------------

def plot_bench_slots(path, out):
    if not path or not os.path.exists(path):
        note(f"bench_slots.png skipped: no bench_slots JSON ({path}); docs/benchmarks.md has the command")
        return
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "plot_bench_slots.py"), path, out], check=True,
                   stdout=subprocess.DEVNULL)
    print(f"wrote {out}")


def main():
    a = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    a.add_argument("--out", default=os.path.join(ROOT, "docs", "img"))
    a.add_argument("--train-log", nargs="*", default=sorted(glob.glob(os.path.join(ROOT, "models", "*train-log*.txt"))))
    a.add_argument("--eval", default=os.path.join(ROOT, "docs", "img", "data", "eval.json"))
    a.add_argument("--cuda", default=os.path.join(ROOT, "docs", "img", "data"))
    a.add_argument("--bench-slots", default=None)
    args = a.parse_args()
    os.makedirs(args.out, exist_ok=True)
    plot_validation(args.train_log, os.path.join(args.out, "validation.png"))
    plot_eval(args.eval, os.path.join(args.out, "eval.png"))
    plot_cuda(args.cuda, os.path.join(args.out, "cuda_vs_torch.png"))
    plot_bench_slots(args.bench_slots, os.path.join(args.out, "bench_slots.png"))


if __name__ == "__main__":
    main()
