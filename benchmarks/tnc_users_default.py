"""TN-C as ``TimeNetClassifier()`` gives it by default, against Table 1's TN-C, on the 30 ``timenet_test`` datasets.

    python -m benchmarks.tnc_users_default --model timenet --out bench_out/tnc_users_default

``benchmarks.timenet_table1`` reports TN-C with the paper's classifier: the SVM's own predictions, C and gamma (and
the layers) by stratified 3-fold cross-validation. A user who calls ``TimeNetClassifier().fit(X, y)`` gets 5-fold
cross-validation and, since 2026-12-06, the SVM's own predictions too (``predict_proba`` is calibrated apart).
Until then ``predict`` took the most probable class of the Platt-calibrated probabilities, the ``calibrated`` arm,
which this measured and which the holdout below retired. Arms, on the same embeddings and official splits, paired
over the datasets: ``table1`` (3 folds), ``default`` (5 folds: ``TimeNetClassifier()``), ``calibrated`` (5 folds,
the most probable class). All search on a stratified sample of 2,000 training series where there are more
(ElectricDevices, FordA, FordB: ``timenet_table1.SEARCH_CAP``, to bound the time on CPU) and then fit on the whole
training split. Resumable (``<out>/rows.jsonl``); writes ``tnc_users_default.md``, ``.csv`` and ``summary.json``.

``--score holdout`` reads no test split: each dataset's training split (at most ``--cap`` series, stratified) is
cut into two thirds to fit and a third to score (``benchmarks.tnc_feature_variants``' split; ``--split-seed`` holds
out another third, for a second look at a candidate chosen on the first), so that a default can be chosen on it.
``--layers all`` gives the SVM every layer's features, ``--layers auto`` chooses the layers by cross-validation;
without either, ``TimeNetClassifier()``'s default (all layers since 2026-12-07, ``auto`` before), as ``--pooling``
and ``--inputs`` (``last+mean+max`` of the series and its first difference since 2026-12-07, ``last+mean`` of the
series before).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

ARMS = {"table1": {"cv": 3, "calibrated": False}, "default": {"cv": 5, "calibrated": False},
        "calibrated": {"cv": 5, "calibrated": True}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="timenet", help="published name or version folder")
    parser.add_argument("--archive", default=None)
    parser.add_argument("--datasets", default="timenet_test", help="a group of splits.json or comma-separated names")
    parser.add_argument("--score", choices=["test", "holdout"], default="test",
                        help="the official test splits, or a held-out third of each training split")
    parser.add_argument("--cap", type=int, default=1000, help="with --score holdout: training series at most")
    parser.add_argument("--pooling", default=None, help="the features (default: TimeNetClassifier()'s)")
    parser.add_argument("--inputs", default=None, help="the encoder's inputs (default: TimeNetClassifier()'s)")
    parser.add_argument("--split-seed", type=int, default=0, help="with --score holdout: which third is held out")
    parser.add_argument("--layers", choices=["auto", "all"], default=None,
                        help="the layers: chosen by cross-validation, or all (default: TimeNetClassifier()'s, all "
                             "since 2026-12-07)")
    parser.add_argument("--out", default="bench_out/tnc_users_default")
    args = parser.parse_args(argv)

    from benchmarks.common import Rows, paired, reference_table, versus_archive_dtw, write_report
    from benchmarks.timenet_table1 import tnc_error
    from benchmarks.tnc_feature_variants import holdout_split
    from builders.data import archive_root, load_splits
    from tszoo.datasets import load_ucr
    from tszoo.estimators import TimeNetClassifier, _timenet_network
    from tszoo.inference import embed
    from tszoo.registry import info

    archive = archive_root(args.archive)
    splits = load_splits(archive)
    names = splits[args.datasets] if args.datasets in splits else args.datasets.split(",")
    card = info(args.model)
    model = f"{card['name']}/{card['version']}"
    pooling = args.pooling or TimeNetClassifier().pooling
    inputs = args.inputs or TimeNetClassifier().inputs
    args.layers = args.layers or ("auto" if TimeNetClassifier().layers == "auto" else "all")
    out = Path(args.out)
    rows = Rows(out, key=("dataset", "model"))
    if args.split_seed and args.score != "holdout":
        raise SystemExit("--split-seed chooses the held-out third of --score holdout; the test splits have none")
    settings = {"pooling": pooling, **({} if inputs == "series" else {"inputs": inputs}), "arms": ARMS,
                "score": args.score,
                "cap": args.cap if args.score == "holdout" else None,
                # None: the held-out third of seed 0 and the layers chosen by cross-validation, as in rows made
                # before these settings existed
                "split_seed": args.split_seed or None, "layers": "all" if args.layers == "all" else None}
    rows.check("model", {model: settings})
    for name in names:
        if rows.done(dataset=name, model=model):
            continue
        X, y = load_ucr(name, "train", root=archive)
        if args.score == "holdout":
            X, y, Xt, yt = holdout_split(X, y, args.cap, seed=args.split_seed)
        else:
            Xt, yt = load_ucr(name, "test", root=archive)
        network = _timenet_network(args.model, None, pooling, inputs)
        E, Et = embed(network, X), embed(network, Xt)
        row = {"dataset": name, "model": model, **settings, "n_train": len(X), "n_scored": len(Xt)}
        for arm, kw in ARMS.items():
            began = time.time()
            row[arm], row[f"{arm}_chosen"] = tnc_error(E, y, Et, yt, model=args.model,
                                                       layers="auto" if args.layers == "auto" else None,
                                                       pooling=pooling, inputs=inputs, **kw)
            row[f"{arm}_seconds"] = round(time.time() - began, 1)
        rows.add(row)
        print(f"{name}: " + ", ".join(f"{arm} {row[arm]:.3f}" for arm in ARMS), flush=True)

    done = [r for n in names for r in rows.rows if r["dataset"] == n and r["model"] == model]
    reference = reference_table(required=False)  # the paper's column, where ../shared is
    paper = {r["dataset"]: reference.get(r["dataset"], {}).get("timenet_paper_tn_c_error") for r in done}
    mean = {arm: float(np.mean([r[arm] for r in done])) for arm in ARMS}
    p = paired([1 - r["default"] for r in done], [1 - r["table1"] for r in done])
    calibration = paired([1 - r["calibrated"] for r in done], [1 - r["default"] for r in done])
    where = ("official test splits" if args.score == "test" else
             f"held-out thirds (split seed {args.split_seed}) of at most {args.cap} training series (fitted on the "
             "other two thirds; no test split read)")
    seconds = {arm: float(sum(r[f"{arm}_seconds"] for r in done)) for arm in ARMS}
    features = (pooling + ("" if inputs == "series" else f" of {inputs.replace('+', ' and ')}") +
                (", all layers" if args.layers == "all" else ", layers chosen by cross-validation"))
    lines = [f"TN-C error of {model} ({features} features) on {len(done)} datasets' {where}: Table 1's classifier "
             "(3-fold CV, the SVM's own predictions), `TimeNetClassifier()`'s default (5-fold CV, the SVM's own "
             "predictions) and its predictions until 2026-12-06 (5-fold CV, the most probable class of the "
             "Platt-calibrated probabilities). Same embeddings; the search on at most 2,000 stratified training "
             "series, the fit on all.", "",
             "| dataset | n fit | Table 1's TN-C | TimeNetClassifier() | calibrated argmax (until 2026-12-06) | "
             "paper's TN-C (test) |", "|---|---|---|---|---|---|"]
    for r in done:
        ref = paper[r["dataset"]]
        lines.append(f"| {r['dataset']} | {r['n_train']} | {r['table1']:.3f} | {r['default']:.3f} | "
                     f"{r['calibrated']:.3f} | {'-' if ref in (None, '') else f'{float(ref):.3f}'} |")
    lines.append(f"| **mean** | | **{mean['table1']:.4f}** | **{mean['default']:.4f}** | "
                 f"**{mean['calibrated']:.4f}** | |")

    def said(q, what):
        return (f"{what}: {-100 * q['difference']:+.2f} points of error (paired se {100 * (q['se'] or 0):.2f}); "
                f"lower on {q['ahead']}, tied on {q['ties']}, higher on {q['behind']} of {len(done)}.")

    dtw = {arm: [versus_archive_dtw(r[arm], reference.get(r["dataset"], {})) for r in done] for arm in ARMS}
    dtw = {arm: {"win": v.count("win"), "tie": v.count("tie"), "loss": v.count("loss")} for arm, v in dtw.items()}
    lines += ["", said(p, "`TimeNetClassifier()` (5 folds) against Table 1's classifier (3 folds)"),
              said(calibration, "Calibrated argmax against the SVM's own predictions (both 5 folds)"),
              *(["At least as good as the archive's DTW (learned window; test splits) on: " +
                 ", ".join(f"{arm} {d['win'] + d['tie']} of {sum(d.values())}" for arm, d in dtw.items()) +
                 " (where ../shared's references are present)."] if args.score == "test" else []),
              "Fit + predict seconds over the datasets (embedding excluded): " +
              ", ".join(f"{arm} {seconds[arm]:.0f}" for arm in ARMS) + "."]
    write_report(out, "tnc_users_default", "\n".join(lines),
                 [{k: r[k] for k in ("dataset", "n_train", "n_scored", *ARMS)} for r in done],
                 {"model": model, **settings, "datasets": len(done), "mean_error": mean,
                  "default_against_table1": p, "calibrated_against_default": calibration,
                  "win_tie_loss_vs_archive_dtw": dtw if args.score == "test" else None,
                  "seconds": seconds})


if __name__ == "__main__":
    main()
