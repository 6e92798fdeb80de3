#!/usr/bin/env python3
"""PyTorch 2 peer of bench_cuda: the reference denoiser's forward pass to the top 16 (id, log-probability)
per slot, same architecture, weights and token ids, on the same GPU, in three variants:
eager, torch.compile, and torch.compile(mode="reduce-overhead") (CUDA graphs).

A fair PyTorch implementation: weights and activations in bf16 (matrix products accumulate in fp32),
q/k/v in one product, scaled_dot_product_attention (flash / memory-efficient kernels), a key mask
for the ragged batch (padded to its longest sequence, 64), only the real slots projected onto the
vocabulary, log-softmax in fp32, torch.topk. Each timed call includes what bench_cuda's does: the
ids go up from pinned host memory, the top-k comes back to the host.

usage: python3 tools/peers/reference_torch_cuda.py [--weights models/reference.safetensors]
           [--device cuda] [--repetitions 5] [--min-time 0.5] [--json out.json]
(--device cpu runs the eager variant only, as a smoke test on machines without a GPU.)
"""
import argparse
import json
import pathlib
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from train_reference import load_weights, rope_tables  # noqa: E402  (one definition of the file format)

TOP = 16


class Fast(torch.nn.Module):
    """The reference architecture, written for speed (same weights as train_reference.ReferenceDenoiser)."""

    def __init__(self, ref, dtype, device):
        super().__init__()
        cfg = ref.cfg
        self.H, self.d = cfg["heads"], cfg["d_model"]
        self.hd = self.d // self.H
        self.eps = cfg["norm_eps"]
        p = lambda t: torch.nn.Parameter(t.detach().to(device=device, dtype=dtype), requires_grad=False)  # noqa: E731
        self.emb = p(ref.tok_embeddings.weight)
        self.layers = []
        for i, b in enumerate(ref.layers):
            layer = dict(an=p(b.attn_norm.weight), mn=p(b.mlp_norm.weight),
                         wqkv=p(torch.cat([b.wq.weight, b.wk.weight, b.wv.weight], 0)),
                         wo=p(b.wo.weight), w1=p(b.w1.weight), w2=p(b.w2.weight))
            for k, v in layer.items():
                self.register_parameter(f"l{i}_{k}", v)
            self.layers.append(layer)
        self.fn = p(ref.final_norm.weight)
        self.heads = p(torch.cat([ref.head_left.weight, ref.head_right.weight], 0))  # [2d, d]
        never = torch.zeros(cfg["vocabulary_size"], dtype=torch.bool)
        never[list(cfg["never_insert"])] = True
        self.register_buffer("never", never.to(device))
        cos, sin = rope_tables(1024, self.hd, cfg["rope_base"], device)
        self.register_buffer("cos", cos.to(dtype))
        self.register_buffer("sin", sin.to(dtype))

    def norm(self, x, w):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps) * w.float()).to(x.dtype)

    def rope(self, x, L):
        half = self.hd // 2
        c, s = self.cos[:L][None, None], self.sin[:L][None, None]
        x1, x2 = x[..., :half], x[..., half:]
        return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)

    def forward(self, tokens, mask, slots):
        """tokens (B, L); mask (B, L) bool or None (all real); slots (S,) indices into the (B L 2)
        slot-query rows. Returns the top-16 log-probabilities and ids per slot, (S, 16) each."""
        B, L = tokens.shape
        H, hd, d = self.H, self.hd, self.d
        x = self.emb[tokens]
        attn_mask = None if mask is None else mask[:, None, None, :]
        for ly in self.layers:
            qkv = F.linear(self.norm(x, ly["an"]), ly["wqkv"]).view(B, L, 3, H, hd).permute(2, 0, 3, 1, 4)
            q, k, v = self.rope(qkv[0], L), self.rope(qkv[1], L), qkv[2]
            if hasattr(F, "scaled_dot_product_attention"):
                a = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
            else:  # torch 1.x (the CPU smoke test)
                s = torch.matmul(q, k.transpose(-1, -2)).float() / hd ** 0.5
                if attn_mask is not None:
                    s = s.masked_fill(~attn_mask, float("-inf"))
                a = torch.matmul(torch.softmax(s, -1).to(v.dtype), v)
            x = x + F.linear(a.transpose(1, 2).reshape(B, L, d), ly["wo"])
            x = x + F.linear(F.gelu(F.linear(self.norm(x, ly["mn"]), ly["w1"]), approximate="tanh"), ly["w2"])
        u = F.linear(self.norm(x, self.fn), self.heads).reshape(B * L * 2, d)[slots]
        logits = F.linear(u, self.emb).float().masked_fill(self.never, float("-inf"))
        return torch.topk(torch.log_softmax(logits, -1), TOP, dim=-1)


