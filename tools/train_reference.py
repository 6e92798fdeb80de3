#!/usr/bin/python3
"""Train the slotdiff reference denoiser (docs/reference-model.md) from .npy training shards.

Reads the shards of `slotdiff noise --format npy` (docs/formats.md), trains the architecture of
DESIGN.md "The reference denoiser" with cross-entropy over slots, reports held-out nats per slot,
and writes:
  OUT/reference.safetensors   fp32 weights; metadata = the whole configuration + vocabulary hash
  OUT/reference-golden.safetensors  logits of the trained model for fixed ragged inputs (parity test)
  OUT/train-log.txt           the training log (also on stdout)

Runs on the CPU with Debian's torch 1.13 (install libopenblas0-pthread first) and on CUDA with
torch 2.x (bf16 autocast). `--minutes` is a wall-clock budget: the learning-rate schedule follows
elapsed time, so a short run still ends with a decayed learning rate.

Examples:
  /usr/bin/python3 tools/train_reference.py --shards /tmp/shards --out models --minutes 20
  /usr/bin/python3 tools/train_reference.py --init-only --vocab tests/reference/data/tiny_vocab.txt \
      --d-model 32 --layers 1 --heads 2 --mlp 64 --out tests/reference/data --name tiny
  # noising on the fly (the slotdiff Python package, docs/python.md): a fresh trajectory and step per
  # sentence every epoch; --fixed-trajectories keeps epoch 0's (what one .npy shard holds)
  PYTHONPATH=build/python /usr/bin/python3 tools/train_reference.py --text data/corpus/train.txt --out /tmp/m \
      --noise-temperature 0.5 --minutes 10
"""
import argparse
import json
import math
import os
import pathlib
import struct
import sys
import time

import importlib.util

import numpy as np
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))  # tools/trajectories.py
import torch
import torch.nn as nn
import torch.nn.functional as F


