"""Shared fixtures. The package is imported from PYTHONPATH (CTest sets it to <build>/python) or from
an installed copy. SLOTDIFF_CLI names the `slotdiff` binary for the round trips (skipped without it)."""
import os
import pathlib
import shutil

import numpy as np
import pytest

import slotdiff

SOURCE = pathlib.Path(os.environ.get("SLOTDIFF_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))


@pytest.fixture(scope="session")
def source_dir():
    return SOURCE


@pytest.fixture(scope="session")
def vocab():
    return slotdiff.Tokenizer.load(str(SOURCE / "data" / "corpus" / "vocab.txt"))


@pytest.fixture(scope="session")
def lines():
    """300 lines of the bundled training corpus."""
    with open(SOURCE / "data" / "corpus" / "train.txt", encoding="utf-8") as f:
        return [next(f).rstrip("\n") for _ in range(300)]


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("SLOTDIFF_CLI") or shutil.which("slotdiff")
    if not path or not os.path.exists(path):
        pytest.skip("no slotdiff CLI (set SLOTDIFF_CLI; CTest does when the tools are built)")
    return path


def ragged(trs, i):
    b, e = trs.offsets[i], trs.offsets[i + 1]
    return np.asarray(trs.tokens[b:e]), np.asarray(trs.removed_at[b:e])
