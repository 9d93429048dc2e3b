"""Choose among a TimeNet pretraining run's kept checkpoints by TN-C on held-out training series of other datasets.

    python -m benchmarks.timenet_candidates --run runs/tn_warm_p2 --against timenet

The 6 ``timenet_validation`` datasets that the run itself validates on are few, and they did not predict the test
sets (the v2 candidate: 0.166 against timenet/1's 0.202 there, worse on the 30 test datasets). This scores every
kept checkpoint of ``--run`` (``checkpoints/ckpt-N.npz``: keep them with ``--keep-every``) and every ``--against``
model on many datasets without reading a test split: for each of ``--datasets`` (default the 30
``timenet_test``), at most ``--cap`` training series (stratified, seed 0) are split into two thirds to fit on and a
third to score on (stratified, seed 0): ``benchmarks.tnc_feature_variants --score holdout``'s split. The features
are each layer's final state and its time mean of the series (``builders.timenet.VALIDATION_POOLING``:
``TimeNetClassifier()``'s from 2026-11-25 to 2026-12-07, the features every committed candidate was scored on; what
tells encoders apart, not the users' default features), the classifier standardised features, RBF SVM, C and gamma
by 5-fold cross-validation, all layers. Choosing a checkpoint this way is a choice made on training splits only; the
chosen one is then scored on the official test splits by ``benchmarks.timenet_table1``.

``--average 25,30,35`` adds one more candidate, ``<run>@avg25,30,35``: the uniform average of those kept
checkpoints' weights (stochastic weight averaging after the fact; TimeNet has no batch-norm statistics to
recompute). It needs no training; whether it beats the single epochs is measured, not assumed (on runs/timenet_v2k
and the warm start it did not: ``benchmarks/results/timenet_candidates_v2k.md``, ``timenet_candidates_warm.md``).

Resumable: every finished ``(dataset, candidate)`` error is a line of ``<out>/rows.jsonl``. Writes
``timenet_candidates.md`` (each candidate's mean error with the run's own validation numbers for that epoch, each
against the first ``--against`` model, paired over the datasets; per-dataset errors) and ``summary.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def kept_checkpoints(run: Path) -> dict[int, Path]:
    """The run's checkpoints on disk, by epoch."""
    return {int(p.stem.split("-")[1]): p for p in sorted((run / "checkpoints").glob("ckpt-*.npz"))}


def run_autoencoder(run: Path):
    """A fresh (autoencoder, encoder) of a ``builders.timenet`` run's architecture, from its settings."""
    from tszoo.architectures.timenet import build_timenet

    settings = json.loads((run / "settings.json").read_text())
    return build_timenet(settings["units"], settings["num_layers"], settings["dropout"])


def checkpoint_encoder(run: Path, path: Path):
    """The encoder of a checkpoint of a ``builders.timenet`` run, built with the run's settings."""
    from tszoo.checkpointing import load_model_values

    autoencoder, encoder = run_autoencoder(run)
    load_model_values(path, autoencoder)
    return encoder


