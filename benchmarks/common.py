"""What the benchmark scripts share: the published reference results, resumable rows, reports, and the peers
that a user compares tszoo with (aeon's MiniRocket and MultiRocket-Hydra), run the same way in the same process.

Run the scripts as modules from the repository root (``python -m benchmarks.convtimenet_targets``), or as files
(``python -m benchmarks.convtimenet_targets``), which puts the root on the path the same way.
"""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "anchors" / "ucr_reference.csv"
PEERS = ("minirocket", "multirocket_hydra")


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

    def add(self, row: dict) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")
        self.rows.append(row)


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
