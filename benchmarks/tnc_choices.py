"""How TN-C's defaults are chosen: variants of the classifier on TimeNet's 6 validation datasets (never a test set).

    python -m benchmarks.tnc_choices [--models savedmodels/timenet/1,bench_out/models/timenet/2] [--out bench_out/tnc_choices]

The 6 ``timenet_validation`` datasets of ``splits.json`` are labelled and were not trained on; the TimeNet paper
chose its architecture on them. Each is classified on its official train/test split, for every model given, by
TN-C with ``layers=None`` (the whole embedding, the paper's TN-C) and ``layers="auto"`` (the whole embedding or one
GRU layer's part, by cross-validation on the training split: ``TimeNetClassifier()``'s default).

The SVM's C and gamma are always chosen by 5-fold cross-validation on the training split (the default grid).
Writes ``tnc_choices.md`` and ``summary.json`` in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

VARIANTS = ("all", "auto")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="timenet", help="comma-separated names or version folders")
    parser.add_argument("--archive", default=None)
    parser.add_argument("--out", default="bench_out/tnc_choices")
    args = parser.parse_args(argv)

    from builders.data import archive_root, load_splits
    from tszoo.datasets import load_ucr
    from tszoo.estimators import TimeNetClassifier
    from tszoo.inference import embed, load_cached
    from tszoo.registry import info

    archive = archive_root(args.archive)
    names = load_splits(archive)["timenet_validation"]
    data = {n: (*load_ucr(n, "train", root=archive), *load_ucr(n, "test", root=archive)) for n in names}
    errors, began = {}, time.time()
    labels = []
    for spec in args.models.split(","):
        card = info(spec)
        label = f"{card['name']}/{card['version']}"
        labels.append(label)
        folder = card["path"]
        encoder = load_cached(folder)
        for dataset, (X, y, Xt, yt) in data.items():
            E, Et = embed(encoder, X), embed(encoder, Xt)
            for layers in VARIANTS:
                clf = TimeNetClassifier(model=folder, layers=layers if layers == "auto" else None,
                                        probability=False, random_state=0).fit_embeddings(E, y)
                errors[(label, dataset, layers)] = float(np.mean(clf.predict_embeddings(Et) != yt))
                print(f"{label} {dataset} {layers}: {errors[(label, dataset, layers)]:.3f}", flush=True)
    header = ["model", "dataset", *[f"layers {v}" for v in VARIANTS]]
    lines = ["TN-C error on TimeNet's 6 validation datasets (official splits); C and gamma by 5-fold CV on the "
             "training split in every column.", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    means = {}
    for label in labels:
        for dataset in names:
            lines.append(f"| {label} | {dataset} | " + " | ".join(
                f"{errors[(label, dataset, v)]:.3f}" for v in VARIANTS) + " |")
        means[label] = {v: float(np.mean([errors[(label, d, v)] for d in names])) for v in VARIANTS}
        lines.append(f"| **{label}** | **mean** | " + " | ".join(f"**{means[label][v]:.4f}**" for v in VARIANTS)
                     + " |")
    summary = {"datasets": names, "mean_error": means, "seconds": round(time.time() - began),
               "errors": {" ".join(k): v for k, v in errors.items()}}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tnc_choices.md").write_text("\n".join(lines) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
