"""Padded batches for the reference architecture (side layout), from packed training examples.

The one copy of the padding rule: slotdiff.data.NoisingDataset pads its batches with it, and
tools/train_reference.py loads this file by its path (it imports only numpy and torch, nothing of the
package), so the training script runs with Debian's /usr/bin/python3 without the package built or
installed.
"""
import numpy as np
import torch

IGNORE = -100                  # the targets' padding (torch.nn.functional.cross_entropy's ignore_index)
PAD, UNK, ROOT, NONE = 0, 1, 2, 3
NEVER_INSERT = (PAD, UNK, ROOT)


def padded_batch(inputs, input_offsets, targets, target_offsets, rows):
    """Pads examples `rows` of a packed set (example r: inputs[input_offsets[r]:input_offsets[r+1]],
    the state x_{t+1}, and targets[target_offsets[r]:target_offsets[r+1]], one id per slot of side_slots).

    Returns torch tensors tokens (B, L) int64 (PAD after the end; an empty state is the single token
    ROOT), mask (B, L) bool, and targets (B, L, 2) int64: the left and right slot of each token, IGNORE
    for padding, for the never-inserted ids (PAD, UNK, ROOT) and for ROOT's left slot. L is the longest
    state of the batch (at least 1). O(B L)."""
    io, to = np.asarray(input_offsets), np.asarray(target_offsets)
    lens = (io[rows + 1] - io[rows]).astype(np.int64)
    L = max(int(lens.max()) if len(lens) else 1, 1)
    ar = np.arange(L)
    m = ar[None, :] < lens[:, None]
    if len(inputs):
        pos = np.minimum(io[rows][:, None] + ar[None, :], len(inputs) - 1)
        tok = np.where(m, inputs[pos], PAD).astype(np.int64)
    else:
        tok = np.zeros((len(rows), L), np.int64)
    empty = lens == 0
    tok[empty, 0] = ROOT
    m[empty, 0] = True
    ar2 = np.arange(2 * L)
    nslots = np.where(empty, 1, 2 * lens)
    m2 = ar2[None, :] < nslots[:, None]
    pos2 = np.minimum(to[rows][:, None] + ar2[None, :], max(len(targets) - 1, 0))
    tgt = np.where(m2, targets[pos2], IGNORE).astype(np.int64)
    tgt[empty, 1] = tgt[empty, 0]  # the root slot is ROOT's right slot
    tgt[empty, 0] = IGNORE
    tgt[np.isin(tgt, NEVER_INSERT)] = IGNORE  # never inserted: not a class the model can predict
    return torch.from_numpy(tok), torch.from_numpy(m), torch.from_numpy(tgt.reshape(len(rows), L, 2))
