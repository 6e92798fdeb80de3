#!/usr/bin/env python3
"""PyTorch 2 peer of bench_cuda: the reference denoiser's forward pass to the top 16 (id, log-probability)
per slot, same architecture, weights, shapes and token ids, on the same GPU, in up to three variants:
eager, torch.compile, and torch.compile(mode="reduce-overhead") (CUDA graphs).

A fair PyTorch implementation: weights and activations in bf16 (matrix products accumulate in fp32),
q/k/v in one product, scaled_dot_product_attention (flash / memory-efficient kernels), a key mask
for the ragged batch (padded to its longest sequence), only the real slots projected onto the
vocabulary, log-softmax in fp32, torch.topk. Each timed call includes what bench_cuda's does: the
ids go up from pinned host memory, the top-k comes back to the host.

Shapes (bench_cuda's): 1 x 32, 8 x 64, 64 x 64, 512 ragged 32-64, 64 ragged 256-1024; sequence i of a
ragged shape has lo + (37 i) mod (hi - lo + 1) tokens, token j of it 4 + (131 i + 31 j) mod (V - 4).

usage: python3 tools/peers/reference_torch_cuda.py [--weights models/reference.safetensors]
           [--device cuda] [--repetitions 3] [--min-time 0.2] [--variants eager,reduce-overhead]
           [--budget 150] [--json out.json]
       python3 tools/peers/reference_torch_cuda.py --make-small PATH [--weights ...]
           (writes a randomly initialised model of the 5.4M configuration, d 256, 4 layers, 4 heads,
           MLP 1024, vocabulary 8192, with the shipped file's other settings: bench_cuda's model 1)
       python3 tools/peers/reference_torch_cuda.py --compare BENCH_JSON PEER_JSON
           (the ratio table: bench_cuda's medians against the fastest PyTorch variant per shape)
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
from train_reference import ReferenceDenoiser, load_weights, rope_tables, save_weights  # noqa: E402  (one definition of the file format)

TOP = 16
SHAPES = ((1, 32, 32), (8, 64, 64), (64, 64, 64), (512, 32, 64), (64, 256, 1024))  # (batch, lo, hi)


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


def shape_inputs(batch, lo, hi, V):
    """bench_cuda's inputs: sequence i has lo + (37 i) mod (hi - lo + 1) tokens; token j of it is
    4 + (131 i + 31 j) mod (V - 4). The mask is None when every sequence has the same length."""
    lens = [lo + (37 * i) % (hi - lo + 1) for i in range(batch)]
    L = max(lens)
    i = torch.arange(batch)[:, None]
    j = torch.arange(L)[None, :]
    tokens = (4 + (131 * i + 31 * j) % (V - 4)).int()
    mask = j < torch.tensor(lens)[:, None]
    tokens = tokens.masked_fill(~mask, 0)
    slot_mask = mask[:, :, None].expand(batch, L, 2).reshape(-1)
    slots = torch.nonzero(slot_mask).flatten()
    return tokens, (mask if lo != hi else None), slots, sum(lens)


def shape_name(batch, lo, hi):
    return f"{batch} x {lo}" if lo == hi else f"{batch} ragged {lo}-{hi}"


def make_small(weights, path):
    """A randomly initialised model of the 5.4M configuration (speed does not depend on the values)."""
    cfg = dict(load_weights(weights).cfg)
    cfg.update(d_model=256, layers=4, heads=4, mlp=1024, vocabulary_size=8192)
    cfg["never_insert"] = tuple(t for t in cfg["never_insert"] if t < 8192)
    torch.manual_seed(20261129)
    save_weights(ReferenceDenoiser(cfg).eval(), path, {})
    print(f"wrote {path}: random weights, d 256, 4 layers, 4 heads, MLP 1024, vocabulary 8192")


def compare(bench_json, peer_json):
    """bench_cuda's medians (defaults: graphs, slab 1024, fused GELU, mma attention, small-batch products) against the
    fastest PyTorch variant of the same shape and model, printed as a table."""
    import re
    bench = json.loads(pathlib.Path(bench_json).read_text())
    peer = json.loads(pathlib.Path(peer_json).read_text())
    ours = {}
    for b in bench.get("benchmarks", []):
        m = re.search(r"model:(\d+)/batch:(\d+)/lo:(\d+)/hi:(\d+)/graphs:1/slab:1024/fused_gelu:1/mma:1/small:1/real_time_median$", b["name"])
        if m and not b.get("error_occurred"):
            ours[tuple(int(x) for x in m.groups())] = (b["real_time"] * {"us": 1e-3, "ms": 1.0, "ns": 1e-6}[b["time_unit"]], b)
    print(f"{'model':6s} {'shape':22s} {'slotdiff ms':>12s} {'best torch ms':>14s} {'variant':16s} {'ratio':>6s} "
          f"{'tokens/s':>12s} {'slots/s':>12s} {'roofline':>8s}")
    for model in (0, 1):
        for batch, lo, hi in SHAPES:
            rows = [r for r in peer["results"] if r.get("model", 0) == model and r["batch"] == batch and r["lo"] == lo and r["hi"] == hi]
            mine = ours.get((model, batch, lo, hi))
            if not rows and not mine:
                continue
            best = min(rows, key=lambda r: r["median_ms"]) if rows else None
            ms = mine[0] if mine else float("nan")
            ratio = best["median_ms"] / ms if best and mine else float("nan")
            extra = mine[1] if mine else {}
            print(f"{model:<6d} {shape_name(batch, lo, hi):22s} {ms:12.3f} "
                  f"{best['median_ms'] if best else float('nan'):14.3f} {best['variant'] if best else '-':16s} {ratio:6.2f} "
                  f"{extra.get('tokens/s', float('nan')):12.4g} {extra.get('slots/s', float('nan')):12.4g} "
                  f"{extra.get('roofline', float('nan')):8.4f}")


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
    ap.add_argument("--small-weights", help="also measure this file as model 1 (the 5.4M configuration)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=0.2)
    ap.add_argument("--variants", default="eager,reduce-overhead", help="of eager, compile, reduce-overhead")
    ap.add_argument("--budget", type=float, default=150.0, help="seconds; shapes not begun by then are skipped")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--make-small", metavar="PATH")
    ap.add_argument("--compare", nargs=2, metavar=("BENCH_JSON", "PEER_JSON"))
    args = ap.parse_args()
    if args.compare:
        return compare(*args.compare)
    if args.make_small:
        return make_small(args.weights, args.make_small)
    t_start = time.perf_counter()
    dev = torch.device(args.device)
    gpu = dev.type == "cuda"
    name = torch.cuda.get_device_name(dev) if gpu else "cpu"
    sync = torch.cuda.synchronize if gpu else (lambda: None)
    out = {"device": name, "torch": torch.__version__, "top_k": TOP, "results": [], "skipped": []}
    print(f"torch {torch.__version__} on {name}")
    models = [(0, args.weights)] + ([(1, args.small_weights)] if args.small_weights else [])
    for model_index, path in models:
        ref = load_weights(path)
        V = ref.cfg["vocabulary_size"]
        model = Fast(ref, torch.bfloat16 if gpu else torch.float32, dev).eval()
        variants = {"eager": model}
        wanted = args.variants.split(",") if gpu else ["eager"]
        if gpu and hasattr(torch, "compile"):
            if "compile" in wanted:
                variants["compile"] = torch.compile(model, dynamic=False)
            if "reduce-overhead" in wanted:
                variants["reduce-overhead"] = torch.compile(model, mode="reduce-overhead", dynamic=False)
        if "eager" not in wanted:
            del variants["eager"]
        for batch, lo, hi in SHAPES:
            tokens_h, mask_h, slots_h, real_tokens = shape_inputs(batch, lo, hi, V)
            if gpu:
                tokens_h = tokens_h.pin_memory()
            mask = None if mask_h is None else mask_h.to(dev)
            slots = slots_h.to(dev)
            for vname, f in variants.items():
                if time.perf_counter() - t_start > args.budget:
                    out["skipped"].append(dict(model=model_index, variant=vname, batch=batch, lo=lo, hi=hi))
                    print(f"model {model_index} {vname:16s} {shape_name(batch, lo, hi):20s}: skipped (budget of {args.budget:.0f} s spent)")
                    continue

                def one():
                    if vname == "reduce-overhead":
                        torch.compiler.cudagraph_mark_step_begin()
                    with torch.inference_mode():
                        tok = tokens_h.to(dev, non_blocking=True).long()
                        logp, ids = f(tok, mask, slots)
                        return logp.cpu(), ids.cpu()  # the top-k back on the host, as bench_cuda
                for _ in range(3):  # compile, capture, warm up
                    one()
                med, lo_t, hi_t = measure(one, args.repetitions, args.min_time, sync)
                row = dict(model=model_index, variant=vname, batch=batch, lo=lo, hi=hi, ragged=lo != hi, tokens=real_tokens,
                           slots=2 * real_tokens, median_ms=med * 1e3, min_ms=lo_t * 1e3, max_ms=hi_t * 1e3,
                           tokens_per_s=real_tokens / med, slots_per_s=2 * real_tokens / med)
                out["results"].append(row)
                print(f"model {model_index} {vname:16s} {shape_name(batch, lo, hi):20s}: median {med * 1e3:8.3f} ms "
                      f"(min {lo_t * 1e3:.3f}, max {hi_t * 1e3:.3f})  {real_tokens / med:,.0f} tokens/s", flush=True)
                if args.json:  # written as it goes: a run cut short still leaves its figures
                    pathlib.Path(args.json).write_text(json.dumps(out, indent=1))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
