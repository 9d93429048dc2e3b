"""Could richer TimeNet features lower TN-C's error? Summaries of the GRU outputs beyond ``TimeNetClassifier()``'s,
compared without a test set.

    python -m benchmarks.tnc_feature_variants                                  # the 6 validation datasets
    python -m benchmarks.tnc_feature_variants --datasets timenet_test --score holdout

Each GRU layer of the published encoder gives, over a series' valid steps: ``last`` (its final state, the paper's
embedding), ``mean``, ``std``, ``max``, ``min``, ``ppv`` (the share of steps where a unit is positive, MiniRocket's
pooling) and ``thirds`` (the means over the first, middle and last third of the steps). ``TimeNetClassifier()``'s
default is ``last+mean``; every variant is that plus one or more of the others, and its classifier is the same
(standardised features, RBF SVM, C and gamma by 5-fold cross-validation on the training data, all layers).

A variant may also add the same summaries of the encoder run on a transform of the series (as MultiRocket adds
the first difference to MiniRocket's input): ``/diff`` the first difference over the valid steps (one step
shorter), ``/rev`` the series reversed over its valid steps (the padding stays at the end). ``last+mean/diff`` is
``last+mean`` of the series then ``last+mean`` of its first difference: twice the columns.

``--score test`` (default, for the ``timenet_validation`` datasets only: they are labelled, never trained on, and
not test sets): the official test split's error. ``--score holdout`` (for any datasets, the 30 test datasets
included): no test split is read; at most ``--cap`` training series (stratified, seed 0) are split into two thirds
to fit on and a third to score on (stratified, seed 0), so the error is unbiased by the grid search, unlike the
search's own best cross-validated score.

Resumable: every finished ``(dataset, variant)`` error is a line of ``<out>/rows.jsonl``. Writes
``tnc_feature_variants.md`` (per-dataset errors, the mean of each variant, and each variant against ``last+mean``
paired over the datasets) and ``summary.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

KINDS = ("last", "mean", "std", "max", "min", "ppv", "third1", "third2", "third3")
VARIANTS = {
    "last+mean": ("last", "mean"),
    "last+mean+std": ("last", "mean", "std"),
    "last+mean+max": ("last", "mean", "max"),
    "last+mean+max+min": ("last", "mean", "max", "min"),
    "last+mean+ppv": ("last", "mean", "ppv"),
    "last+mean+thirds": ("last", "mean", "third1", "third2", "third3"),
    "last+mean/diff": ("last", "mean"),
    "last+mean/rev": ("last", "mean"),
    "last+mean/diff/rev": ("last", "mean"),
    "last+mean+max/diff": ("last", "mean", "max"),
}
BASELINE = "last+mean"
TRANSFORMS = ("raw", "diff", "rev")


def transforms_of(variant):
    """The inputs a variant's columns come from, in :data:`TRANSFORMS` order: ``raw`` and those after ``/``."""
    extra = variant.split("/")[1:]
    return [t for t in TRANSFORMS if t == "raw" or t in extra]


def transformed(X, transform):
    """``X`` ``(n, time)`` NaN-padded at the end, as the encoder sees it under ``transform``: ``raw`` as it is;
    ``diff`` each series' first difference over its valid steps (one step shorter, so one more NaN of padding);
    ``rev`` each series reversed over its valid steps, padded at the end again."""
    from tszoo.layers import valid_lengths

    X = np.asarray(X, np.float32)
    if transform == "raw":
        return X
    if transform == "diff":
        from tszoo.estimators import first_difference

        return first_difference(X)  # NaN from the padding on: x[L] - x[L-1] is NaN
    if transform == "rev":
        lengths = valid_lengths(X)
        source = lengths[:, None] - 1 - np.arange(X.shape[1])[None, :]
        return np.where(source >= 0, np.take_along_axis(X, np.maximum(source, 0), axis=1), np.nan).astype(np.float32)
    raise ValueError(f"transform {transform!r}; expected one of {TRANSFORMS}")


