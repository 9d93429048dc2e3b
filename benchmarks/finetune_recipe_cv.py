"""Choose the fine-tuning recipe's defaults by validation INSIDE target training splits (never a test split).

    python -m benchmarks.finetune_recipe_cv --out bench_out/finetune_recipe_cv

For each dataset, a stratified third of its official TRAINING split is held out (seed 0); every candidate recipe
fine-tunes the published body on the other two thirds and is scored on that third. The test split is never read.
The candidate with the highest mean validation accuracy becomes ``ConvTimeNetClassifier``'s default. Resumable
(``<out>/rows.jsonl``; a row records the budget it was made with, and a folder holding a candidate's rows made
with another budget is refused).

The fine-tuning budget is a candidate too (these set their own ``epochs`` and ``max_steps``): ``default`` is
``ConvTimeNetClassifier()`` as shipped until 2026-12-07 (100 passes, at most 250 steps), ``auto`` with
``max_steps="auto"`` (1,000 steps from 1,000 series, so ``default`` below that), all of them on the series alone
(``inputs="series"``, the default until 2026-12-07, when ``default_diff`` became it, with ``"auto"``), ``steps1000`` four times the step
cap at every size, ``steps1000_val20`` that budget keeping the epoch of lowest loss on a stratified fifth of the fitting
data (against the overfitting a longer schedule can bring), and ``scratch``/``scratch_steps1000`` the same
architecture from random weights at either budget; ``default_bf16`` and ``steps1000_bf16`` are ``default`` and
``steps1000`` in bfloat16 (``precision="mixed_bfloat16"``: about half the time on a CPU with AMX, where 1,000
steps fit issue 11's hour; 0.86x on an AMD EPYC with AVX512-BF16 and no AMX); ``default_diff`` is ``default`` with
a second network fine-tuned on the series' first difference (``inputs="series+diff"``; its row also holds each
network's accuracy alone, the series network being ``default``'s own). ``--baseline`` names the candidate every other one is compared
with, dataset by dataset::

    python -m benchmarks.finetune_recipe_cv --candidates default,steps1000,steps1000_val20,scratch,scratch_steps1000 \
        --baseline default --name finetune_budget_cv --out bench_out/finetune_budget_cv

``--datasets targets`` takes all 41 targets of the protocol (``splits.json``). ``--split-seed S`` holds out another
stratified third (default 0, the one every committed row was made on): a second look at a choice made on the
seed-0 rows, on other series of the same training splits. Rows made with another seed than a run's are refused.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


from benchmarks.common import Rows, paired, stratified_third, write_report  # noqa: E402

DATASETS = "Beef,Meat,Wine,Adiac,SwedishLeaf,MedicalImages,DistalPhalanxTW,ECG200"
CANDIDATES = {
    "lr1e-3_probe": {"learning_rate": 1e-3, "head_init": "probe"},
    "lr3e-4_probe": {"learning_rate": 3e-4, "head_init": "probe"},
    "lr3e-3_probe": {"learning_rate": 3e-3, "head_init": "probe"},
    "lr1e-3_random_head": {"learning_rate": 1e-3, "head_init": "random"},
    "default": {"epochs": 100, "max_steps": 250},
    "auto": {"epochs": 100, "max_steps": "auto"},
    "steps1000": {"epochs": 100, "max_steps": 1000},
    "steps1000_val20": {"epochs": 100, "max_steps": 1000, "validation_fraction": 0.2},
    "scratch": {"pretrained": False, "epochs": 100, "max_steps": 250},
    "scratch_steps1000": {"pretrained": False, "epochs": 100, "max_steps": 1000},
    "default_bf16": {"epochs": 100, "max_steps": 250, "precision": "mixed_bfloat16"},
    "steps1000_bf16": {"epochs": 100, "max_steps": 1000, "precision": "mixed_bfloat16"},
    "lr1e-2": {"epochs": 100, "max_steps": 250, "learning_rate": 1e-2},  # above the grid's top (3e-3, chosen)
    # a network on the first difference beside the one on the series (their member 0 is the default's network)
    "default_diff": {"epochs": 100, "max_steps": 250, "inputs": "series+diff"},
}
RECIPES = "lr1e-3_probe,lr3e-4_probe,lr3e-3_probe,lr1e-3_random_head"


def settings(candidate: str, epochs: int, max_steps: int) -> dict:
    """The estimator's arguments for a candidate: ``--epochs``/``--max-steps`` unless the candidate sets them."""
    if candidate not in CANDIDATES:
        raise SystemExit(f"unknown candidate {candidate!r}; expected some of {', '.join(CANDIDATES)}")
    # every candidate but default_diff was made on the series alone, ConvTimeNetClassifier's inputs until 2026-12-07
    return {"epochs": epochs, "max_steps": max_steps, "inputs": "series", **CANDIDATES[candidate]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="convtimenet")
    parser.add_argument("--archive", default=None)
    parser.add_argument("--datasets", default=DATASETS, help="comma-separated, or 'targets' for all 41")
    parser.add_argument("--candidates", default=RECIPES, help=f"some of {', '.join(CANDIDATES)}")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--max-steps", type=int, default=250)
    parser.add_argument("--split-seed", type=int, default=0, help="which stratified third is held out (default 0)")
    parser.add_argument("--baseline", default=None, help="a candidate to compare every other one with, paired")
    parser.add_argument("--name", default="finetune_recipe_cv", help="the report's file stem")
    parser.add_argument("--out", default="bench_out/finetune_recipe_cv")
    args = parser.parse_args(argv)

    from builders.data import archive_root, load_splits
    from tszoo.datasets import load_ucr
    from tszoo.estimators import ConvTimeNetClassifier

    archive = archive_root(args.archive)
    names = load_splits(archive)["targets"] if args.datasets == "targets" else args.datasets.split(",")
    candidates = args.candidates.split(",")
    made = {c: settings(c, args.epochs, args.max_steps) for c in candidates}
    if args.baseline is not None and args.baseline not in candidates:
        raise SystemExit(f"--baseline {args.baseline!r} is not among --candidates {args.candidates!r}")
    rows = Rows(args.out, key=("dataset", "candidate"))
    other = sorted({r.get("split_seed", 0) for r in rows.rows} - {args.split_seed})
    if other:  # rows made before --split-seed existed held out the seed-0 third and do not say so
        raise SystemExit(f"{rows.path} holds rows made on the held-out third of --split-seed {other[0]}, not "
                         f"{args.split_seed}; use another --out")
    # precision is checked for the candidates that set it (the float32 ones' rows never recorded it)
    rows.check("candidate", {c: {k: made[c][k] for k in ("epochs", "max_steps", "precision") if k in made[c]}
                             for c in candidates})
    for name in names:
        X, y = load_ucr(name, "train", root=archive)
        fit_idx, val_idx = stratified_third(y, seed=args.split_seed)
        for cand in candidates:
            if rows.done(dataset=name, candidate=cand):
                continue
            params = made[cand]
            clf = ConvTimeNetClassifier(model=args.model, random_state=0, **params)
            began = time.time()
            clf.fit(X[fit_idx], y[fit_idx])
            row = {"dataset": name, "candidate": cand, **params, "model": args.model,
                   "val_accuracy": float(clf.score(X[val_idx], y[val_idx])), "n_fit": len(fit_idx),
                   "n_val": len(val_idx), "seconds": round(time.time() - began, 1),
                   **({"split_seed": args.split_seed} if args.split_seed else {})}
            if params.get("inputs", "series") != "series" or params.get("n_estimators", 1) > 1:
                from benchmarks.convtimenet_targets import member_accuracies

                row.update(member_accuracies(clf, X[val_idx], y[val_idx]))
            print(f"{name} {cand}: {row['val_accuracy']:.3f} ({row['seconds']} s)", flush=True)
            rows.add(row)
    by = {(r["dataset"], r["candidate"]): r["val_accuracy"] for r in rows.rows}
    done = [n for n in names if all((n, c) in by for c in candidates)]
    lines = ["| dataset | " + " | ".join(candidates) + " |", "|---|" + "---|" * len(candidates)]
    lines += [f"| {n} | " + " | ".join(f"{by[(n, c)]:.3f}" for c in candidates) + " |" for n in done]
    mean = {c: float(np.mean([by[(n, c)] for n in done])) for c in candidates} if done else {}
    if mean:
        lines.append("| **mean** | " + " | ".join(f"**{mean[c]:.4f}**" for c in candidates) + " |")
        best = max(mean, key=mean.get)
        lines += ["", f"Validation inside the training splits of {len(done)} targets (a stratified third held out, "
                      f"seed {args.split_seed}; test splits never read): best mean accuracy **{best}** "
                      f"({mean[best]:.4f})."]
    seconds = {c: round(sum(r["seconds"] for r in rows.rows if r["candidate"] == c and r["dataset"] in done), 1)
               for c in candidates}
    comparisons = {}
    if done and args.baseline is not None:
        lines += ["", f"Against `{args.baseline}`, paired over the same {len(done)} datasets (fit seconds in total):",
                  "", f"- `{args.baseline}`: {seconds[args.baseline]:.0f} s"]
        for c in candidates:
            if c == args.baseline:
                continue
            p = comparisons[c] = paired([by[(n, c)] for n in done], [by[(n, args.baseline)] for n in done])
            se = "" if p["se"] is None else f", se {100 * p['se']:.2f}"
            lines.append(f"- `{c}`: {100 * p['difference']:+.2f} points{se}; ahead on {p['ahead']}, tied on "
                         f"{p['ties']}, behind on {p['behind']}; {seconds[c]:.0f} s")
    table = [{"dataset": n, **{c: by[(n, c)] for c in candidates}} for n in done]
    write_report(Path(args.out), args.name, "\n".join(lines), table,
                 {"datasets": done, "mean_val_accuracy": mean, "candidates": made, "seconds": seconds,
                  "baseline": args.baseline, "split_seed": args.split_seed, "paired": comparisons,
                  "best": max(mean, key=mean.get) if mean else None})


if __name__ == "__main__":
    main()