def averaged_encoder(run: Path, paths):
    """The encoder whose weights are the uniform average of several checkpoints' (their integer variables, the
    dropout seed states, are the last checkpoint's)."""
    if len(paths) < 2:
        raise ValueError(f"averaging needs at least two checkpoints; got {len(paths)}")
    autoencoder, encoder = run_autoencoder(run)
    files = [np.load(p) for p in paths]
    try:
        names = sorted(k for k in files[-1].files if k.startswith("model/"))
        if len(names) != len(autoencoder.variables) or any(sorted(k for k in f.files if k.startswith("model/"))
                                                            != names for f in files):
            raise ValueError(f"{[str(p) for p in paths]}: these checkpoints do not hold the same variables as "
                             f"this run's architecture ({len(autoencoder.variables)})")
        for name, variable in zip(names, autoencoder.variables):
            last = files[-1][name]
            value = (np.mean([f[name] for f in files], axis=0, dtype=np.float64).astype(last.dtype)
                     if np.issubdtype(last.dtype, np.floating) else last)
            variable.assign(value)
    finally:
        for f in files:
            f.close()
    return encoder


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="a builders.timenet run folder (settings.json, checkpoints/)")
    parser.add_argument("--epochs", default=None, help="comma-separated epochs to score (default: every kept one)")
    parser.add_argument("--against", default="timenet",
                        help="comma-separated published names or version folders scored the same way (the first is "
                             "the reference of the paired comparisons)")
    parser.add_argument("--average", default=None, metavar="EPOCHS",
                        help="comma-separated kept epochs (two or more) whose averaged weights are one more "
                             "candidate")
    parser.add_argument("--archive", default=None)
    parser.add_argument("--datasets", default="timenet_test", help="a group of splits.json or comma-separated names")
    parser.add_argument("--cap", type=int, default=1000, help="training series at most per dataset")
    parser.add_argument("--out", default=None, help="default: bench_out/timenet_candidates_<run name>")
    args = parser.parse_args(argv)

    from benchmarks.common import Rows, paired, write_report
    from benchmarks.tnc_feature_variants import holdout_split, tnc_error
    from builders.data import archive_root, load_splits
    from builders.training import read_history
    from tszoo.architectures.timenet import timenet_features
    from tszoo.datasets import load_ucr
    from builders.timenet import VALIDATION_POOLING
    from tszoo.inference import embed, load_cached
    from tszoo.registry import info

    run = Path(args.run)
    if not (run / "settings.json").is_file():
        raise SystemExit(f"--run {run}: no settings.json there; expected a builders.timenet run folder")
    kept = kept_checkpoints(run)
    epochs = sorted(kept) if args.epochs is None else [int(e) for e in args.epochs.split(",")]
    averaged = [] if args.average is None else sorted({int(e) for e in args.average.split(",")})
    if args.average is not None and len(averaged) < 2:
        raise SystemExit(f"--average {args.average}: give two or more kept epochs")
    missing = [e for e in epochs + averaged if e not in kept]
    if missing:
        raise SystemExit(f"--epochs/--average: no checkpoint of epoch(s) {missing} in {run / 'checkpoints'} (kept: "
                         f"{sorted(kept)}); train with --keep-every to keep more")
    archive = archive_root(args.archive)
    splits = load_splits(archive)
    names = splits[args.datasets] if args.datasets in splits else args.datasets.split(",")
    pooling = VALIDATION_POOLING  # the features the committed candidates were scored on (see the docstring)
    references = []
    for model in args.against.split(",") if args.against else []:
        card = info(model)
        references.append((f"{card['name']}/{card['version']}", model))
    candidates = [(ref, model) for ref, model in references] + [(f"{run.name}@{e}", e) for e in epochs]
    if averaged:
        candidates.append((f"{run.name}@avg{','.join(map(str, averaged))}", tuple(averaged)))
    settings = {"run": str(run), "pooling": pooling, "cap": args.cap, "score": "holdout"}
    out = Path(args.out or f"bench_out/timenet_candidates_{run.name}")
    rows = Rows(out, key=("dataset", "candidate"))
    rows.check("candidate", {c: {k: v for k, v in settings.items() if k != "run"} for c, _ in candidates})

    data = {}
    for candidate, source in candidates:
        todo = [n for n in names if not rows.done(dataset=n, candidate=candidate)]
        if not todo:
            continue
        if isinstance(source, str):
            encoder = load_cached(source)
        elif isinstance(source, tuple):
            encoder = averaged_encoder(run, [kept[e] for e in source])
        else:
            encoder = checkpoint_encoder(run, kept[source])
        features = timenet_features(encoder, pooling)
        for name in todo:
            if name not in data:
                X, y = load_ucr(name, "train", root=archive)
                data[name] = holdout_split(X, y, args.cap)
            X, y, Xh, yh = data[name]
            began = time.time()
            error, params = tnc_error(embed(features, X), y, embed(features, Xh), yh)
            rows.add({"dataset": name, "candidate": candidate, **settings, "error": error, "n_fit": len(y),
                      "n_scored": len(yh), "svm": params, "seconds": round(time.time() - began, 1)})
        print(candidate, f"{np.mean([r['error'] for r in rows.rows if r['candidate'] == candidate]):.4f}",
              flush=True)

    table = {(r["dataset"], r["candidate"]): r["error"] for r in rows.rows}
    ids = [c for c, _ in candidates]
    names = [n for n in names if all((n, c) in table for c in ids)]
    history = {r["epoch"]: r for r in read_history(run)}
    means = {c: float(np.mean([table[(n, c)] for n in names])) for c in ids}
    lines = [f"TN-C error ({pooling}) of each kept checkpoint of `{run}` and of {', '.join(r for r, _ in references)}"
             f" on {len(names)} datasets, scored on a stratified third of at most {args.cap} training series and "
             "fitted on the other two thirds (no test split read); standardised features, RBF SVM, C and gamma by "
             "5-fold CV, all layers. `val MSE` and `val TN-C` are the run's own validation on the 6 "
             "timenet_validation datasets at that epoch (where it validated).", "",
             "| candidate | holdout TN-C error | against " + (ids[0] if references else "-") + " (points, se) | "
             "lower / tied / higher | val MSE | val TN-C |", "|---|---|---|---|---|---|"]
    comparisons = {}
    for c, source in candidates:
        h = history.get(source, {}) if isinstance(source, int) else {}
        cells = ["", ""]
        if references and c != ids[0]:
            p = paired([1 - table[(n, c)] for n in names], [1 - table[(n, ids[0])] for n in names])
            comparisons[c] = p
            se = "-" if p["se"] is None else f"{100 * p['se']:.2f}"
            cells = [f"{-100 * p['difference']:+.2f} ({se})", f"{p['ahead']} / {p['ties']} / {p['behind']}"]
        mse, tnc = h.get("val_reconstruction_mse"), h.get("val_tnc_error")
        lines.append(f"| {c} | {means[c]:.4f} | {cells[0]} | {cells[1]} | "
                     f"{'' if mse is None else f'{mse:.3f}'} | {'' if tnc is None else f'{tnc:.3f}'} |")
    best = min(ids, key=lambda c: means[c])
    lines += ["", f"Lowest holdout error: **{best}** ({means[best]:.4f}).", "",
              "| dataset | " + " | ".join(ids) + " |", "|---|" + "---|" * len(ids)]
    for n in names:
        lines.append(f"| {n} | " + " | ".join(f"{table[(n, c)]:.3f}" for c in ids) + " |")
    write_report(out, "timenet_candidates", "\n".join(lines),
                 [{"dataset": n, **{c: table[(n, c)] for c in ids}} for n in names],
                 {**settings, "datasets": names, "mean_error": means, "against_reference": comparisons,
                  "lowest": best})


if __name__ == "__main__":
    main()
