"""Readers for the UCR archive and the field's file formats.

``load_ucr(name, split)`` reads, in order of preference:

1. ``root`` (argument) or the ``TSZOO_UCR_ROOT`` environment variable: the UCR 2018 layout
   ``<root>/<Name>/<Name>_TRAIN.tsv`` (or ``.tsv.gz``), or the ``.ts`` files of timeseriesclassification.com
   (``<root>/<Name>/<Name>_TRAIN.ts``);
2. with neither, the datasets that aeon installs with itself (GunPoint, ArrowHead, ItalyPowerDemand, OSULeaf,
   ...), offline.

It returns ``(X, y)``: X float32 ``(n, longest)`` NaN-padded at the end (``(n, channels, longest)`` for a
multivariate ``.ts`` file), y the labels as the file writes them (integers where every label is an integer).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tszoo.validation import check_series

SPLITS = {"train": "TRAIN", "test": "TEST"}
SUFFIXES = (".tsv", ".tsv.gz", ".ts")
ROOT_ENV = "TSZOO_UCR_ROOT"


def bundled_root() -> Path:
    """The folder of datasets that aeon installs with itself."""
    import aeon

    return Path(aeon.__file__).parent / "datasets" / "data"


def bundled_datasets() -> list[str]:
    """Names of the classification datasets aeon bundles (those with ``_TRAIN`` and ``_TEST`` files)."""
    root = bundled_root()
    return sorted(d.name for d in root.iterdir()
                  if d.is_dir() and (d / f"{d.name}_TRAIN.ts").exists() and (d / f"{d.name}_TEST.ts").exists())


def find_ucr_file(name: str, split: str = "train", root=None) -> Path:
    """Path of a dataset's split file, or a FileNotFoundError that says where it looked."""
    if split not in SPLITS:
        raise ValueError(f"split={split!r}; expected one of {sorted(SPLITS)}")
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"dataset name {name!r} is not a plain dataset name such as 'GunPoint'")
    root = root if root is not None else os.environ.get(ROOT_ENV)
    roots = [Path(root).expanduser()] if root else [bundled_root()]
    tried = []
    for base in roots:
        for folder in (base / name, base):
            for suffix in SUFFIXES:
                path = folder / f"{name}_{SPLITS[split]}{suffix}"
                tried.append(str(path))
                if path.is_file():
                    return path
    where = (f"root {roots[0]}" if root else
             f"aeon's bundled datasets ({', '.join(bundled_datasets())}); set root= or {ROOT_ENV} for others")
    raise FileNotFoundError(f"no {split} file for dataset {name!r} in {where}. Looked for: {', '.join(tried[:3])}")


