"""How long would the whole few-labels benchmark take on this machine today? Measured from a run of fewer draws.

    python -m benchmarks.few_labels --ks 1,2,5,10 --draws 1 \\
        --arms tnc,ctn_frozen,ctn_finetuned,ctn_default,scratch,minirocket --workers 2 --out bench_out/fl_draw0
    python -m benchmarks.few_labels --ks 1,2,5,10 --arms dtw --workers 2 --out bench_out/fl_dtw
    python -m benchmarks.few_labels_run_time --run bench_out/fl_draw0 --dtw bench_out/fl_dtw \\
        --against benchmarks/results/few_labels_v2_epochs100_rows.jsonl.gz \\
        --against benchmarks/results/few_labels_tnc_pooled_rows.jsonl.gz:tnc

The whole benchmark (issue 13: at most two hours) is 41 targets x k = 1, 2, 5, 10 x 5 draws. Every draw of a k has
the same number of series, so a run of ``d`` draws costs ``d / draws`` of the run: the estimate is the short run's
wall-clock time (``benchmarks.few_labels.wall_clock``) times ``--draws / d``, plus the DTW arm's own wall-clock
time, which is measured on all draws because it computes its distances once per dataset (its cost does not grow
with the draws). ``--against FILE[:ARM,...]`` (committed rows of an earlier run; ARMs restricts which of its arms
are read) pairs every row of the short run and of the DTW run with the same (dataset, k, draw, arm): its fit
seconds then and now, and whether the accuracy is the same (a row is exact on one machine, not across machines).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.common import machines_lines, paired, read_rows, write_report
from benchmarks.few_labels import wall_clock

KEY = ("dataset", "k", "draw", "arm")


def reference_rows(specs: list[str]) -> dict[tuple, dict]:
    """``FILE[:ARM,...]`` -> rows by (dataset, k, draw, arm); a later file's row of the same key wins."""
    out = {}
    for spec in specs:
        path, _, arms = spec.partition(":") if not Path(spec).exists() else (spec, "", "")
        if not Path(path).exists():
            raise SystemExit(f"{path}: no such rows file (expected FILE or FILE:ARM,ARM)")
        wanted = set(arms.split(",")) if arms else None
        for r in read_rows(path):
            if wanted is None or r["arm"] in wanted:
                out[tuple(r[k] for k in KEY)] = r
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="a few_labels folder run with fewer draws (no dtw arm)")
    parser.add_argument("--dtw", help="a few_labels folder holding the dtw arm on every draw")
    parser.add_argument("--draws", type=int, default=5, help="draws of the whole benchmark")
    parser.add_argument("--target-hours", type=float, default=2.0)
    parser.add_argument("--against", action="append", default=[], help="FILE[:ARM,...] rows of an earlier run")
    parser.add_argument("--name", default="few_labels_run_time")
    parser.add_argument("--out", default="bench_out/few_labels_run_time")
    args = parser.parse_args(argv)
    rows = read_rows(Path(args.run) / "rows.jsonl")
    if any(r["arm"] == "dtw" for r in rows):
        raise SystemExit(f"{args.run} holds dtw rows: give the dtw arm its own all-draws run (--dtw)")
    draws = sorted({r["draw"] for r in rows})
    if not draws or len(draws) > args.draws:
        raise SystemExit(f"{args.run}: draws {draws}; expected between 1 and --draws={args.draws} of them")
    run_wall = wall_clock(rows)["wall_clock_seconds"]
    scale = args.draws / len(draws)
    dtw_rows = read_rows(Path(args.dtw) / "rows.jsonl") if args.dtw else []
    dtw_wall = wall_clock(dtw_rows)["wall_clock_seconds"] if args.dtw else None
    estimate = run_wall * scale + (dtw_wall or 0.0)
    target = args.target_hours * 3600
    if estimate > target:
        verdict = f"missed by {estimate - target:.0f} s."
    else:
        verdict = "met." if dtw_wall is not None else "not known without the DTW arm."
    lines = [f"The few-labels benchmark's run time on this machine, estimated from a run of draw(s) "
             f"{', '.join(map(str, draws))} of {args.draws} ({len(rows)} rows, every arm but DTW).", "",
             "| part | wall-clock seconds |", "|---|---|",
             f"| the short run, measured | {run_wall:.0f} |",
             f"| the same arms on {args.draws} draws (x {scale:g}) | {run_wall * scale:.0f} |",
             f"| DTW on every draw, measured | {'not measured' if dtw_wall is None else f'{dtw_wall:.0f}'} |",
             f"| **the whole benchmark** | **{estimate:.0f} ({estimate / 3600:.2f} h)**"
             f"{'' if dtw_wall is not None else ' without DTW'} |", "",
             f"Target: {args.target_hours:g} h ({target:.0f} s): {verdict}", ""]
    table, summary_arms = [], {}
    if args.against:
        ref = reference_rows(args.against)
        lines += ["The same rows in the earlier run (same dataset, k, draw and arm): fit seconds (summed over "
                  "workers) and accuracy.", "", "| arm | rows | fit s now | fit s then | ratio | identical "
                  "accuracy | mean difference (points) | se |", "|---|---|---|---|---|---|---|---|"]
        copies = []
        for arm in dict.fromkeys(r["arm"] for r in rows + dtw_rows):
            own = [r for r in rows + dtw_rows if r["arm"] == arm]
            if all(r.get("same_as") for r in own):  # ctn_default: another arm's rows, copied
                copies.append(f"`{arm}` (copies of `{own[0]['same_as']}`'s rows, no fit of its own)")
                continue
            pairs = [(r, ref[tuple(r[k] for k in KEY)]) for r in own if tuple(r[k] for k in KEY) in ref]
            if not pairs:
                continue
            now = sum(float(r.get("seconds") or 0) for r, _ in pairs)
            then = sum(float(o.get("seconds") or 0) for _, o in pairs)
            p = paired([r["accuracy"] for r, _ in pairs], [o["accuracy"] for _, o in pairs])
            same = p["ties"]
            se = "-" if p["se"] is None else f"{100 * p['se']:.2f}"
            ratio = f"{now / then:.2f}" if then else "-"
            lines.append(f"| {arm} | {len(pairs)} | {now:.0f} | {then:.0f} | {ratio} | {same} of {len(pairs)} | "
                         f"{100 * p['difference']:+.2f} | {se} |")
            summary_arms[arm] = {"rows": len(pairs), "seconds_now": now, "seconds_then": then, **p}
            table.append({"arm": arm, "rows": len(pairs), "seconds_now": round(now, 1),
                          "seconds_then": round(then, 1), "identical": same, "difference": p["difference"]})
        lines += [""] + ([f"Not in the table: {', '.join(copies)}.", ""] if copies else [])
    lines += machines_lines(rows + dtw_rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_report(out, args.name, "\n".join(lines), table,
                 {"draws_run": draws, "draws": args.draws, "run_wall_seconds": run_wall, "dtw_wall_seconds": dtw_wall,
                  "estimate_seconds": estimate, "target_seconds": target,
                  "against": summary_arms})


if __name__ == "__main__":
    main()
