#!/usr/bin/python3
"""PyTorch CPU peer of bench_reference_cpu: the reference denoiser's forward pass to full
log-probabilities per slot (never-inserted ids masked, log-softmax), same weights, same token ids,
same thread count. Prints the median over repetitions of the mean time per pass.

usage: /usr/bin/python3 tools/peers/reference_torch_cpu.py [--weights models/reference.safetensors]
           [--threads 2] [--repetitions 5] [--min-time 1.0]
Needs Debian's python3-torch and libopenblas0-pthread (docs/reference-model.md).
"""
import argparse
import pathlib
import statistics
import sys
import time

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from train_reference import load_weights  # noqa: E402  (the trainer's model: one definition)


def inputs(batch, length, vocab):
    # bench_reference_cpu's ids exactly: token j of sequence i is 4 + (131 i + 31 j) mod (V - 4)
    i = torch.arange(batch)[:, None]
    j = torch.arange(length)[None, :]
    return (4 + (131 * i + 31 * j) % (vocab - 4)).long(), torch.ones(batch, length, dtype=torch.bool)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default="models/reference.safetensors")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=1.0, help="seconds per repetition (at least 2 passes)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_weights(args.weights)
    V = model.cfg["vocabulary_size"]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, d_model {model.cfg['d_model']}, "
          f"{model.cfg['layers']} layers, vocabulary {V}")
    for batch, length in ((1, 32), (64, 32)):
        tok, mask = inputs(batch, length, V)
        with torch.inference_mode():
            def one():
                return model.masked_log_probs(model(tok, mask))  # (B, L, 2, V): every slot's log-distribution
            one()  # warm-up
            reps = []
            for _ in range(args.repetitions):
                n, t0 = 0, time.perf_counter()
                while n < 2 or time.perf_counter() - t0 < args.min_time:
                    one()
                    n += 1
                reps.append((time.perf_counter() - t0) / n)
        med = statistics.median(reps)
        print(f"torch_log_probs batch {batch} x {length}: median {med * 1e3:.2f} ms "
              f"(min {min(reps) * 1e3:.2f}, max {max(reps) * 1e3:.2f}) = {batch * length / med:,.0f} tokens/s")


if __name__ == "__main__":
    main()
