"""What the benchmark scripts share: the published reference results, resumable rows, reports, and the peers
that a user compares tszoo with (aeon's MiniRocket and MultiRocket-Hydra), run the same way in the same process.

Run the scripts as modules from the repository root (``python -m benchmarks.convtimenet_targets``), or as files
(``python -m benchmarks.convtimenet_targets``), which puts the root on the path the same way.
"""

from __future__ import annotations

import copy
import csv
import functools
import json
import os
import platform
import time
from importlib import metadata
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# instruction sets that change which kernels oneDNN and XLA pick (and so the last bits of a fine-tuning)
ISA_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile")
REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "anchors" / "ucr_reference.csv"
PEERS = ("minirocket", "multirocket_hydra")


@functools.cache
def _machine() -> dict:
    cpu, isa, model = platform.processor() or platform.machine(), [], None
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        info = ""
    fields = {}
    for line in info.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    if "model name" in fields:
        cpu = fields["model name"]
        model = "/".join(fields.get(k, "?") for k in ("cpu family", "model", "stepping"))
        isa = [f for f in ISA_FLAGS if f in fields.get("flags", "").split()]
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    versions = {}
    for package in ("tensorflow", "keras", "jax", "aeon", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return {"cpu": cpu, "cpu_family_model_stepping": model, "isa": isa, "cpus": usable,
            "system": platform.system(), "python": platform.python_version(),
            "keras_backend": os.environ.get("KERAS_BACKEND", "tensorflow"), "versions": versions}


def machine() -> dict:
    """What a benchmark row was made on: the CPU (name, family/model/stepping, the instruction sets that change
    oneDNN's kernels; read from ``/proc/cpuinfo``, so on Linux only), how many CPUs this process may use, and the
    versions of the libraries that compute. Rows are exact only within one such machine: fine-tuning amplifies
    last-bit differences between kernels. A fresh copy each call."""
    return copy.deepcopy(_machine())


def machine_label(m: dict | None) -> str:
    if not m:
        return "not recorded"
    return (f"{m['cpu']} ({m['cpu_family_model_stepping'] or '?'}; {m['cpus']} CPUs; "
            f"{'+'.join(m['isa']) or ('none of ' + '/'.join(ISA_FLAGS[:2]) if m['cpu_family_model_stepping'] else 'instruction sets not read')}), "
            f"{m['keras_backend']}, "
            + ", ".join(f"{k} {v}" for k, v in m["versions"].items()))


def machines(rows) -> dict[str, int]:
    """How many rows each machine made (``machine_label``), rows without a record (older than 2026-12-06, or
    copied from a folder that had none) under ``"not recorded"``."""
    counts: dict[str, int] = {}
    for r in rows:
        label = machine_label(r.get("machine"))
        counts[label] = counts.get(label, 0) + 1
    return counts


def machines_lines(rows) -> list[str]:
    """Markdown lines saying which machines made the rows."""
    return ["", "Rows made on:"] + [f"- {label}: {n} rows" for label, n in machines(rows).items()]


def as_float(v):
    return float(v) if v not in ("", None) else None


def reference_table(path=None, required: bool = True) -> dict[str, dict]:
    """Published per-dataset results (DTW, TimeNet paper, ResNet, FCN, InceptionTime), by dataset name (``path``
    default ``REFERENCE``, in ``../shared``). ``required=False``: an empty table where the file is absent (a fresh
    clone without ``../shared``), for scripts that only add a reference column or an order from it."""
    path = Path(REFERENCE if path is None else path)
    if not required and not path.exists():
        return {}
    with open(path) as f:
        return {row["dataset"]: row for row in csv.DictReader(f)}


def versus_archive_dtw(error: float, reference_row: dict) -> str:
    """``"win"``, ``"tie"`` or ``"loss"`` of a test error against the archive's DTW (learned warping window) on
    that dataset, compared to the 3 decimals the archive publishes; ``"-"`` where the reference has none."""
    dtw = as_float(reference_row.get("ucr_dtw_learned_w_error"))
    if dtw is None:
        return "-"
    ours, theirs = round(error, 3), round(dtw, 3)
    return "win" if ours < theirs else "tie" if ours == theirs else "loss"


def paired(new, old, tie: float = 1e-12) -> dict:
    """Per-dataset paired comparison of two accuracy vectors: the mean difference ``new - old`` and its standard
    error (fractions, None for one dataset), and on how many datasets ``new`` is ahead, tied (within ``tie``) or
    behind."""
    d = np.asarray(new, np.float64) - np.asarray(old, np.float64)
    ahead, behind = int(np.sum(d > tie)), int(np.sum(d < -tie))
    return {"difference": float(d.mean()), "se": float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else None,
            "ahead": ahead, "ties": len(d) - ahead - behind, "behind": behind, "at_least_as_good": len(d) - behind}


def write_report(out: Path, stem: str, markdown: str, table: list[dict], summary: dict) -> None:
    """``<stem>.md``, ``<stem>.csv`` and ``summary.json`` in ``out``, and the markdown on stdout."""
    (out / f"{stem}.md").write_text(markdown + "\n")
    if table:
        with open(out / f"{stem}.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(table[0]))
            writer.writeheader()
            writer.writerows(table)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(markdown)


class Rows:
    """Finished rows of an evaluation, one JSON line each in ``<out>/rows.jsonl``: a rerun skips what is done.

    ``key`` names the fields that identify a row; ``settings`` (per row kind) says how such a row is made, and a
    file holding a row made another way is refused rather than mixed into the table.
    """

    def __init__(self, out, key=("dataset", "arm", "seed")):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.path = self.out / "rows.jsonl"
        self.key = key
        self.rows = [json.loads(x) for x in self.path.read_text().splitlines() if x.strip()] \
            if self.path.exists() else []

    def _key(self, row):
        return tuple(row.get(k) for k in self.key)

    def check(self, kind_field: str, expected: dict[str, dict]) -> None:
        for r in self.rows:
            want = expected.get(r.get(kind_field))
            if want is not None and {k: r.get(k) for k in want} != want:
                raise SystemExit(f"{self.path} holds a {r[kind_field]!r} row for {r.get('dataset')} made with other "
                                 f"settings ({ {k: r.get(k) for k in want} } instead of {want}); use another --out, "
                                 "or remove those rows to redo them")

    def done(self, **key) -> bool:
        wanted = tuple(key.get(k) for k in self.key)
        return any(self._key(r) == wanted for r in self.rows)

    def add(self, row: dict, stamp: bool = True) -> None:
        """Append a finished row; ``stamp``: record this machine in it unless it names one (pass ``False`` for
        a row copied from another run, which was made elsewhere)."""
        if stamp and "machine" not in row:
            row = {**row, "machine": machine()}
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")
        self.rows.append(row)


def read_rows(path) -> list[dict]:
    """The rows of a ``rows.jsonl`` file, gzipped (``.gz``, as committed in ``benchmarks/results``) or not."""
    import gzip

    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return [json.loads(line) for line in f if line.strip()]


def stratified_third(y, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(fit, held out)`` indices of a training split: a stratified third held out. A class with a single series
    (FiftyWords has some) cannot be split: its series is fitted on, never held out, and the third is drawn from the
    other classes; without such a class the indices, order included, are ``train_test_split``'s own."""
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    labels, counts = np.unique(y, return_counts=True)
    alone = np.flatnonzero(np.isin(y, labels[counts < 2]))
    rest = np.setdiff1d(np.arange(len(y)), alone)
    fit_idx, held_idx = train_test_split(rest, test_size=1 / 3, stratify=y[rest], random_state=seed)
    return np.concatenate([fit_idx, alone]), held_idx


def peer_classifier(name: str, seed: int):
    """aeon's classifier with its defaults (aeon >= 1.2), seeded."""
    if name == "minirocket":
        from aeon.classification.convolution_based import MiniRocketClassifier

        return MiniRocketClassifier(random_state=seed)
    if name == "multirocket_hydra":
        from aeon.classification.convolution_based import MultiRocketHydraClassifier

        return MultiRocketHydraClassifier(random_state=seed)
    raise ValueError(f"peer {name!r}; expected one of {PEERS}")


def run_peer(name: str, X, y, Xt, yt, seed: int = 0) -> dict:
    """Fit a peer on the training split and score it on the test split: ``{accuracy, fit_predict_seconds}``.

    The peers take equal-length series ``(n, 1, length)``; a NaN-padded collection is refused with a message.
    """
    if np.isnan(X).any() or np.isnan(Xt).any():
        raise ValueError("aeon's MiniRocket and MultiRocket-Hydra need equal-length series without NaN")
    clf = peer_classifier(name, seed)
    began = time.time()
    clf.fit(X[:, None, :].astype(np.float64), y)
    accuracy = float(np.mean(clf.predict(Xt[:, None, :].astype(np.float64)) == yt))
    return {"accuracy": accuracy, "fit_predict_seconds": round(time.time() - began, 1)}
