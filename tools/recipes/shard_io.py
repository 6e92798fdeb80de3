#!/usr/bin/python3
"""Shards of `slotdiff noise` output, in Python: reading input lines as the CLI does, writing JSONL and
.npy shards in the CLI's exact bytes (docs/formats.md), and merging N shards into the one-process output.

"Merged" (what the tests compare byte for byte with one `slotdiff noise` run over the whole input):
  - JSONL: the lines of every shard, ordered by their "id" (the 0-based input line), then by
    "trajectory" (0..K-1); each line's bytes unchanged. Shard I of N holds the ids i with i % N == I,
    each in increasing order, so this is an N-way merge (heapq.merge), streaming.
  - npy: the trajectories of every shard ordered by sentence_ids (stably: a sentence's K rows stay in
    their order), their examples moved with them; example_sentence renumbered, offsets rebuilt, the
    .npy headers and shard.json written as the CLI writes them.

    merge_shards.py --format jsonl -o all.jsonl out/shard-*.jsonl
    merge_shards.py --format npy -o all/ out/shard-*-of-*          (folders)

Nothing here needs dask; numpy is needed for npy.
"""
import heapq
import json
import os
import re

# ---- input lines and the CLI's skip rules (tools/cli/noise.cpp classify_line) -----------------------

SKIP_NONE, SKIP_EMPTY, SKIP_INVALID_UTF8, SKIP_PUNCTUATION, SKIP_TOO_LONG = range(5)
SKIP_NAMES = ("noised", "empty", "invalid UTF-8", "punctuation only", "too long")

# The tokenizer's pre-tokens (include/slotdiff/text/tokenizer.hpp split_words), on bytes: a word is a
# run of word bytes (ASCII letters and digits, every byte >= 0x80) that may contain single ' or -
# between word bytes; every other byte that is not a space (<= 0x20, 0x7F) is a token of its own.
_WORD = rb"0-9A-Za-z\x80-\xff"
_TOKEN = re.compile(rb"[" + _WORD + rb"](?:[" + _WORD + rb"]|['\-][" + _WORD + rb"])*|[^\x00-\x20\x7f]")
_NOT_BLANK = re.compile(rb"[^ \t\r\n\v\f]")


def read_line_bytes(path):
    """The lines of a file as bytes, split as the CLI's read_lines: on \\n, one trailing \\r removed,
    no empty line after a final \\n, a UTF-8 byte-order mark before the first line dropped."""
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    lines = [l[:-1] if l.endswith(b"\r") else l for l in lines]
    if lines and lines[0].startswith(b"\xef\xbb\xbf"):
        lines[0] = lines[0][3:]
    return lines


def classify(line, max_tokens=512):
    """(why, text): why is one of SKIP_*; text is the decoded line when it is noised, else None."""
    if not _NOT_BLANK.search(line):
        return SKIP_EMPTY, None
    try:
        text = line.decode("utf-8")  # strict: rejects what detail::find_invalid_utf8 rejects
    except UnicodeDecodeError:
        return SKIP_INVALID_UTF8, None
    tokens = _TOKEN.findall(line)
    if not any(t[0] >= 0x80 or chr(t[0]).isalnum() for t in tokens):
        return SKIP_PUNCTUATION, None
    if len(tokens) > max_tokens:
        return SKIP_TOO_LONG, None
    return SKIP_NONE, text


def valid_lines(path, max_tokens=512):
    """[(line index, text)] of the lines the CLI noises, in order."""
    out = []
    for i, l in enumerate(read_line_bytes(path)):
        why, text = classify(l, max_tokens)
        if why == SKIP_NONE:
            out.append((i, text))
    return out


def idf_corpus_lines(path):
    """--idf-corpus: every line of the file that is valid UTF-8 (as the CLI: nothing else is dropped)."""
    out = []
    for l in read_line_bytes(path):
        try:
            out.append(l.decode("utf-8"))
        except UnicodeDecodeError:
            pass
    return out