def read_series_file(path, missing: str = "raise"):
    """Read one ``.tsv``/``.tsv.gz`` (UCR) or ``.ts`` (timeseriesclassification.com) file into ``(X, y)``.

    A ``.tsv`` is read here (label first, then the values, tab-separated; what aeon's reader does), so that the
    archive reads where aeon is not installed, e.g. a lent GPU machine; a ``.ts`` file needs aeon.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    name = path.name.lower()
    try:
        if name.endswith((".tsv", ".tsv.gz")):
            X, y = _read_tsv(path)
        elif name.endswith(".ts"):
            from aeon.datasets import load_from_ts_file

            X, y = load_from_ts_file(str(path))
        else:
            raise ValueError(f"{path}: unknown format; expected a .tsv, .tsv.gz or .ts file")
    except (OSError, ValueError, TypeError, KeyError, IndexError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith(f"{path}:"):
            raise
        raise ValueError(f"{path}: could not read it as a UCR {path.suffix} file ({exc})") from exc
    if isinstance(X, list):  # aeon's form for unequal lengths: a list of (channels, length) arrays
        X = list(X)
    X = check_series(X, missing=missing, name=str(path))
    if X.ndim == 3 and X.shape[1] == 1:
        X = X[:, 0, :]
    return X, _labels_as_written(y)


def _read_tsv(path):
    """``(X (n, 1, length), y)`` of a UCR ``.tsv``/``.tsv.gz`` file: the first column is the label."""
    import pandas as pd

    frame = pd.read_csv(path, sep="\t", header=None)
    y = frame.pop(0).to_numpy(copy=True)
    return frame.to_numpy(dtype=np.float64, copy=True)[:, None, :], y


def _labels_as_written(y) -> np.ndarray:
    """Keep labels as in the file: integers where every label is a whole number, else the strings."""
    y = np.asarray(y)
    if y.dtype.kind in "iu":
        return y.astype(np.int64)
    try:
        numbers = y.astype(np.float64)
    except (TypeError, ValueError):
        return y.astype(str)
    if np.all(np.isfinite(numbers)) and np.all(numbers == np.round(numbers)):
        return numbers.astype(np.int64)
    return y.astype(str) if y.dtype.kind in "OUS" else numbers


def load_ucr(name: str, split: str = "train", root=None, missing: str = "raise"):
    """Load one split of a UCR dataset as ``(X, y)``.

    Args:
        name: the dataset's name as the archive spells it, e.g. ``"GunPoint"``.
        split: ``"train"`` or ``"test"`` (the official split).
        root: the archive's folder; default ``$TSZOO_UCR_ROOT``, else aeon's bundled datasets.
        missing: ``"raise"`` (default) refuses NaN inside or at the start of a series (a missing value, unlike
            NaN padding at the end); ``"interpolate"`` fills such values by linear interpolation.

    Returns:
        ``X`` float32 ``(n, longest)`` NaN-padded at the end, and ``y`` the labels as written in the file.
    """
    return read_series_file(find_ucr_file(name, split, root), missing=missing)


def read_csv_series(path, label_column=0, missing: str = "raise"):
    """A CSV with one series per row and a label column chosen by name or position (default: the first).

    A header row is detected: if the first row's values (other than the label) are not all numbers, it is one.
    Empty cells at a row's end are padding (NaN).
    """
    import pandas as pd

    path = Path(path)
    try:
        first = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0].tolist()
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: could not read it as CSV ({exc})") from exc
    numeric = pd.to_numeric(pd.Series(first), errors="coerce").notna().tolist()
    if isinstance(label_column, str) and not label_column.lstrip("-").isdigit():
        has_header = True
    else:
        position = int(label_column)
        others = [ok for i, ok in enumerate(numeric) if i != position % max(len(numeric), 1)]
        has_header = not all(others)
    try:
        df = pd.read_csv(path, header=0 if has_header else None)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: could not read it as CSV ({exc})") from exc
    if isinstance(label_column, str) and not label_column.lstrip("-").isdigit():
        if label_column not in df.columns:
            raise ValueError(f"{path}: no column named {label_column!r}; columns are {list(df.columns)[:10]}")
        label = label_column
    else:
        position = int(label_column)
        if not -df.shape[1] <= position < df.shape[1]:
            raise ValueError(f"{path}: label column {position} is out of range for {df.shape[1]} columns")
        label = df.columns[position]
    y = df.pop(label).to_numpy()
    X = check_series(df.to_numpy(), missing=missing, name=str(path))
    return X, _labels_as_written(y)


def read_labeled(path, label_column=0, missing: str = "raise"):
    """``(X, y)`` from a UCR ``.tsv``/``.tsv.gz``/``.ts`` file, a CSV (see :func:`read_csv_series`) or an
    ``.npz`` holding arrays ``X`` and ``y``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    name = path.name.lower()
    if name.endswith((".tsv", ".tsv.gz", ".ts")):
        return read_series_file(path, missing=missing)
    if name.endswith(".csv"):
        return read_csv_series(path, label_column, missing=missing)
    if name.endswith(".npz"):
        with np.load(path, allow_pickle=False) as data:
            if "X" not in data or "y" not in data:
                raise ValueError(f"{path}: an .npz needs arrays named X and y; it has {list(data.keys())}")
            return check_series(data["X"], missing=missing, name=str(path)), _labels_as_written(data["y"])
    raise ValueError(f"{path}: unknown format; expected .tsv, .tsv.gz, .ts, .csv or .npz")


def read_unlabeled(path, missing: str = "raise"):
    """Series without labels: ``.npy`` (2-D or 3-D), or any format :func:`read_labeled` reads."""
    path = Path(path)
    if path.name.lower().endswith(".npy"):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        try:
            data = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise ValueError(f"{path}: not a numeric .npy array ({exc})") from exc
        return check_series(data, missing=missing, name=str(path))
    return read_labeled(path, missing=missing)[0]
