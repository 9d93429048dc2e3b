"""Choose between pretrained ConvTimeNet bodies by a linear probe INSIDE the targets' training splits.

    python -m benchmarks.body_selection --models savedmodels/convtimenet/2,bench_out/models/ctn3_f64b6/1 \
        --out bench_out/body_selection

The held-back source accuracy cannot tell bodies apart (every body pretrained by the v2 recipe, at any width or
depth, lands at 0.936-0.944), and it measures the sources, not transfer. This measures transfer without reading a
test split: for each target, the body's frozen embeddings of its official TRAINING split (the model's own
inference statistics) are standardised and fed to a ridge classifier with its penalty chosen by leave-one-out
(``RidgeClassifierCV``, as MiniRocket's), scored by stratified k-fold cross-validation inside the training split
(k = 5, or fewer where the smallest class has fewer series; seed 0). The test split is never read. The body with
the highest mean CV accuracy is the one to fine-tune on the targets. Resumable (``<out>/rows.jsonl``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from benchmarks.common import Rows, write_report

FOLDS = 5


def probe_cv_accuracy(E: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[float, int]:
    """Mean stratified k-fold accuracy of a standardised ridge probe on embeddings ``E``; returns (accuracy, k)."""
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    _, counts = np.unique(y, return_counts=True)
    k = int(min(FOLDS, counts.min()))
    if k >= 2:
        folds = StratifiedKFold(k, shuffle=True, random_state=seed)
    else:  # a class with one training series: plain folds
        k = FOLDS
        folds = KFold(k, shuffle=True, random_state=seed)
    probe = make_pipeline(StandardScaler(), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))
    return float(cross_val_score(probe, E, y, cv=folds).mean()), k


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", required=True, help="comma-separated version folders or published names")
    parser.add_argument("--archive", default=None)
    parser.add_argument("--datasets", default=None, help="comma-separated (default: the 41 targets)")
    parser.add_argument("--out", default="bench_out/body_selection")
    args = parser.parse_args(argv)

    from builders.data import archive_root, load_splits
    from tszoo.datasets import load_ucr
    from tszoo.inference import embed, load_cached

    root = archive_root(args.archive)
    names = args.datasets.split(",") if args.datasets else load_splits(args.archive)["targets"]
    models = args.models.split(",")
    rows = Rows(args.out, key=("dataset", "model"))
    for model in models:
        body = None
        for name in names:
            if rows.done(dataset=name, model=model):
                continue
            body = body or load_cached(model)
            X, y = load_ucr(name, "train", root=root)
            began = time.perf_counter()
            E = embed(body, X)
            accuracy, k = probe_cv_accuracy(E, y)
            rows.add({"dataset": name, "model": model, "probe_cv_accuracy": accuracy, "folds": k,
                      "n_train": len(y), "embedding": int(E.shape[1]),
                      "seconds": round(time.perf_counter() - began, 2)})
            print(f"{model} {name}: {accuracy:.4f} ({k} folds)", flush=True)

    table, means = [], {}
    by = {(r["dataset"], r["model"]): r for r in rows.rows}
    complete = [n for n in names if all((n, m) in by for m in models)]
    for n in complete:
        table.append({"dataset": n, **{m: round(by[n, m]["probe_cv_accuracy"], 4) for m in models}})
    for m in models:
        values = [by[n, m]["probe_cv_accuracy"] for n in complete]
        means[m] = float(np.mean(values)) if values else None
    best = max((m for m in models if means[m] is not None), key=lambda m: means[m], default=None)
    lines = ["# ConvTimeNet bodies: linear probe, cross-validated inside the targets' training splits", "",
             f"{len(complete)} of {len(names)} datasets; frozen embeddings, standardised, RidgeClassifierCV, "
             f"stratified {FOLDS}-fold CV (seed 0). No test split is read.", "",
             "| body | mean probe CV accuracy | best on | embedding | seconds |", "|---|---|---|---|---|"]
    for m in models:
        wins = sum(by[n, m]["probe_cv_accuracy"] >= max(by[n, o]["probe_cv_accuracy"] for o in models)
                   for n in complete)
        seconds = sum(by[n, m]["seconds"] for n in complete)
        size = next((by[n, m]["embedding"] for n in complete), "")
        lines.append(f"| {m} | {means[m]:.4f} | {wins} | {size} | {seconds:.0f} |" if means[m] is not None
                     else f"| {m} | - | - | - | - |")
    lines += ["", f"Chosen (highest mean): **{best}**", ""]
    lines += ["| dataset | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
    lines += ["| " + " | ".join([r["dataset"]] + [f"{r[m]:.4f}" for m in models]) + " |" for r in table]
    write_report(Path(args.out), "body_selection", "\n".join(lines), table,
                 {"means": means, "chosen": best, "datasets": len(complete)})


if __name__ == "__main__":
    main()
