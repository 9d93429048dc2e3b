"""The protocol's data: which UCR datasets are sources and targets, and where the archive lives.

The archive is read from ``--archive`` or ``$TSZOO_UCR_ROOT``, else ``../shared/ucr/UCRArchive_2018`` beside
the checkout; the protocol from ``splits.json`` in the archive's parent folder. Neither is ever copied into the
repository.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from tszoo.datasets import ROOT_ENV, load_ucr
from tszoo.layers import valid_lengths

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MODELS = REPO / "savedmodels"
DEFAULT_ARCHIVE = REPO.parent / "shared" / "ucr" / "UCRArchive_2018"


def archive_root(archive=None) -> Path:
    root = Path(archive or os.environ.get(ROOT_ENV) or DEFAULT_ARCHIVE).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"UCR archive folder {root} does not exist; pass --archive or set {ROOT_ENV}")
    return root


def load_splits(archive=None, splits=None) -> dict:
    path = Path(splits) if splits else archive_root(archive).parent / "splits.json"
    if not path.is_file():
        raise FileNotFoundError(f"protocol file {path} does not exist; pass --splits")
    return json.loads(path.read_text())


def series_of(X: np.ndarray) -> list[np.ndarray]:
    """Rows of a NaN-padded (n, longest) array as 1-D arrays of their valid lengths."""
    return [row[:n] for row, n in zip(X, valid_lengths(X))]


def load_all_series(names, archive=None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Train and test splits of each dataset, stacked: ``{name: (X, y)}`` with X NaN-padded."""
    root = archive_root(archive)
    out = {}
    for name in names:
        parts = [load_ucr(name, split, root=root) for split in ("train", "test")]
        width = max(X.shape[1] for X, _ in parts)
        X = np.full((sum(len(p[0]) for p in parts), width), np.nan, np.float32)
        row = 0
        for Xp, _ in parts:
            X[row: row + len(Xp), : Xp.shape[1]] = Xp
            row += len(Xp)
        out[name] = (X, np.concatenate([p[1] for p in parts]))
    return out