def summaries_model(encoder):
    """A Keras model giving, for every GRU layer of a TimeNet encoder, the summaries of :data:`KINDS` (each of
    ``units`` numbers), layer after layer: ``(batch, layers * len(KINDS) * units)``."""
    import keras
    from keras import ops

    from tszoo.layers import INPUT_NAME

    grus = sorted((layer.name for layer in encoder.layers if layer.name.startswith("encoder_gru_")),
                  key=lambda n: int(n.rsplit("_", 1)[1]))
    series = keras.Input((None, 1), name=INPUT_NAME)
    x, mask = encoder.get_layer("standardize")(series)
    valid = ops.cast(mask, "float32")[..., None]
    length = ops.sum(valid, axis=1, keepdims=True)
    step = ops.cumsum(valid, axis=1) - 1.0  # 0-based position among the valid steps

    def average(values, weight):
        return ops.sum(values * weight, axis=1) / ops.maximum(ops.sum(weight, axis=1), 1.0)

    first = valid * ops.cast(step < length / 3, "float32")
    last_third = valid * ops.cast(step >= 2 * length / 3, "float32")
    parts = []
    for name in grus:
        x, state = encoder.get_layer(name)(x, mask=mask)
        mean = average(x, valid)
        std = ops.sqrt(ops.maximum(average(ops.square(x), valid) - ops.square(mean), 0.0) + 1e-8)
        parts += [state, mean, std,
                  ops.max(ops.where(valid > 0, x, -2.0), axis=1),  # GRU outputs lie in (-1, 1)
                  ops.min(ops.where(valid > 0, x, 2.0), axis=1),
                  average(ops.cast(x > 0, "float32"), valid),
                  average(x, first), average(x, valid - first - last_third), average(x, last_third)]
    return keras.Model(series, ops.concatenate(parts, axis=1), name="timenet_summaries")


def variant_columns(variant, units, layers):
    """Columns that a variant uses of :func:`summaries_model`'s outputs on the inputs of :data:`TRANSFORMS`,
    concatenated in that order: its summaries of every layer, layer after layer, input after input (with
    ``last+mean`` the same numbers as ``TimeNetEmbedder(pooling="last+mean")``, in another order)."""
    kinds, width = VARIANTS[variant], layers * len(KINDS) * units
    return np.concatenate([TRANSFORMS.index(t) * width + np.arange((l * len(KINDS) + KINDS.index(k)) * units,
                                                                   (l * len(KINDS) + KINDS.index(k) + 1) * units)
                           for t in transforms_of(variant) for l in range(layers) for k in kinds])


def tnc_error(E, y, Et, yt, seed=0):
    from tszoo.estimators import TimeNetClassifier

    clf = TimeNetClassifier(layers=None, pooling="last", probability=False, random_state=seed)
    clf.fit_embeddings(E, y)  # layers=None: the columns as given, whatever their layout
    return float(np.mean(clf.predict_embeddings(Et) != yt)), clf.best_params_