def shape_inputs(batch, ragged, V):
    """bench_cuda's inputs: sequence i has 32 + (37 i) mod 33 tokens if ragged (else 32); token j of it is
    4 + (131 i + 31 j) mod (V - 4)."""
    lens = [32 + (37 * i) % 33 if ragged else 32 for i in range(batch)]
    L = max(lens)
    i = torch.arange(batch)[:, None]
    j = torch.arange(L)[None, :]
    tokens = (4 + (131 * i + 31 * j) % (V - 4)).int()
    mask = j < torch.tensor(lens)[:, None]
    tokens = tokens.masked_fill(~mask, 0)
    slot_mask = mask[:, :, None].expand(batch, L, 2).reshape(-1)
    slots = torch.nonzero(slot_mask).flatten()
    return tokens, (mask if ragged else None), slots, sum(lens)


def measure(fn, reps, min_time, sync):
    times = []
    for _ in range(reps):
        n, t0 = 0, time.perf_counter()
        while n < 3 or time.perf_counter() - t0 < min_time:
            fn()
            n += 1
        sync()
        times.append((time.perf_counter() - t0) / n)
    return statistics.median(times), min(times), max(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default="models/reference.safetensors")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.5)
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    dev = torch.device(args.device)
    gpu = dev.type == "cuda"
    ref = load_weights(args.weights)
    V = ref.cfg["vocabulary_size"]
    model = Fast(ref, torch.bfloat16 if gpu else torch.float32, dev).eval()
    name = torch.cuda.get_device_name(dev) if gpu else "cpu"
    sync = torch.cuda.synchronize if gpu else (lambda: None)
    variants = {"eager": model}
    if gpu and hasattr(torch, "compile"):
        variants["compile"] = torch.compile(model, dynamic=False)
        variants["reduce-overhead"] = torch.compile(model, mode="reduce-overhead", dynamic=False)
    out = {"device": name, "torch": torch.__version__, "top_k": TOP, "results": []}
    print(f"torch {torch.__version__} on {name}")
    for batch, ragged in ((1, False), (512, True)):
        tokens_h, mask_h, slots_h, real_tokens = shape_inputs(batch, ragged, V)
        if gpu:
            tokens_h = tokens_h.pin_memory()
        mask = None if mask_h is None else mask_h.to(dev)
        slots = slots_h.to(dev)
        for vname, f in variants.items():
            def one():
                if vname == "reduce-overhead":
                    torch.compiler.cudagraph_mark_step_begin()
                with torch.inference_mode():
                    tok = tokens_h.to(dev, non_blocking=True).long()
                    logp, ids = f(tok, mask, slots)
                    return logp.cpu(), ids.cpu()  # the top-k back on the host, as bench_cuda
            for _ in range(3):  # compile, capture, warm up
                one()
            med, lo, hi = measure(one, args.repetitions, args.min_time, sync)
            row = dict(variant=vname, batch=batch, ragged=ragged, tokens=real_tokens, median_ms=med * 1e3, min_ms=lo * 1e3,
                       max_ms=hi * 1e3, tokens_per_s=real_tokens / med)
            out["results"].append(row)
            print(f"{vname:16s} batch {batch:4d} {'ragged 32-64' if ragged else 'x 32':12s}: median {med * 1e3:8.3f} ms "
                  f"(min {lo * 1e3:.3f}, max {hi * 1e3:.3f})  {real_tokens / med:,.0f} tokens/s")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