def shard_name(out, shard, shards, fmt):
    """The output of shard I of N: OUT/shard-0000I-of-0000N.jsonl, or the folder OUT/shard-0000I-of-0000N."""
    base = os.path.join(out, f"shard-{shard:05d}-of-{shards:05d}")
    return base + ".jsonl" if fmt == "jsonl" else base


# ---- writing ------------------------------------------------------------------------------------

def _layout_name(trs):
    return {"side": "side_slots", "gap": "gap_slots"}[trs.layout]


def jsonl_lines(trs, trajectories=1, vocab=None):
    """The JSONL lines (str, with their newline) of Trajectories `trs`, as `slotdiff noise` writes them:
    nlohmann's dump(), keys in byte order, "trajectory" only when K > 1, "words"/"states" with vocab."""
    layout = _layout_name(trs)
    tokens, removed, offsets = trs.tokens, trs.removed_at, trs.offsets
    for r in range(len(trs)):
        b, e = int(offsets[r]), int(offsets[r + 1])
        j = {"id": int(trs.sentence[r]), "layout": layout, "removed_at": removed[b:e].tolist(),
             "steps": int(trs.steps[r]), "tokens": tokens[b:e].tolist()}
        if trajectories > 1:
            j["trajectory"] = int(trs.sample[r])
        if vocab is not None:
            j["words"] = [vocab.word(int(t)) for t in tokens[b:e]]
            j["states"] = [vocab.decode(trs.state(r, t)) for t in range(int(trs.steps[r]) + 1)]
        yield json.dumps(j, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def write_jsonl(path, lines):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(lines)
    os.replace(tmp, path)


def _npy_bytes(a):
    """numpy format 1.0 as the CLI writes it (xtensor's dump_npy): header padded to 64 bytes."""
    import numpy as np
    a = np.ascontiguousarray(a)
    descr = {np.dtype("<i4"): "<i4", np.dtype("<i8"): "<i8"}[a.dtype.newbyteorder("<")]
    shape = "(" + "".join(f"{n}," for n in a.shape) + ")" if a.ndim == 1 else repr(a.shape)
    header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }"
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * (pad % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("ascii") + a.astype(descr).tobytes()


NPY_FILES = ("x0_tokens", "x0_offsets", "removed_at", "steps", "sentence_ids", "inputs", "input_offsets", "targets",
             "target_offsets", "example_sentence", "example_step")


def write_npy_shard(folder, arrays, layout, vocabulary, none_id=3):
    """Writes a .npy training shard: each file to NAME.tmp then renamed, a stale shard.json removed first
    and the new one written last (as io/npy.hpp)."""
    import numpy as np
    os.makedirs(folder, exist_ok=True)
    manifest = os.path.join(folder, "shard.json")
    if os.path.exists(manifest):
        os.remove(manifest)
    dtypes = {"x0_offsets": np.int64, "sentence_ids": np.int64, "input_offsets": np.int64, "target_offsets": np.int64,
              "example_sentence": np.int64}
    for name in NPY_FILES:
        path = os.path.join(folder, name + ".npy")
        with open(path + ".tmp", "wb") as f:
            f.write(_npy_bytes(np.asarray(arrays[name], dtype=dtypes.get(name, np.int32))))
        os.replace(path + ".tmp", path)
    meta = {"format": "slotdiff-shard 1", "layout": layout, "vocabulary": int(vocabulary), "none_id": int(none_id),
            "trajectories": int(len(arrays["steps"])), "examples": int(len(arrays["example_step"])),
            "tokens": int(len(arrays["x0_tokens"]))}
    with open(manifest + ".tmp", "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    os.replace(manifest + ".tmp", manifest)


def npy_arrays(trs):
    """The arrays of a .npy shard from Trajectories (every step of every trajectory is an example)."""
    import numpy as np
    ex = trs.examples()
    return {"x0_tokens": trs.tokens, "x0_offsets": trs.offsets, "removed_at": trs.removed_at, "steps": trs.steps,
            "sentence_ids": trs.sentence, "inputs": ex["inputs"], "input_offsets": ex["input_offsets"],
            "targets": ex["targets"], "target_offsets": ex["target_offsets"], "example_sentence": ex["trajectory"],
            "example_step": np.asarray(ex["step"]) + 1}


# ---- merging --------------------------------------------------------------------------------------

_ID = re.compile(r'^\{"id":(\d+),')
_TRAJECTORY = re.compile(r'"trajectory":(\d+)')


def _jsonl_key(line):
    m = _ID.match(line)
    if not m:
        raise ValueError(f"not a slotdiff noise JSONL line: {line[:80]!r}")
    t = _TRAJECTORY.search(line)
    return int(m.group(1)), int(t.group(1)) if t else 0


def merge_jsonl(shards, out):
    """Merges JSONL shards into `out` (a path), ordered by (id, trajectory); the lines' bytes unchanged."""
    files = [open(s, "r", encoding="utf-8", newline="\n") for s in shards]
    try:
        write_jsonl(out, heapq.merge(*files, key=_jsonl_key))
    finally:
        for f in files:
            f.close()


def _ragged_take(values, offsets, rows):
    """values[offsets[r]:offsets[r+1]] for r in rows, concatenated, and the new offsets."""
    import numpy as np
    rows = np.asarray(rows, dtype=np.int64)
    starts, lengths = offsets[rows], offsets[rows + 1] - offsets[rows]
    new_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    idx = np.repeat(starts - new_offsets[:-1], lengths) + np.arange(new_offsets[-1], dtype=np.int64)
    return values[idx], new_offsets


def _concat_ragged(parts):
    import numpy as np
    values = np.concatenate([v for v, _ in parts])
    shifts = np.cumsum([0] + [len(v) for v, _ in parts])
    offsets = np.concatenate([[0]] + [o[1:] + s for (_, o), s in zip(parts, shifts)]).astype(np.int64)
    return values, offsets


def merge_npy(shards, out):
    """Merges .npy shard folders into the folder `out`, trajectories ordered by sentence_ids."""
    import numpy as np
    metas = [json.load(open(os.path.join(s, "shard.json"), encoding="utf-8")) for s in shards]
    for k in ("format", "layout", "vocabulary", "none_id"):
        if len({m[k] for m in metas}) > 1:
            raise ValueError(f"shards disagree on {k}: {sorted({str(m[k]) for m in metas})}")
    a = [{n: np.load(os.path.join(s, n + ".npy")) for n in NPY_FILES} for s in shards]
    x0, x0_off = _concat_ragged([(p["x0_tokens"], p["x0_offsets"]) for p in a])
    removed = np.concatenate([p["removed_at"] for p in a])
    steps = np.concatenate([p["steps"] for p in a])
    sentence = np.concatenate([p["sentence_ids"] for p in a])
    inputs, in_off = _concat_ragged([(p["inputs"], p["input_offsets"]) for p in a])
    targets, tg_off = _concat_ragged([(p["targets"], p["target_offsets"]) for p in a])
    ex_step = np.concatenate([p["example_step"] for p in a])
    order = np.argsort(sentence, kind="stable")
    ex_first = np.concatenate([[0], np.cumsum(steps)]).astype(np.int64)  # a trajectory's examples are contiguous
    ex_rows = _ragged_take(np.arange(ex_first[-1], dtype=np.int64), ex_first, order)[0]
    merged = {"x0_tokens": x0[_ragged_take(np.arange(len(x0)), x0_off, order)[0]],
              "x0_offsets": _ragged_take(x0, x0_off, order)[1], "removed_at": _ragged_take(removed, x0_off, order)[0],
              "steps": steps[order], "sentence_ids": sentence[order],
              "example_sentence": np.repeat(np.arange(len(order), dtype=np.int64), steps[order]),
              "example_step": ex_step[ex_rows]}
    merged["inputs"], merged["input_offsets"] = _ragged_take(inputs, in_off, ex_rows)
    merged["targets"], merged["target_offsets"] = _ragged_take(targets, tg_off, ex_rows)
    write_npy_shard(out, merged, metas[0]["layout"], metas[0]["vocabulary"], metas[0]["none_id"])
