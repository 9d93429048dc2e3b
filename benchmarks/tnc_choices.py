"""How TN-C's defaults are chosen: variants of the classifier on TimeNet's 6 validation datasets (never a test set).

    python -m benchmarks.tnc_choices [--models savedmodels/timenet/1,bench_out/models/timenet/2] [--out bench_out/tnc_choices]

The 6 ``timenet_validation`` datasets of ``splits.json`` are labelled and were not trained on; the TimeNet paper
chose its architecture on them. Each is classified on its official train/test split, for every model given, by
TN-C with ``layers=None`` (the whole embedding, the paper's TN-C) and ``layers="auto"`` (the whole embedding or one
GRU layer's part, by cross-validation on the training split: ``TimeNetClassifier()``'s default).

The SVM's C and gamma are always chosen by 5-fold cross-validation on the training split (the default grid).
Writes ``tnc_choices.md`` and ``summary.json`` in ``--out``.

``--score cv --datasets timenet_test`` chooses among candidate models without a test split: each dataset's error
is TN-C's cross-validated error on its training split (``1 - cv_score_``, the chosen setting's), and no test split
is read. ``--datasets`` takes a group of ``splits.json`` or comma-separated names.
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
    parser.add_argument("--datasets", default="timenet_validation",
                        help="a group of splits.json (timenet_validation, timenet_test, ...) or comma-separated names")
    parser.add_argument("--score", choices=["test", "cv"], default="test",
                        help="test: the official test split; cv: cross-validated error on the training split only")
    parser.add_argument("--out", default="bench_out/tnc_choices")
    args = parser.parse_args(argv)

    from builders.data import archive_root, load_splits
    from tszoo.datasets import load_ucr
    from tszoo.estimators import TimeNetClassifier
    from tszoo.inference import embed, load_cached
    from tszoo.registry import info

    archive = archive_root(args.archive)
    splits = load_splits(archive)
    names = splits[args.datasets] if args.datasets in splits else args.datasets.split(",")
    data = {n: (*load_ucr(n, "train", root=archive),
                *(load_ucr(n, "test", root=archive) if args.score == "test" else (None, None))) for n in names}
    errors, began = {}, time.time()
    labels = []
    for spec in args.models.split(","):
        card = info(spec)
        label = f"{card['name']}/{card['version']}"
        labels.append(label)
        folder = card["path"]
        encoder = load_cached(folder)
        for dataset, (X, y, Xt, yt) in data.items():
            E = embed(encoder, X)
            Et = embed(encoder, Xt) if args.score == "test" else None
            for layers in VARIANTS:
                clf = TimeNetClassifier(model=folder, layers=layers if layers == "auto" else None,
                                        probability=False, random_state=0).fit_embeddings(E, y)
                errors[(label, dataset, layers)] = (float(np.mean(clf.predict_embeddings(Et) != yt))
                                                    if args.score == "test" else 1.0 - clf.cv_score_)
                print(f"{label} {dataset} {layers}: {errors[(label, dataset, layers)]:.3f}", flush=True)
    header = ["model", "dataset", *[f"layers {v}" for v in VARIANTS]]
    what = ("error on the official test split" if args.score == "test" else
            "cross-validated error on the training split (the chosen setting's; no test split read)")
    lines = [f"TN-C {what}, on {len(names)} datasets ({args.datasets}); C and gamma by 5-fold CV on the training "
             "split in every column.", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    means = {}
    for label in labels:
        for dataset in names:
            lines.append(f"| {label} | {dataset} | " + " | ".join(
                f"{errors[(label, dataset, v)]:.3f}" for v in VARIANTS) + " |")
        means[label] = {v: float(np.mean([errors[(label, d, v)] for d in names])) for v in VARIANTS}
        lines.append(f"| **{label}** | **mean** | " + " | ".join(f"**{means[label][v]:.4f}**" for v in VARIANTS)
                     + " |")
    if len(labels) > 1:  # each model against the first, dataset by dataset, with the default (layers auto)
        for label in labels[1:]:
            better = sum(errors[(label, d, "auto")] < errors[(labels[0], d, "auto")] for d in names)
            worse = sum(errors[(label, d, "auto")] > errors[(labels[0], d, "auto")] for d in names)
            lines.append(f"\n{label} against {labels[0]} (layers auto): lower error on {better}, higher on {worse} "
                         f"of {len(names)}.")
    summary = {"datasets": names, "score": args.score, "mean_error": means, "seconds": round(time.time() - began),
               "errors": {" ".join(k): v for k, v in errors.items()}}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tnc_choices.md").write_text("\n".join(lines) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
