"""Few labels: does fine-tuned ConvTimeNet add anything to MiniRocket? A combination of the two, from kept scores.

    python -m benchmarks.few_labels ... --arms ctn_finetuned,minirocket --save-scores --out FOLDER
    python -m benchmarks.few_labels_combination FOLDER [--stem NAME]

For every dataset, k and draw whose two score files are in ``FOLDER/scores`` (``few_labels --save-scores``), the
accuracy of the fine-tuned network alone, of MiniRocket alone, and of their combination:

* each model's class scores on a series (ConvTimeNet's log-probabilities; MiniRocket's ridge decision values,
  ``[-d, d]`` for two classes) are standardised across the classes (mean 0, standard deviation 1), so that neither
  model's scale decides, and the two are added; the class with the largest sum is predicted;
* where the sums tie (two classes on which the models disagree: both standardise to +-1), ConvTimeNet's class.

The rule was chosen on training splits only (``--score-on rest``: 41 targets, k = 1 and 5, one draw), among nine
(probability averages at four temperatures, two log-linear weightings, ranks, per-series and per-model
standardisation): ``benchmarks/results/few_labels_combination_rest.md``. Users get it as
``tszoo.ConvTimeNetMiniRocketClassifier``. It is a combination of tszoo's weights with a peer and is reported as such, never as ConvTimeNet's accuracy. Writes ``<stem>.md``, ``.csv`` and
``summary.json`` in ``FOLDER/combination``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

from benchmarks.common import paired, write_report
from tszoo.estimators import _standardised, combine_scores

PATTERN = re.compile(r"^(?P<dataset>.+)_k(?P<k>\d+)_d(?P<draw>\d+)_ctn_finetuned\.npz$")


def _columns(decision: np.ndarray) -> np.ndarray:
    decision = np.asarray(decision, np.float64)
    return np.stack([-decision, decision], axis=1) if decision.ndim == 1 else decision


def combine(probabilities: np.ndarray, decision: np.ndarray) -> np.ndarray:
    """Class indices predicted by the combination (see the module's docstring), one per series: the rule of
    ``tszoo.ConvTimeNetMiniRocketClassifier``."""
    return combine_scores(probabilities, decision)[1]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def candidates(p: np.ndarray, d: np.ndarray) -> dict:
    """The nine rules the combination was chosen from (``--candidates``), as class scores (argmax predicts)."""
    log_p = np.log(p + 1e-6)
    ranks = lambda s: np.argsort(np.argsort(s, axis=1), axis=1)  # noqa: E731
    per_model = lambda s: (s - s.mean(axis=1, keepdims=True)) / (s.std(axis=1, keepdims=True).mean() + 1e-9)  # noqa: E731
    return {**{f"average p, MiniRocket softmax(T d), T={t}": p + _softmax(t * d) for t in (1, 2, 5, 10)},
            **{f"log p + T d, T={t}": log_p + t * d for t in (2, 5)},
            "ranks added (ConvTimeNet breaks ties)": ranks(p) + ranks(d) + 1e-3 * p,
            "standardised per series, added (ties left to rounding)": _standardised(log_p) + _standardised(d),
            "standardised by each model's mean spread, added": per_model(log_p) + per_model(d)}


def score_rows(folder: Path, rules: bool = False) -> list[dict]:
    rows = []
    for path in sorted((folder / "scores").glob("*_ctn_finetuned.npz")):
        match = PATTERN.match(path.name)
        other = path.with_name(path.name.replace("_ctn_finetuned.npz", "_minirocket.npz"))
        if not match or not other.exists():
            continue
        ctn, rocket = np.load(path), np.load(other)
        classes, truth = ctn["classes"], ctn["truth"]
        if not (np.array_equal(classes, rocket["classes"]) and np.array_equal(truth, rocket["truth"])):
            raise ValueError(f"{path.name} and {other.name} score different series or classes")
        p, d = ctn["scores"], _columns(rocket["scores"])
        accuracy = {"ctn_finetuned": np.argmax(p, axis=1), "minirocket": np.argmax(d, axis=1),
                    "combination": combine(p, d)}
        if rules:
            accuracy.update({rule: np.argmax(v, axis=1) for rule, v in candidates(p.astype(np.float64), d).items()})
        rows.append({"dataset": match["dataset"], "k": int(match["k"]), "draw": int(match["draw"]),
                     "classes": len(classes),
                     **{arm: float(np.mean(classes[i] == truth)) for arm, i in accuracy.items()}})
    return rows


ARMS = ("ctn_finetuned", "minirocket", "combination")


def summarise(rows: list[dict]):
    lines, table, summary = [], [], {}
    for k in sorted({r["k"] for r in rows}):
        draws = sorted({r["draw"] for r in rows if r["k"] == k})
        by = {(r["dataset"], r["draw"]): r for r in rows if r["k"] == k}
        names = sorted({n for n, _ in by if all((n, d) in by for d in draws)})
        acc = {(n, a): float(np.mean([by[(n, d)][a] for d in draws])) for n in names for a in ARMS}
        diff = {a: paired([acc[(n, "combination")] for n in names], [acc[(n, a)] for n in names]) for a in ARMS[:2]}
        entry = {"datasets": len(names), "draws": len(draws), **{a: float(np.mean([acc[(n, a)] for n in names]))
                                                                  for a in ARMS}}
        for a, p in diff.items():
            entry[f"combination_minus_{a}_points"] = 100 * p["difference"]
            entry[f"standard_error_vs_{a}"] = 100 * p["se"] if p["se"] is not None else None
        entry["at_least_as_good_as_minirocket"] = diff["minirocket"]["at_least_as_good"]
        entry["ahead_of_minirocket_by_5_points"] = sum(acc[(n, "combination")] - acc[(n, "minirocket")] >= 0.05 - 1e-12
                                                       for n in names)
        summary[f"k{k}"] = entry
        se = entry["standard_error_vs_minirocket"]
        lines.append(f"| {k} | {len(names)} x {len(draws)} | {entry['ctn_finetuned']:.4f} | {entry['minirocket']:.4f} "
                     f"| {entry['combination']:.4f} | {entry['combination_minus_minirocket_points']:+.2f}"
                     + (f" ({se:.2f})" if se is not None else "")
                     + f" | {entry['combination_minus_ctn_finetuned_points']:+.2f} | "
                     f"{entry['at_least_as_good_as_minirocket']} / {entry['ahead_of_minirocket_by_5_points']} |")
        table += [{"k": k, "dataset": n, **{a: acc[(n, a)] for a in ARMS}} for n in names]
    head = ["Fine-tuned ConvTimeNet (`ctn_finetuned`), MiniRocket and their combination (a combination with a peer, "
            "not ConvTimeNet alone; rule: `benchmarks/few_labels_combination.py`), mean accuracy over datasets of "
            "the mean over draws.", "",
            "| k | datasets x draws | ctn_finetuned | minirocket | combination | vs MiniRocket, points (se) "
            "| vs ctn_finetuned | at least as good as / 5+ points ahead of MiniRocket |", "|---|---|---|---|---|---|---|---|"]
    return "\n".join(head + lines), table, summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="a few_labels --out folder run with --save-scores")
    parser.add_argument("--stem", default="few_labels_combination")
    parser.add_argument("--candidates", action="store_true",
                        help="also print every candidate rule's mean accuracy against MiniRocket's (how the rule was "
                             "chosen; use on a --score-on rest folder, not a test split)")
    args = parser.parse_args(argv)
    rows = score_rows(args.folder, rules=args.candidates)
    if not rows:
        raise SystemExit(f"{args.folder}/scores holds no pair of ctn_finetuned and minirocket score files; run "
                         "benchmarks.few_labels with --arms ctn_finetuned,minirocket --save-scores first")
    markdown, table, summary = summarise(rows)
    if args.candidates:
        extra = [key for key in rows[0] if key not in ("dataset", "k", "draw", "classes", *ARMS)]
        lines = ["", "Candidate rules: mean accuracy minus MiniRocket's, points (all datasets / two classes / more)",
                 "", "| rule | " + " | ".join(f"k={k}" for k in sorted({r["k"] for r in rows})) + " |",
                 "|---|" + "---|" * len({r["k"] for r in rows})]
        for rule in ["ctn_finetuned", "combination", *extra]:
            cells = []
            for k in sorted({r["k"] for r in rows}):
                parts = []
                for keep in (lambda r: True, lambda r: r["classes"] == 2, lambda r: r["classes"] > 2):
                    chosen = [r for r in rows if r["k"] == k and keep(r)]
                    parts.append(f"{100 * np.mean([r[rule] - r['minirocket'] for r in chosen]):+.2f}")
                cells.append(" / ".join(parts))
            lines.append(f"| {rule} | " + " | ".join(cells) + " |")
        markdown += "\n" + "\n".join(lines)
    (args.folder / "combination").mkdir(exist_ok=True)
    write_report(args.folder / "combination", args.stem, markdown, table, summary)


if __name__ == "__main__":
    main()
