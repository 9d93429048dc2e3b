"""How TN-C's defaults are chosen: variants of the classifier on TimeNet's 6 validation datasets (never a test set).

    python -m benchmarks.tnc_choices [--models savedmodels/timenet/1,bench_out/models/timenet/2] [--out bench_out/tnc_choices]

The 6 ``timenet_validation`` datasets of ``splits.json`` are labelled and were not trained on; the TimeNet paper
chose its architecture on them. Each is classified on its official train/test split, for every model given, by
TN-C on each of ``--poolings`` (the features: ``last``, each GRU layer's final state, is the paper's embedding;
``mean``, each layer's outputs averaged over the valid steps; ``last+mean``, both) with ``layers=None`` (all
layers; ``last`` with all layers is the paper's TN-C) and ``layers="auto"`` (all layers or one layer's part, by
cross-validation on the training split). ``TimeNetClassifier()``'s default pooling and layers were chosen here.

The SVM's C and gamma are always chosen by 5-fold cross-validation on the training split (the default grid).
Writes ``tnc_choices.md`` and ``summary.json`` in ``--out``.

``--score cv --datasets timenet_test`` chooses among candidate models without a test split: each dataset's error
is TN-C's cross-validated error on its training split (``1 - cv_score_``, the chosen setting's), and no test split
is read. ``--datasets`` takes a group of ``splits.json`` or comma-separated names. ``--cap`` (cv only, default
1000) first draws a stratified sample of at most that many training series (seed 0, the same for every model):
embedding all of ElectricDevices' 8,926 or FordA's 3,601 series on this CPU is what made a 5-model comparison take
hours, and TN-C's cross-validation subsamples to 2,000 anyway.

Resumable: every finished ``(model, dataset, pooling, layers)`` error is a line of ``<out>/rows.jsonl`` (rows made
before pooling was a choice say nothing: ``last``); a rerun skips them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

LAYERS = ("all", "auto")
POOLINGS = ("last", "mean", "last+mean")


def capped(X, y, cap):
    """At most ``cap`` series, a stratified sample (seed 0; every class kept); all of them when ``cap`` is None."""
    if cap is None or len(y) <= cap:
        return X, y
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(len(y)), train_size=cap, stratify=y, random_state=0)
    keep = np.sort(keep)
    return X[keep], y[keep]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="timenet", help="comma-separated names or version folders")
    parser.add_argument("--archive", default=None)
    parser.add_argument("--datasets", default="timenet_validation",
                        help="a group of splits.json (timenet_validation, timenet_test, ...) or comma-separated names")
    parser.add_argument("--score", choices=["test", "cv"], default="test",
                        help="test: the official test split; cv: cross-validated error on the training split only")
    parser.add_argument("--cap", type=int, default=1000,
                        help="with --score cv: training series per dataset at most (stratified; 0: all)")
    parser.add_argument("--poolings", default=",".join(POOLINGS), help="comma-separated, of " + ", ".join(POOLINGS))
    parser.add_argument("--out", default="bench_out/tnc_choices")
    args = parser.parse_args(argv)

    from builders.data import archive_root, load_splits
    from tszoo.datasets import load_ucr
    from tszoo.estimators import TimeNetClassifier, _timenet_network
    from tszoo.inference import embed
    from tszoo.registry import info

    from benchmarks.common import Rows

    archive = archive_root(args.archive)
    splits = load_splits(archive)
    names = splits[args.datasets] if args.datasets in splits else args.datasets.split(",")
    poolings = args.poolings.split(",")
    if not set(poolings) <= set(POOLINGS):
        raise SystemExit(f"--poolings {args.poolings}: expected some of {', '.join(POOLINGS)}")
    variants = [(p, layers) for p in poolings for layers in LAYERS]
    cap = args.cap if args.score == "cv" and args.cap else None
    rows = Rows(args.out, key=("model", "dataset", "pooling", "layers"))
    rows.check("score", {args.score: {"score": args.score, "cap": cap}})
    errors, began = {}, time.time()
    for r in rows.rows:
        errors[(r["model"], r["dataset"], r.get("pooling", "last"), r["layers"])] = r["error"]
    labels = []
    for spec in args.models.split(","):
        card = info(spec)
        label = f"{card['name']}/{card['version']}"
        labels.append(label)
        folder = card["path"]
        arguments = card["builder"]["arguments"]
        width = int(arguments.get("units", 60)) * int(arguments.get("num_layers", 3))  # the final states' part
        for dataset in names:
            if all((label, dataset, *v) in errors for v in variants):
                continue
            X, y = capped(*load_ucr(dataset, "train", root=archive), cap)
            network = _timenet_network(folder, None, "last+mean")  # every pooling's features, embedded once
            E = embed(network, X)
            Xt, yt = load_ucr(dataset, "test", root=archive) if args.score == "test" else (None, None)
            Et = embed(network, Xt) if args.score == "test" else None
            part = {"last": slice(0, width), "mean": slice(width, 2 * width), "last+mean": slice(0, 2 * width)}
            for pooling, layers in variants:
                if (label, dataset, pooling, layers) in errors:
                    continue
                clf = TimeNetClassifier(model=folder, layers=layers if layers == "auto" else None, pooling=pooling,
                                        inputs="series", probability=False, random_state=0).fit_embeddings(
                    E[:, part[pooling]], y)
                error = (float(np.mean(clf.predict_embeddings(Et[:, part[pooling]]) != yt))
                         if args.score == "test" else 1.0 - clf.cv_score_)
                errors[(label, dataset, pooling, layers)] = error
                rows.add({"model": label, "dataset": dataset, "pooling": pooling, "layers": layers, "error": error,
                          "score": args.score, "cap": cap, "n_train": int(len(y))})
                print(f"{label} {dataset} {pooling} {layers}: {error:.3f}", flush=True)
    header = ["model", "dataset", *[f"{p}, layers {layers}" for p, layers in variants]]
    what = ("error on the official test split" if args.score == "test" else
            "cross-validated error on the training split (the chosen setting's; no test split read"
            + (f"; at most {cap} training series a dataset, a stratified sample" if cap else "") + ")")
    lines = [f"TN-C {what}, on {len(names)} datasets ({args.datasets}); C and gamma by 5-fold CV on the training "
             "split in every column.", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    means = {}
    for label in labels:
        for dataset in names:
            lines.append(f"| {label} | {dataset} | " + " | ".join(
                f"{errors[(label, dataset, *v)]:.3f}" for v in variants) + " |")
        means[label] = {" ".join(v): float(np.mean([errors[(label, d, *v)] for d in names])) for v in variants}
        lines.append(f"| **{label}** | **mean** | " + " | ".join(f"**{means[label][' '.join(v)]:.4f}**"
                                                                 for v in variants) + " |")
        best = min(means[label], key=means[label].get)
        lines.append(f"\n{label}: the lowest mean error is {best.replace(' ', ', layers ')} "
                     f"({means[label][best]:.4f}).")
    users = TimeNetClassifier()  # its features, when they are among the variants (today's default inputs aside)
    default = (users.pooling, "auto" if users.layers == "auto" else "all")
    if len(labels) > 1 and default in variants:  # each model against the first, dataset by dataset, the default
        for label in labels[1:]:
            better = sum(errors[(label, d, *default)] < errors[(labels[0], d, *default)] for d in names)
            worse = sum(errors[(label, d, *default)] > errors[(labels[0], d, *default)] for d in names)
            lines.append(f"\n{label} against {labels[0]} (TimeNetClassifier()'s default features and layers): lower "
                         f"error on {better}, higher on {worse} of {len(names)}.")
    summary = {"datasets": names, "score": args.score, "cap": cap, "mean_error": means,
               "seconds_this_invocation": round(time.time() - began),
               "errors": {" ".join(k): v for k, v in errors.items()}, "poolings": poolings}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tnc_choices.md").write_text("\n".join(lines) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
