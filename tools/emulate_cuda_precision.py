#!/usr/bin/python3
"""Emulates the CUDA reference denoiser's number formats on the CPU and measures them against the fp32
model, with the parity figures of test_cuda_reference: top-1 agreement on slots whose fp32 top-2
margin exceeds 0.05, and the largest |log-prob difference| over each slot's top 8.

Rounding is emulated by casting the inputs of every matrix product (weights and activations) to
bf16 or TF32 (10 mantissa bits) and multiplying in fp32; the residual stream, norms, attention
arithmetic, logits and softmax stay fp32, as on the device. Two designs are compared:
  bf16 everywhere      every product's inputs in bf16
  q/k/v in TF32        the same, except the q/k/v product (what reference.cuh does)

usage: /usr/bin/python3 tools/emulate_cuda_precision.py [--weights models/reference.safetensors] [--seed 1]
"""
import argparse
import math
import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from train_reference import load_weights, rope_tables  # noqa: E402


def bf16(t):
    return t.to(torch.bfloat16).float()


def tf32(t):
    i = t.contiguous().view(torch.int32)
    return ((i + 0x1000) & ~0x1FFF).view(torch.float32)  # round to nearest, 10 explicit mantissa bits


def forward(ref, tokens, tf32_products):
    """Log-probabilities (2n, V) of one non-empty sequence with the device's roundings."""
    cfg = ref.cfg
    d, H = cfg["d_model"], cfg["heads"]
    hd, n = d // H, len(tokens)
    cos, sin = rope_tables(n, hd, cfg["rope_base"], "cpu")

    def mm(x, w, name):
        r = tf32 if name in tf32_products else bf16
        return r(x) @ r(w).t()

    def norm(x, g):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + cfg["norm_eps"]) * g

    def rope(t):
        t = t.view(n, H, hd).transpose(0, 1)
        t1, t2 = t[..., : hd // 2], t[..., hd // 2:]
        return torch.cat([t1 * cos - t2 * sin, t2 * cos + t1 * sin], -1)

    x = ref.tok_embeddings.weight[tokens].float()
    for b in ref.layers:
        q, k, v = mm(norm(x, b.attn_norm.weight), torch.cat([b.wq.weight, b.wk.weight, b.wv.weight]), "qkv").split(d, -1)
        q, k, v = rope(q), rope(k), v.view(n, H, hd).transpose(0, 1)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd), -1) @ v
        x = x + mm(a.transpose(0, 1).reshape(n, d), b.wo.weight, "wo")
        m = mm(norm(x, b.mlp_norm.weight), b.w1.weight, "w1")
        g = 0.5 * m * (1 + torch.tanh(0.7978845608028654 * (m + 0.044715 * m ** 3)))
        x = x + mm(g, b.w2.weight, "w2")
    u = bf16(mm(norm(x, ref.final_norm.weight), torch.cat([ref.head_left.weight, ref.head_right.weight]), "heads"))
    logits = u.view(2 * n, d) @ bf16(ref.tok_embeddings.weight).t()
    logits[:, list(cfg["never_insert"])] = -float("inf")
    return torch.log_softmax(logits, -1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default="models/reference.safetensors")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    ref = load_weights(args.weights)
    V = ref.cfg["vocabulary_size"]
    gen = torch.Generator().manual_seed(args.seed)
    # The shapes of test_cuda_reference's parity case: 64 sequences of 0..40, 32 of 0..150, 200 of 0..64.
    lens = [1] * 4
    for count, longest in ((64, 40), (32, 150), (200, 64)):
        lens += [int(x) for x in torch.randint(0, longest + 1, (count,), generator=gen)]
    designs = {"bf16 everywhere": set(), "q/k/v in TF32": {"qkv"}}
    stats = {name: [0, 0, []] for name in designs}
    with torch.no_grad():
        for n in lens:
            if n == 0:
                continue  # ROOT alone: one slot, nothing the formats change much
            toks = torch.randint(4, V, (n,), generator=gen)
            want = ref.masked_log_probs(ref(toks[None], torch.ones(1, n, dtype=torch.bool)))[0].reshape(2 * n, V)
            top2 = want.topk(2, -1).values
            sure = (top2[:, 0] - top2[:, 1]) > 0.05
            for name, products in designs.items():
                got = forward(ref, toks, products)
                s = stats[name]
                s[0] += int(sure.sum())
                s[1] += int(((got.argmax(-1) == want.argmax(-1)) & sure).sum())
                tv, ti = got.topk(8, -1)
                s[2].append((tv - want.gather(1, ti)).abs().flatten())
    for name, (sure, agree, errs) in stats.items():
        e = torch.cat(errs)
        print(f"{name:16s} top-1 {agree}/{sure} = {agree / sure:.4f}; |top-8 log-prob diff| max {float(e.max()):.4f}, "
              f"99.9% {float(e.quantile(0.999)):.4f}, mean {float(e.mean()):.4f}")


if __name__ == "__main__":
    main()
