"""Set a new body's fine-tuned accuracies on the targets against a committed evaluation's, paired per dataset.

    python -m benchmarks.compare_bodies bench_out/convtimenet_targets_f64b6 \
        --against benchmarks/results/convtimenet2_targets_seed0.csv --name ctn3_f64b6 \
        --stem convtimenet3_f64b6_targets_seed0 --out benchmarks/results

``FOLDER`` holds ``rows.jsonl`` files of ``benchmarks.convtimenet_targets`` (one or several folders, comma-separated,
e.g. two processes that each ran part of the datasets); ``--against`` is a committed table of the same script
(``finetuned``, ``minirocket``, ``multirocket_hydra`` ... columns, one row per dataset). Every arm of that table
becomes a column; the new body's ``finetuned`` accuracy is compared with each: mean, paired difference and its
standard error, and how many datasets it is at least as good on. Rows of an ensemble
(``--n-estimators``) also carry each member's accuracy (member ``i`` is the single network of seed ``seed + i``):
the report adds each member seed's mean, their mean, and the ensemble against the mean of its members, paired.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from benchmarks.common import paired, write_report

ARMS = ("finetuned", "scratch", "minirocket", "multirocket_hydra", "resnet", "fcn", "inceptiontime")


def load_rows(folders: str, arm: str = "finetuned", seed: int = 0) -> dict[str, dict]:
    rows = {}
    for folder in folders.split(","):
        path = Path(folder) / "rows.jsonl"
        for line in path.read_text().splitlines():
            r = json.loads(line)
            if r["arm"] == arm and r["seed"] == seed:
                if r["dataset"] in rows and rows[r["dataset"]]["accuracy"] != r["accuracy"]:
                    raise SystemExit(f"{r['dataset']}: two different {arm} rows for seed {seed} in {folders}")
                rows[r["dataset"]] = r
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", help="comma-separated folders holding rows.jsonl of the new body")
    parser.add_argument("--against", required=True, help="a committed convtimenet_targets table (.csv)")
    parser.add_argument("--name", default="new body")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stem", default="compare_bodies")
    parser.add_argument("--out", default="bench_out/compare_bodies")
    args = parser.parse_args(argv)

    new = load_rows(args.folders, seed=args.seed)
    with open(args.against) as f:
        old = {r["dataset"]: r for r in csv.DictReader(f)}
    arms = [a for a in ARMS if a in next(iter(old.values()))]
    names = [n for n in old if n in new]
    missing = [n for n in old if n not in new]
    x = np.array([new[n]["accuracy"] for n in names])
    seconds = sum(new[n]["fit_predict_seconds"] for n in names)
    table = [{"dataset": n, args.name: round(new[n]["accuracy"], 4),
              **{a: round(float(old[n][a]), 4) for a in arms if old[n][a] != ""},
              f"{args.name}_seconds": new[n]["fit_predict_seconds"],
              "finetuned_seconds_against": float(old[n]["finetuned_seconds"])} for n in names]
    summary = {"name": args.name, "datasets": len(names), "missing": missing, "mean": float(x.mean()) if len(x) else None,
               "fit_predict_seconds": seconds,
               "against_fit_predict_seconds": sum(float(old[n]["finetuned_seconds"]) for n in names), "versus": {}}
    lines = [f"# {args.name} fine-tuned on the targets, against `{args.against}`", "",
             f"{len(names)} of {len(old)} datasets" + (f" (not yet: {', '.join(missing)})" if missing else "") +
             f"; seed {args.seed}. Fine-tuning and prediction took {seconds:,.0f} s against "
             f"{summary['against_fit_predict_seconds']:,.0f} s for that table's fine-tuned arm.", "",
             f"| column | its mean | {args.name} mean | paired difference (points) | standard error | "
             f"{args.name} at least as good on |", "|---|---|---|---|---|---|"]
    for a in arms:
        pairs = [(new[n]["accuracy"], float(old[n][a])) for n in names if old[n][a] != ""]
        if not pairs:
            continue
        p = paired(*map(np.array, zip(*pairs)))
        summary["versus"][a] = {"mean": float(np.mean([b for _, b in pairs])), **p, "datasets": len(pairs)}
        se = f"{100 * p['se']:.2f}" if p["se"] is not None else "-"
        lines.append(f"| {a} | {summary['versus'][a]['mean']:.4f} | {np.mean([v for v, _ in pairs]):.4f} | "
                     f"{100 * p['difference']:+.2f} | {se} | {p['at_least_as_good']} of {len(pairs)} "
                     f"({p['ahead']} better, {p['behind']} worse) |")
    with_members = [n for n in names if "member_accuracies" in new[n]]
    if with_members:
        seeds = new[with_members[0]]["member_seeds"]
        members = np.array([new[n]["member_accuracies"] for n in with_members])  # (datasets, members)
        p = paired(x[[names.index(n) for n in with_members]], members.mean(axis=1))
        summary["members"] = {"datasets": len(with_members), "seeds": seeds,
                              "mean_per_seed": [float(v) for v in members.mean(axis=0)],
                              "mean_of_members": float(members.mean()), "ensemble_minus_mean_member": p}
        lines += ["", f"Ensemble of {len(seeds)} on {len(with_members)} datasets: each member alone (the single "
                  "network of its seed) " + ", ".join(f"seed {s} {v:.4f}" for s, v in zip(
                      seeds, members.mean(axis=0))) + f"; mean of the members {members.mean():.4f}. The ensemble "
                  f"minus its members' mean: {100 * p['difference']:+.2f} points"
                  + (f" (se {100 * p['se']:.2f})" if p["se"] is not None else "")
                  + f", ahead on {p['ahead']}, tied on {p['ties']}, behind on {p['behind']}."]
        for row, n in zip(table, names):
            if "member_accuracies" in new[n]:
                row.update({f"seed {s}": round(v, 4) for s, v in zip(seeds, new[n]["member_accuracies"])})
    lines += ["", "| " + " | ".join(table[0]) + " |" if table else "", "|---" * len(table[0]) + "|" if table else ""]
    lines += ["| " + " | ".join(str(v) for v in r.values()) + " |" for r in table]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_report(out, args.stem, "\n".join(lines), table, summary)


if __name__ == "__main__":
    main()