def holdout_split(X, y, cap, seed=0):
    """At most ``cap`` training series (stratified), then two thirds to fit and a third to score (stratified)."""
    from benchmarks.common import stratified_third
    from benchmarks.tnc_choices import capped

    X, y = capped(X, y, cap)
    fit, score = stratified_third(y, seed)
    return X[fit], y[fit], X[score], y[score]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="timenet", help="a published name or a version folder")
    parser.add_argument("--archive", default=None)
    parser.add_argument("--datasets", default="timenet_validation",
                        help="a group of splits.json or comma-separated names")
    parser.add_argument("--score", choices=["test", "holdout"], default="test")
    parser.add_argument("--cap", type=int, default=1000, help="with --score holdout: training series at most")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated, of " + ", ".join(VARIANTS))
    parser.add_argument("--out", default="bench_out/tnc_feature_variants")
    args = parser.parse_args(argv)

    from builders.data import archive_root, load_splits
    from tszoo.datasets import load_ucr
    from tszoo.inference import embed, load_cached
    from tszoo.registry import info

    from benchmarks.common import Rows, paired, write_report

    variants = args.variants.split(",")
    if not set(variants) <= set(VARIANTS) or BASELINE not in variants:
        raise SystemExit(f"--variants {args.variants}: expected some of {', '.join(VARIANTS)}, {BASELINE} among them")
    archive = archive_root(args.archive)
    splits = load_splits(archive)
    names = splits[args.datasets] if args.datasets in splits else args.datasets.split(",")
    if args.score == "test" and not set(names) <= set(splits.get("timenet_validation", [])):
        raise SystemExit("--score test reads test splits: only for the timenet_validation datasets; "
                         "use --score holdout for others")
    card = info(args.model)
    model_id = f"{card['name']}/{card['version']}"
    units, layers = int(card["builder"]["arguments"]["units"]), int(card["builder"]["arguments"]["num_layers"])
    settings = {"model": model_id, "score": args.score, "cap": args.cap if args.score == "holdout" else None}
    rows = Rows(args.out, key=("dataset", "variant"))
    rows.check("variant", {v: settings for v in variants})
    network = None
    for name in names:
        todo = [v for v in variants if not rows.done(dataset=name, variant=v)]
        if not todo:
            continue
        network = network or summaries_model(load_cached(args.model))
        X, y = load_ucr(name, "train", root=archive)
        if args.score == "test":
            Xt, yt = load_ucr(name, "test", root=archive)
        else:
            X, y, Xt, yt = holdout_split(X, y, args.cap)
        began = time.time()
        needed = {t for v in todo for t in transforms_of(v)}
        width = layers * len(KINDS) * units
        E, Et = (np.concatenate([embed(network, transformed(A, t)) if t in needed else
                                 np.full((len(A), width), np.nan, np.float32) for t in TRANSFORMS], axis=1)
                 for A in (X, Xt))
        embed_s = time.time() - began
        for v in todo:
            began = time.time()
            cols = variant_columns(v, units, layers)
            error, params = tnc_error(E[:, cols], y, Et[:, cols], yt)
            rows.add({"dataset": name, "variant": v, **settings, "error": error, "n_fit": len(y),
                      "n_scored": len(yt), "svm": params, "embed_seconds": round(embed_s, 1),
                      "seconds": round(time.time() - began, 1)})
        print(name, {v: round(r["error"], 3) for r in rows.rows if r["dataset"] == name for v in [r["variant"]]},
              flush=True)

    table = {(r["dataset"], r["variant"]): r["error"] for r in rows.rows}
    names = [n for n in names if all((n, v) in table for v in variants)]
    scored = "the official test split" if args.score == "test" else (
        f"a stratified third of at most {args.cap} training series, fitted on the other two thirds (no test split read)")
    lines = [f"TN-C error of {model_id} with each feature variant on {len(names)} datasets, scored on {scored}; "
             "the same classifier (standardised, RBF SVM, C and gamma by 5-fold CV, all layers) for every variant.",
             "", "| dataset | " + " | ".join(variants) + " |", "|---|" + "---|" * len(variants)]
    for n in names:
        lines.append(f"| {n} | " + " | ".join(f"{table[(n, v)]:.3f}" for v in variants) + " |")
    means = {v: float(np.mean([table[(n, v)] for n in names])) for v in variants}
    lines.append("| **mean** | " + " | ".join(f"**{means[v]:.4f}**" for v in variants) + " |")
    comparisons = {}
    for v in variants:
        if v == BASELINE:
            continue
        # paired() compares accuracies: 1 - error, so "ahead" means a lower error
        c = paired([1 - table[(n, v)] for n in names], [1 - table[(n, BASELINE)] for n in names])
        comparisons[v] = c
        se = "-" if c["se"] is None else f"{100 * c['se']:.2f}"
        lines.append(f"\n{v} against {BASELINE}: error {-100 * c['difference']:+.2f} points (paired se {se}); "
                     f"lower on {c['ahead']}, tied on {c['ties']}, higher on {c['behind']}.")
    write_report(Path(args.out), "tnc_feature_variants", "\n".join(lines),
                 [{"dataset": n, **{v: table[(n, v)] for v in variants}} for n in names],
                 {**settings, "datasets": names, "mean_error": means, "against_baseline": comparisons})


if __name__ == "__main__":
    main()