def _load_padding():
    """python/slotdiff/padding.py, the one copy of the batch padding, loaded by its path: it needs only
    numpy and torch, so this script runs without the slotdiff package built or installed (importing
    slotdiff.padding would run the package's __init__, which loads the compiled extension)."""
    path = pathlib.Path(__file__).resolve().parent.parent / "python" / "slotdiff" / "padding.py"
    spec = importlib.util.spec_from_file_location("slotdiff_padding", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_padding = _load_padding()
PAD, UNK, ROOT, NONE = _padding.PAD, _padding.UNK, _padding.ROOT, _padding.NONE
NEVER_INSERT = _padding.NEVER_INSERT
IGNORE = _padding.IGNORE
FORMAT = "slotdiff-reference 1"


# ---- vocabulary --------------------------------------------------------------------------------------
def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def vocabulary_info(path):
    data = pathlib.Path(path).read_bytes()
    lines = data.decode("utf-8").split("\n")
    if not lines or lines[0] != "slotdiff-vocabulary 1":
        raise SystemExit(f"{path}: not a slotdiff vocabulary file (first line {lines[0]!r})")
    size = sum(1 for l in lines[1:] if l)
    return size, fnv1a64(data)


# ---- the model ---------------------------------------------------------------------------------------
class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        xf = x.float()
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (y * self.weight.float()).to(x.dtype)


def rope_tables(n, head_dim, base, device):
    # Angles in float64, then cast: the C++ side does the same, so positions far from 0 still agree.
    half = head_dim // 2
    inv = base ** (-torch.arange(0, half, dtype=torch.float64) * 2.0 / head_dim)
    ang = torch.arange(n, dtype=torch.float64)[:, None] * inv[None, :]
    return torch.cos(ang).float().to(device), torch.sin(ang).float().to(device)


def apply_rope(x, cos, sin):
    # x: (B, H, L, hd); rotate-half convention: pairs (j, j + hd/2).
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    c, s = cos[None, None].to(x.dtype), sin[None, None].to(x.dtype)
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


class Block(nn.Module):
    def __init__(self, d, heads, mlp, eps, dropout=0.0):
        super().__init__()
        self.heads = heads
        self.drop = nn.Dropout(dropout)  # residual dropout, training only
        self.attn_norm = RMSNorm(d, eps)
        self.wq = nn.Linear(d, d, bias=False)
        self.wk = nn.Linear(d, d, bias=False)
        self.wv = nn.Linear(d, d, bias=False)
        self.wo = nn.Linear(d, d, bias=False)
        self.mlp_norm = RMSNorm(d, eps)
        self.w1 = nn.Linear(d, mlp, bias=False)
        self.w2 = nn.Linear(mlp, d, bias=False)

    def forward(self, x, mask, cos, sin):
        B, L, d = x.shape
        H, hd = self.heads, d // self.heads
        h = self.attn_norm(x)
        q = self.wq(h).view(B, L, H, hd).transpose(1, 2)
        k = self.wk(h).view(B, L, H, hd).transpose(1, 2)
        v = self.wv(h).view(B, L, H, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        # Written out (torch 1.13 has no scaled_dot_product_attention): bidirectional, padding masked.
        s = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
        s = s.float().masked_fill(~mask[:, None, None, :], float("-inf"))
        p = torch.softmax(s, dim=-1).to(v.dtype)
        a = torch.matmul(p, v).transpose(1, 2).reshape(B, L, d)
        x = x + self.drop(self.wo(a))
        x = x + self.drop(self.w2(F.gelu(self.w1(self.mlp_norm(x)), approximate="tanh")))
        return x


class ReferenceDenoiser(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        d = cfg["d_model"]
        self.tok_embeddings = nn.Embedding(cfg["vocabulary_size"], d)
        self.layers = nn.ModuleList(Block(d, cfg["heads"], cfg["mlp"], cfg["norm_eps"], cfg.get("dropout", 0.0)) for _ in range(cfg["layers"]))
        self.final_norm = RMSNorm(d, cfg["norm_eps"])
        self.head_left = nn.Linear(d, d, bias=False)
        self.head_right = nn.Linear(d, d, bias=False)
        mask = torch.zeros(cfg["vocabulary_size"], dtype=torch.bool)
        mask[list(cfg["never_insert"])] = True
        self.register_buffer("never", mask, persistent=False)
        allowed = torch.nonzero(~mask).flatten()
        class_of = torch.full((cfg["vocabulary_size"],), -1, dtype=torch.long)
        class_of[allowed] = torch.arange(len(allowed))
        self.register_buffer("allowed_ids", allowed, persistent=False)
        self.register_buffer("class_of", class_of, persistent=False)
        self.reset_parameters()

    def reset_parameters(self):
        std = 0.02
        nn.init.normal_(self.tok_embeddings.weight, std=std)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=std)
        for b in self.layers:  # scaled residual projections (GPT-2 style)
            nn.init.normal_(b.wo.weight, std=std / math.sqrt(2 * len(self.layers)))
            nn.init.normal_(b.w2.weight, std=std / math.sqrt(2 * len(self.layers)))
        nn.init.normal_(self.head_left.weight, std=1.0 / math.sqrt(self.cfg["d_model"]))
        nn.init.normal_(self.head_right.weight, std=1.0 / math.sqrt(self.cfg["d_model"]))

    def hidden(self, tokens, mask):
        L = tokens.shape[1]
        cos, sin = rope_tables(L, self.cfg["d_model"] // self.cfg["heads"], self.cfg["rope_base"], tokens.device)
        x = self.tok_embeddings(tokens)
        for b in self.layers:
            x = b(x, mask, cos, sin)
        return self.final_norm(x)

    def slot_queries(self, tokens, mask):
        """(B, L, 2, d): the vectors whose dot products with the embeddings are the slot logits."""
        h = self.hidden(tokens, mask)
        return torch.stack([self.head_left(h), self.head_right(h)], dim=2)

    def forward(self, tokens, mask):
        """Raw slot logits (B, L, 2, V): [..., 0, :] the left slot of each token, [..., 1, :] the right."""
        u = self.slot_queries(tokens, mask)
        return torch.matmul(u, self.tok_embeddings.weight.to(u.dtype).t())

    def masked_log_probs(self, logits):
        return torch.log_softmax(logits.float().masked_fill(self.never, float("-inf")), dim=-1)


# ---- safetensors (written here: Debian has no python3-safetensors) -----------------------------------
DTYPES = {np.dtype("float32"): "F32", np.dtype("int32"): "I32", np.dtype("int64"): "I64"}


class BF16(np.ndarray):
    """uint16 words holding bfloat16 values (the upper half of binary32), written with dtype BF16."""


def to_bf16(a):
    """fp32 -> bfloat16 bits, round to nearest even (what torch's .to(torch.bfloat16) does)."""
    u = np.ascontiguousarray(a, np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16).view(BF16)


def from_bf16(b):
    return (np.asarray(b, np.uint16).astype(np.uint32) << 16).view(np.float32)


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        a = tensors[name]
        if isinstance(a, BF16):
            dt, b = "BF16", np.ascontiguousarray(a.view(np.uint16)).astype("<u2", copy=False).tobytes()
        else:
            a = np.ascontiguousarray(a)
            if a.dtype not in DTYPES:
                raise ValueError(f"{name}: dtype {a.dtype} not supported")
            dt, b = DTYPES[a.dtype], a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)  # keeps the data 8-byte aligned
    tmp = pathlib.Path(str(path) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def config_metadata(cfg):
    return {
        "format": FORMAT,
        "layout": "side_slots",
        "vocabulary_size": str(cfg["vocabulary_size"]),
        "vocabulary_fnv1a64": cfg["vocabulary_fnv1a64"],
        "d_model": str(cfg["d_model"]),
        "layers": str(cfg["layers"]),
        "heads": str(cfg["heads"]),
        "mlp": str(cfg["mlp"]),
        "norm_eps": repr(cfg["norm_eps"]),
        "rope_base": repr(cfg["rope_base"]),
        "activation": "gelu_tanh",
        "heads_tied_to_embedding": "true",
        "pad_id": str(PAD), "unk_id": str(UNK), "root_id": str(ROOT), "none_id": str(NONE),
        "never_insert": ",".join(str(i) for i in cfg["never_insert"]),
    }


def load_weights(path):
    """A ReferenceDenoiser from a weights file written by save_weights (fp32, CPU, eval mode)."""
    raw = pathlib.Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__")
    if meta.get("format") != FORMAT:
        raise SystemExit(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}")
    data = raw[8 + n:]
    cfg = dict(vocabulary_size=int(meta["vocabulary_size"]), vocabulary_fnv1a64=meta["vocabulary_fnv1a64"],
               d_model=int(meta["d_model"]), layers=int(meta["layers"]), heads=int(meta["heads"]), mlp=int(meta["mlp"]),
               norm_eps=float(meta["norm_eps"]), rope_base=float(meta["rope_base"]),
               never_insert=tuple(int(x) for x in meta["never_insert"].split(",")))
    model = ReferenceDenoiser(cfg)
    def tensor(v):
        raw_t = data[v["data_offsets"][0]:v["data_offsets"][1]]
        if v["dtype"] == "BF16":
            a = from_bf16(np.frombuffer(raw_t, dtype="<u2"))
        elif v["dtype"] == "F32":
            a = np.frombuffer(raw_t, dtype="<f4")
        else:
            raise SystemExit(f"{path}: dtype {v['dtype']} is not a weight dtype")
        return torch.from_numpy(a.reshape(v["shape"]).copy())
    sd = {k: tensor(v) for k, v in header.items()}
    model.load_state_dict(sd)
    return model.eval()


def round_to_bf16_(model):
    """Rounds every weight to bfloat16 in place (so the golden file matches what a BF16 file holds)."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(torch.bfloat16).float())


def save_weights(model, path, extra, dtype="f32"):
    sd = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
    if dtype == "bf16":
        sd = {k: to_bf16(v) for k, v in sd.items()}
    meta = config_metadata(model.cfg)
    meta.update({k: str(v) for k, v in extra.items()})
    write_safetensors(path, sd, meta)


# ---- the golden file ---------------------------------------------------------------------------------
GOLDEN_LENGTHS = (0, 1, 5, 2, 20, 0, 7)
GOLDEN_LOGP_COLUMNS = 512  # log-probs of the first 512 ids only: the row's normaliser is all they need, and the file stays small


def golden_inputs(vocab, seed=20261127):
    rng = np.random.default_rng(seed)
    seqs = []
    for n in GOLDEN_LENGTHS:
        s = rng.integers(4, vocab, size=n).astype(np.int32)
        if n >= 5:
            s[1] = UNK  # an <unk> inside a sentence, as real input has
        seqs.append(s)
    return seqs


def batch_from_sequences(seqs, device):
    """Pads a list of sequences; an empty one is fed as the single token ROOT."""
    L = max(max(len(s), 1) for s in seqs)
    tokens = torch.zeros(len(seqs), L, dtype=torch.long)
    mask = torch.zeros(len(seqs), L, dtype=torch.bool)
    for r, s in enumerate(seqs):
        if len(s) == 0:
            tokens[r, 0], mask[r, 0] = ROOT, True
        else:
            tokens[r, :len(s)] = torch.as_tensor(s, dtype=torch.long)
            mask[r, :len(s)] = True
    return tokens.to(device), mask.to(device)


def slot_rows(out, seqs):
    """(B, L, 2, X) -> (total slots, X) in the layout's order: slot 2i left of token i, 2i+1 right of
    it; an empty sequence's one root slot is ROOT's right slot."""
    rows = []
    for r, s in enumerate(seqs):
        if len(s) == 0:
            rows.append(out[r, 0, 1:2])
        else:
            rows.append(out[r, :len(s)].reshape(2 * len(s), -1))
    return torch.cat(rows, 0)


@torch.no_grad()
def write_golden(model, path):
    m = model.float().cpu().eval()
    seqs = golden_inputs(m.cfg["vocabulary_size"])
    tokens, mask = batch_from_sequences(seqs, "cpu")
    logits = m(tokens, mask)
    hidden = m.hidden(tokens, mask)
    lp = m.masked_log_probs(logits)
    emb = torch.stack([hidden[r, :max(len(s), 1)].mean(0) for r, s in enumerate(seqs)])
    offsets = np.cumsum([0] + [len(s) for s in seqs]).astype(np.int64)
    lpr = slot_rows(lp, seqs).numpy()[:, :GOLDEN_LOGP_COLUMNS].copy()
    lpr[np.isneginf(lpr)] = -1e30  # finite in the file; the test reads it as "masked"
    write_safetensors(path, {
        "tokens": np.concatenate(seqs).astype(np.int32),
        "offsets": offsets,
        "logits": slot_rows(logits, seqs).numpy().astype(np.float32),
        "log_probs": lpr.astype(np.float32),
        "embeddings": emb.numpy().astype(np.float32),
    }, {"format": "slotdiff-reference-golden 1", "torch": torch.__version__,
        "note": "logits: one row per slot of side_slots, sequences in order; log_probs: the same rows, first "
                f"{GOLDEN_LOGP_COLUMNS} ids; embeddings: mean of final hidden states"})


# ---- data --------------------------------------------------------------------------------------------
class Packed:
    """Examples packed back to back: inputs/io (x_{t+1} of each example) and targets/to (one id per
    slot of side_slots). Batches pad to the longest example of a batch."""

    def __init__(self, inputs, io, targets, to):
        self.inputs, self.io = np.asarray(inputs, np.int64), np.asarray(io, np.int64)
        self.targets, self.to = np.asarray(targets, np.int64), np.asarray(to, np.int64)
        self.lengths = np.diff(self.io)

    def __len__(self):
        return len(self.lengths)

    def batches(self, idx, max_tokens, rng=None):
        """Lists of example indices, similar lengths together, about max_tokens padded tokens each."""
        idx = np.asarray(idx)
        order = idx[np.argsort(np.maximum(self.lengths[idx], 1), kind="stable")]
        out, start = [], 0
        while start < len(order):
            L = max(int(self.lengths[order[min(start + 1, len(order) - 1)]]), 1)
            n = max(1, max_tokens // max(L, 1))
            end = min(len(order), start + n)
            # grow L to the batch's longest and shrink n to the budget
            L = max(int(self.lengths[order[end - 1]]), 1)
            end = min(end, start + max(1, max_tokens // L))
            out.append(order[start:end])
            start = end
        if rng is not None:
            rng.shuffle(out)
        return out

    def tensors(self, b):
        """tokens (B, L), mask (B, L), targets (B, L, 2) of examples b (python/slotdiff/padding.py)."""
        return _padding.padded_batch(self.inputs, self.io, self.targets, self.to, np.asarray(b))


class Shards(Packed):
    def __init__(self, dirs, heldout_every, vocab, val_every=0, val_offset=0):
        parts = []
        for d in dirs:
            d = pathlib.Path(d)
            meta = json.loads((d / "shard.json").read_text())
            if meta.get("layout") != "side_slots":
                raise SystemExit(f"{d}: layout {meta.get('layout')}, the reference model needs side_slots")
            if int(meta["vocabulary"]) != vocab:
                raise SystemExit(f"{d}: vocabulary size {meta['vocabulary']}, the model has {vocab}")
            parts.append({k: np.load(d / f"{k}.npy") for k in
                          ("inputs", "input_offsets", "targets", "target_offsets", "example_sentence", "sentence_ids")})
        # Concatenate shards into one packed set.
        self.inputs, self.targets, io, to, held, val = [], [], [0], [0], [], []
        for p in parts:
            base_i, base_t = io[-1], to[-1]
            self.inputs.append(p["inputs"])
            self.targets.append(p["targets"])
            io.extend((p["input_offsets"][1:] + base_i).tolist())
            to.extend((p["target_offsets"][1:] + base_t).tolist())
            sid = p["sentence_ids"][p["example_sentence"]]
            held.append(sid % heldout_every == 0 if heldout_every else np.zeros(len(sid), bool))
            val.append(sid % val_every == val_offset if val_every else np.zeros(len(sid), bool))
        self.inputs = np.concatenate(self.inputs).astype(np.int64)
        self.targets = np.concatenate(self.targets).astype(np.int64)
        self.io, self.to = np.asarray(io, np.int64), np.asarray(to, np.int64)
        self.lengths = np.diff(self.io)
        self.held = np.concatenate(held)
        self.val = np.concatenate(val) & ~self.held
        slots = np.diff(self.to)
        expect = np.where(self.lengths == 0, 1, 2 * self.lengths)
        if not np.array_equal(slots, expect):
            raise SystemExit("shards: target counts do not match side_slots slot counts")
        if self.targets.size and (self.targets.min() < 0 or self.targets.max() >= vocab):
            raise SystemExit("shards: a target id lies outside the vocabulary")

def slot_loss(model, tok, m, tgt, device, autocast):
    tok, m, tgt = tok.to(device, non_blocking=True), m.to(device, non_blocking=True), tgt.to(device, non_blocking=True)
    with autocast():
        u = model.slot_queries(tok, m)
    keep = tgt != IGNORE
    # Only the slots with a target, and only the insertable ids (the never-inserted ones have
    # probability 0): the same distribution as masking them to -inf, at a fraction of the cost.
    allowed = model.allowed_ids
    emb = model.tok_embeddings.weight.index_select(0, allowed)
    with autocast():
        sel = torch.matmul(u[keep], emb.to(u.dtype).t())
    nll = F.cross_entropy(sel.float(), model.class_of[tgt[keep]], reduction="sum")
    return nll, int(keep.sum())


@torch.no_grad()
def evaluate(model, data, batches, device, autocast):
    model.eval()
    tot, cnt = 0.0, 0
    for b in batches:
        nll, n = slot_loss(model, *data.tensors(b), device, autocast)
        tot += float(nll)
        cnt += n
    model.train()
    return tot / max(cnt, 1), cnt


# ---- main --------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shards", nargs="*", default=[], help="shard folders (slotdiff noise --format npy)")
    ap.add_argument("--vocab", default="data/corpus/vocab.txt")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--name", default="reference", help="file stem: NAME.safetensors, NAME-golden.safetensors")
    ap.add_argument("--minutes", type=float, default=10.0, help="wall-clock training budget")
    ap.add_argument("--clock", default="wall", choices=["wall", "process"],
                    help="what --minutes measures: wall-clock time, or this process's CPU time (a fair budget on a shared CPU)")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many optimiser steps (0: no limit)")
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch default)")
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--mlp", type=int, default=1024)
    ap.add_argument("--norm-eps", type=float, default=1e-5)
    ap.add_argument("--rope-base", type=float, default=10000.0)
    ap.add_argument("--batch-tokens", type=int, default=0, help="padded tokens per batch (0: 2048 CPU, 16384 CUDA)")
    ap.add_argument("--lr", type=float, default=0.0, help="peak learning rate (0: 2e-3 CPU, 1.5e-3 CUDA)")
    ap.add_argument("--warmup", type=float, default=0.03, help="warm-up, fraction of the budget")
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--heldout-every", type=int, default=20, help="sentence line numbers divisible by N are held out")
    ap.add_argument("--val-every", type=int, default=20, help="sentence ids %% N == --val-offset: validation (not trained on)")
    ap.add_argument("--val-offset", type=int, default=10)
    ap.add_argument("--select-every", type=float, default=-1, help="seconds between validation checks; the best state is kept (-1: 45 on CUDA, off on CPU)")
    ap.add_argument("--dropout", type=float, default=-1, help="residual dropout (-1: 0.1 on CUDA, 0 on CPU)")
    ap.add_argument("--eval-examples", type=int, default=0, help="held-out examples evaluated (0: 20000 CPU, all CUDA)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init-only", action="store_true", help="no training: write a randomly initialised model + golden")
    ap.add_argument("--init-std", type=float, default=0.0, help="with --init-only: draw every weight N(0, s) (0: training init)")
    ap.add_argument("--golden-from", default="", help="only (re)write the golden file of this weights file (to --out/--name-golden)")
    ap.add_argument("--log", default="", help="log file (default OUT/train-log.txt when training)")
    ap.add_argument("--train-set", default="", help="trajectory set (tools/trajectories.py): every epoch draws a fresh step of every trajectory")
    ap.add_argument("--valid-set", default="", help="trajectory set whose steps select the checkpoint (with --train-set)")
    ap.add_argument("--test-set", action="append", default=[], metavar="NAME=FILE",
                    help="held-out nats/slot over every step of this trajectory set, after training (repeatable)")
    ap.add_argument("--test-examples", type=int, default=0, help="score at most N examples of each --test-set and of --valid-set, a fixed random subset (0: all)")
    ap.add_argument("--text", default="", help="train from this text file through slotdiff.NoisingDataset: a fresh trajectory and step per sentence every epoch (needs the slotdiff package)")
    ap.add_argument("--text-lines", type=int, default=0, help="with --text: only the first N lines (0: all)")
    ap.add_argument("--fixed-trajectories", action="store_true", help="with --text: every epoch trains on every step of epoch 0's trajectories (what one .npy shard holds: the fixed-shard baseline)")
    ap.add_argument("--noise-scorer", default="idf", help="with --text: the Noiser's scorer (slotdiff noise --scorer)")
    ap.add_argument("--noise-schedule", default="fraction:0.5", help="with --text: the Noiser's schedule")
    ap.add_argument("--noise-temperature", type=float, default=0.5, help="with --text: Gumbel temperature of the noising")
    ap.add_argument("--noise-threads", type=int, default=1, help="with --text: noising threads (runs beside training, GIL released)")
    ap.add_argument("--dtype", default="f32", choices=["f32", "bf16"], help="weights file dtype (bf16 halves the file; the golden file matches it)")
    args = ap.parse_args()

    t_start = time.time()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log_path = pathlib.Path(args.log) if args.log else (None if args.init_only or args.golden_from else out / f"{args.name}-train-log.txt")
    log_file = open(log_path, "w") if log_path else None

    def log(msg):
        line = f"[{time.time() - t_start:8.1f}s] {msg}"
        print(line, flush=True)
        if log_file:
            log_file.write(line + "\n")
            log_file.flush()

    if args.golden_from:
        path = out / f"{args.name}-golden.safetensors"
        write_golden(load_weights(args.golden_from), path)
        print(f"wrote {path}")
        return
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    else:
        device = args.device
    cuda = device.startswith("cuda")
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
    vsize, vhash = vocabulary_info(args.vocab)
    if args.d_model % args.heads or (args.d_model // args.heads) % 2:
        raise SystemExit("--d-model must be a multiple of --heads with an even head dimension")
    dropout = args.dropout if args.dropout >= 0 else (0.1 if cuda else 0.0)
    select_every = args.select_every if args.select_every >= 0 else (45.0 if cuda else 0.0)
    cfg = dict(vocabulary_size=vsize, vocabulary_fnv1a64=vhash, d_model=args.d_model, layers=args.layers,
               heads=args.heads, mlp=args.mlp, norm_eps=args.norm_eps, rope_base=args.rope_base,
               never_insert=NEVER_INSERT, dropout=dropout)
    model = ReferenceDenoiser(cfg)
    log(f"torch {torch.__version__} on {device} ({torch.get_num_threads()} CPU threads); "
        f"{sum(p.numel() for p in model.parameters()):,} parameters; vocabulary {args.vocab} ({vsize}, fnv1a64 {vhash})")

    weights_path = out / f"{args.name}.safetensors"
    golden_path = out / f"{args.name}-golden.safetensors"
    if args.init_only:
        if args.init_std > 0:
            g = torch.Generator().manual_seed(args.seed)
            with torch.no_grad():
                for p in model.parameters():
                    p.copy_(torch.randn(p.shape, generator=g) * args.init_std + (1.0 if p.dim() == 1 else 0.0))
        if args.dtype == "bf16":
            round_to_bf16_(model)
        save_weights(model, weights_path, {"trained": "no (random initialisation, seed %d)" % args.seed}, args.dtype)
        write_golden(model, golden_path)
        log(f"wrote {weights_path} and {golden_path}")
        return

    rng = np.random.default_rng(args.seed)
    batch_tokens = args.batch_tokens or (16384 if cuda else 2048)
    lr = args.lr or (1.5e-3 if cuda else 2e-3)
    tests = {}
    fresh_data = bool(args.train_set or args.text)  # a new Packed set every epoch, prepared in the background
    if args.text:
        import slotdiff
        from slotdiff.data import NoisingDataset
        vocab_tok = slotdiff.Tokenizer.load(args.vocab)
        lines = slotdiff.read_lines(args.text)
        if args.text_lines:
            lines = lines[:args.text_lines]
        noise_kw = dict(scorer=args.noise_scorer, schedule=args.noise_schedule, temperature=args.noise_temperature)
        dataset = NoisingDataset(lines, vocab_tok, heldout_every=args.heldout_every, split="train", seed=args.seed,
                                 fixed=args.fixed_trajectories, steps="all" if args.fixed_trajectories else "random",
                                 threads=args.noise_threads, **noise_kw)
        train_sentences = dataset.indices

        def epoch_data(epoch_no):
            ex = dataset.examples(train_sentences, epoch_no - 1)
            return Packed(ex["inputs"], ex["input_offsets"], ex["targets"], ex["target_offsets"])
        data = epoch_data(1)
        train_idx = np.arange(len(data))
        # Held out: every step of one trajectory (epoch 0, the same noiser) of each held-out sentence,
        # the same examples for every run with this seed; validation: a slice of the training sentences.
        held = NoisingDataset(lines, vocab_tok, noiser=dataset.noiser, heldout_every=args.heldout_every, split="heldout",
                              seed=args.seed, fixed=True)
        trs = dataset.noiser.noise_text([lines[i] for i in held.indices], vocab_tok, indices=held.indices, threads=0)
        hx = trs.examples()
        val_data = Packed(hx["inputs"], hx["input_offsets"], hx["targets"], hx["target_offsets"])
        n_eval = args.eval_examples or (len(val_data) if cuda else 20000)
        val_idx = np.sort(rng.permutation(len(val_data))[:n_eval])
        eval_data, eval_idx = val_data, val_idx
        log(f"{len(train_sentences):,} training sentences of {args.text} noised on the fly ({args.noise_scorer}, "
            f"{args.noise_schedule}, temperature {args.noise_temperature}, "
            f"{'fixed: every step of the epoch-0 trajectories, every epoch (a shard)' if args.fixed_trajectories else 'a fresh trajectory and step each epoch'}; "
            f"{len(data):,} examples an epoch), {len(val_idx):,} held-out examples (every step of line % {args.heldout_every} == 0); "
            f"{batch_tokens} tokens/batch, peak lr {lr}, dropout {dropout}, checkpoint selection every {select_every} s")
    elif args.train_set:
        from trajectories import TrajectorySet

        def load_set(path):
            ts = TrajectorySet(path)
            if ts.vocabulary != vsize:
                raise SystemExit(f"{path}: vocabulary size {ts.vocabulary}, the model has {vsize}")
            return ts
        tset = load_set(args.train_set)

        def subset(pairs):  # the same examples for every model: the subset depends only on the set and the seed
            tr, t = pairs
            if args.test_examples and len(tr) > args.test_examples:
                keep = np.sort(np.random.default_rng(12345).permutation(len(tr))[:args.test_examples])
                tr, t = tr[keep], t[keep]
            return tr, t

        def epoch_data(epoch_no):
            traj, t = tset.sample_steps(np.random.default_rng([args.seed, epoch_no]))
            return Packed(*tset.examples(traj, t))
        data = epoch_data(1)
        train_idx = np.arange(len(data))
        if args.valid_set:
            vset = load_set(args.valid_set)
            val_data = Packed(*vset.examples(*subset(vset.all_steps())))
        else:
            val_data = Packed(*tset.examples(*tset.all_steps(np.arange(min(len(tset), 2000)))))
            log("no --valid-set: selecting on training trajectories (not held out)")
        val_idx = np.arange(len(val_data))
        for spec in args.test_set:
            name, _, path = spec.partition("=")
            ts = load_set(path)
            tests[name] = Packed(*ts.examples(*subset(ts.all_steps())))
        eval_data, eval_idx = val_data, val_idx
        log(f"{len(tset):,} training trajectories from {args.train_set} (one fresh step each per epoch: {len(data):,} examples), "
            f"{len(val_idx):,} validation examples, test sets {', '.join(f'{k} ({len(v):,})' for k, v in tests.items()) or 'none'}; "
            f"{batch_tokens} tokens/batch, peak lr {lr}, dropout {dropout}, checkpoint selection every {select_every} s")
    else:
        if not args.shards:
            raise SystemExit("--shards or --train-set is required unless --init-only")
        data = Shards(args.shards, args.heldout_every, vsize, args.val_every, args.val_offset)
        val_data = eval_data = data
        train_idx = np.flatnonzero(~data.held & ~data.val)
        val_idx = np.flatnonzero(data.val)
        held_idx = np.flatnonzero(data.held)
        n_eval = args.eval_examples or (len(held_idx) if cuda else 20000)
        eval_idx = np.sort(rng.permutation(held_idx)[:n_eval])
        log(f"{len(train_idx):,} training examples, {len(val_idx):,} validation (sentence id % {args.val_every} == {args.val_offset}), "
            f"{len(held_idx):,} held out (sentence id % {args.heldout_every} == 0); evaluating on {len(eval_idx):,}; "
            f"{batch_tokens} tokens/batch, peak lr {lr}, dropout {dropout}, checkpoint selection every {select_every} s")
    eval_batches = eval_data.batches(eval_idx, batch_tokens)
    val_batches = val_data.batches(np.sort(rng.permutation(val_idx)[:20000]), batch_tokens) if select_every > 0 else []
    curve = []

    model.to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    other = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": other, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.98), eps=1e-8)
    if cuda:
        def autocast():
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    else:
        import contextlib

        def autocast():
            return contextlib.nullcontext()

    budget = args.minutes * 60.0
    clock = time.process_time if args.clock == "process" else time.time
    c0 = clock()
    t0 = time.time()
    step, epoch, seen_tokens, seen_slots = 0, 0, 0, 0
    run_loss, run_cnt = 0.0, 0
    last_log = last_sel = t0
    best = (float("inf"), None, 0)
    done = False

    def select_checkpoint():
        nonlocal best
        v, _ = evaluate(model, val_data, val_batches, device, autocast)
        curve.append({"seconds": round(time.time() - t0, 1), "step": step, "tokens": seen_tokens, "epoch": epoch, "validation": round(v, 5)})
        if v < best[0]:
            best = (v, {k: t.detach().clone() for k, t in model.state_dict().items()}, step)
        log(f"validation {v:.4f} nats/slot at step {step} (best {best[0]:.4f} at step {best[2]})")

    prefetch = None
    if fresh_data:
        import concurrent.futures
        pool = concurrent.futures.ThreadPoolExecutor(1)
    while not done:
        epoch += 1
        if fresh_data and epoch > 1:
            data = prefetch.result()
            train_idx = np.arange(len(data))
        if fresh_data:
            prefetch = pool.submit(epoch_data, epoch + 1)
        for b in data.batches(train_idx, batch_tokens, rng):
            frac = (clock() - c0) / budget
            if frac >= 1.0 or (args.max_steps and step >= args.max_steps):
                done = True
                break
            scale = frac / args.warmup if frac < args.warmup else 0.5 * (1 + math.cos(math.pi * (frac - args.warmup) / (1 - args.warmup)))
            for g in opt.param_groups:
                g["lr"] = lr * max(scale, 0.02)
            tok, m, tgt = data.tensors(b)
            nll, n = slot_loss(model, tok, m, tgt, device, autocast)
            if n == 0:
                continue
            opt.zero_grad(set_to_none=True)
            (nll / n).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            seen_tokens += int(m.sum())
            seen_slots += n
            run_loss += float(nll.detach())
            run_cnt += n
            now = time.time()
            if now - last_log >= (30 if not cuda else 15):
                log(f"epoch {epoch} step {step}: train {run_loss / run_cnt:.4f} nats/slot, "
                    f"{seen_tokens / (now - t0):,.0f} tokens/s, lr {opt.param_groups[0]['lr']:.2e}, {frac * 100:.0f}% of budget")
                run_loss, run_cnt, last_log = 0.0, 0, now
            if select_every > 0 and now - last_sel >= select_every:
                select_checkpoint()
                last_sel = time.time()
    train_s = time.time() - t0
    train_clock_s = clock() - c0
    if select_every > 0:
        select_checkpoint()
        model.load_state_dict(best[1])
        log(f"kept the state of step {best[2]} (validation {best[0]:.4f} nats/slot)")
    log(f"trained {step} steps ({epoch} epochs begun, {seen_tokens:,} tokens, {seen_slots:,} slots) in {train_s:.0f} s")
    if args.dtype == "bf16":
        round_to_bf16_(model)  # measured and written as it will be loaded
    held_nll, held_slots = evaluate(model, eval_data, eval_batches, device, autocast)
    held_rule = (f"every step of {args.valid_set or 'training trajectories'}" if args.train_set
                 else f"every step of one trajectory of line % {args.heldout_every} == 0 of {args.text}" if args.text
                 else f"sentence id % {args.heldout_every} == 0")
    log(f"held out: {held_nll:.4f} nats/slot over {held_slots:,} slots ({len(eval_idx):,} examples; {held_rule})")
    results = {"name": args.name, "train_set": args.train_set, "text": args.text, "fixed_trajectories": args.fixed_trajectories, "steps": step, "epochs": epoch, "tokens": seen_tokens,
               "slots": seen_slots, "train_seconds": round(train_s, 1), "budget_clock": args.clock, "budget_clock_seconds": round(train_clock_s, 1), "device": device, "best_step": best[2],
               "heldout_nats_per_slot": round(held_nll, 5), "heldout_rule": held_rule, "curve": curve, "test": {}}
    for name, td in tests.items():
        nll, n = evaluate(model, td, td.batches(np.arange(len(td)), batch_tokens), device, autocast)
        results["test"][name] = {"nats_per_slot": round(nll, 5), "slots": n}
        log(f"test set {name}: {nll:.4f} nats/slot over {n:,} slots")
    results_path = out / f"{args.name}-results.json"
    tmp = results_path.with_name(results_path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    os.replace(tmp, results_path)  # never a half-written file (as write_safetensors)
    model = model.float().cpu()
    save_weights(model, weights_path, {
        "trained": f"{step} steps, {train_s:.0f} s on {device} (torch {torch.__version__})",
        "heldout_nats_per_slot": f"{held_nll:.4f}",
        "heldout_rule": held_rule,
    }, args.dtype)
    write_golden(model, golden_path)
    log(f"wrote {weights_path} ({weights_path.stat().st_size:,} bytes) and {golden_path}")


if __name__ == "__main__":
    main()
