"""How long would the whole few-labels benchmark take on this machine today? Measured from a run of fewer draws.

    python -m benchmarks.few_labels --ks 1,2,5,10 --draws 1 \\
        --arms tnc,ctn_frozen,ctn_finetuned,ctn_default,scratch,minirocket --workers 2 --out bench_out/fl_draw0
    python -m benchmarks.few_labels --ks 1,2,5,10 --draws 2 \\
        --arms tnc,ctn_frozen,ctn_finetuned,ctn_default,scratch,minirocket --workers 2 --out bench_out/fl_draws01
    python -m benchmarks.few_labels --ks 1,2,5,10 --arms dtw --workers 2 --out bench_out/fl_dtw
    python -m benchmarks.few_labels_run_time --run bench_out/fl_draw0 --run bench_out/fl_draws01 \\
        --dtw bench_out/fl_dtw \\
        --against benchmarks/results/few_labels_v2_epochs100_rows.jsonl.gz \\
        --against benchmarks/results/few_labels_tnc_pooled_rows.jsonl.gz:tnc

The whole benchmark (issue 13: at most two hours) is 41 targets x k = 1, 2, 5, 10 x 5 draws. Every draw of a k has
the same number of series, so each draw costs about the same; but some costs are paid once per dataset whatever the
draws (the frozen embeddings, a fine-tuning step traced once per dataset and k, loading), and a run of ``d`` draws
scaled by ``--draws / d`` counts them ``--draws / d`` times. Given one short run (``--run``), the estimate is that
scaling: an overestimate. Given two runs of different numbers of draws on the same machine (``--run`` twice), the
estimate is the straight line through them: a draw costs ``(T2 - T1) / (d2 - d1)``, the once-only part is what is
left of the shorter run, and the whole is the once-only part plus ``--draws`` draws. Either way the DTW arm's own
wall-clock time (``benchmarks.few_labels.wall_clock``) is added, measured on all draws, because it finds the nearest
neighbours of all draws at once (its cost hardly grows with the draws).

``--against FILE[:ARM,...]`` (committed rows of an earlier run; ARMs restricts which of its arms are read) pairs
every row of the (longer) short run and of the DTW run with the same (dataset, k, draw, arm): its fit seconds then
and now, and whether the accuracy is the same (a row is exact on one machine, not across machines).
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
    parser.add_argument("--run", required=True, action="append",
                        help="a few_labels folder run with fewer draws (no dtw arm); twice: two such runs with "
                             "different numbers of draws")
    parser.add_argument("--dtw", help="a few_labels folder holding the dtw arm on every draw")
    parser.add_argument("--draws", type=int, default=5, help="draws of the whole benchmark")
    parser.add_argument("--target-hours", type=float, default=2.0)
    parser.add_argument("--against", action="append", default=[], help="FILE[:ARM,...] rows of an earlier run")
    parser.add_argument("--name", default="few_labels_run_time")
    parser.add_argument("--out", default="bench_out/few_labels_run_time")
    args = parser.parse_args(argv)
    if len(args.run) > 2:
        raise SystemExit(f"--run given {len(args.run)} times: one short run, or two with different numbers of draws")
    runs = []
    for folder in args.run:
        own = read_rows(Path(folder) / "rows.jsonl")
        if any(r["arm"] == "dtw" for r in own):
            raise SystemExit(f"{folder} holds dtw rows: give the dtw arm its own all-draws run (--dtw)")
        drawn = sorted({r["draw"] for r in own})
        if not drawn or len(drawn) > args.draws:
            raise SystemExit(f"{folder}: draws {drawn}; expected between 1 and --draws={args.draws} of them")
        runs.append((len(drawn), wall_clock(own)["wall_clock_seconds"], own, drawn))
    runs.sort(key=lambda run: run[0])
    if len(runs) == 2 and runs[0][0] == runs[1][0]:
        raise SystemExit(f"the two runs have the same number of draws ({runs[0][0]}): a line needs two")
    count, run_wall, rows, draws = runs[-1]  # the longer run's rows are the ones paired and reported
    scale = args.draws / count
    if len(runs) == 2:
        per_draw = (runs[1][1] - runs[0][1]) / (runs[1][0] - runs[0][0])
        once = runs[0][1] - runs[0][0] * per_draw
        arms_total = once + args.draws * per_draw
    else:
        per_draw = once = None
        arms_total = run_wall * scale
    dtw_rows = read_rows(Path(args.dtw) / "rows.jsonl") if args.dtw else []
    dtw_wall = wall_clock(dtw_rows)["wall_clock_seconds"] if args.dtw else None
    estimate = arms_total + (dtw_wall or 0.0)
    target = args.target_hours * 3600
    if estimate > target:
        verdict = f"missed by {estimate - target:.0f} s."
    else:
        verdict = "met." if dtw_wall is not None else "not known without the DTW arm."
    if len(runs) == 2:
        source = (f"two runs of every arm but DTW ({runs[0][0]} and {runs[1][0]} draw(s) of {args.draws}; "
                  f"{len(rows)} rows in the longer)")
        parts = [*(f"| {d} draw(s), measured | {wall:.0f} |" for d, wall, _, _ in runs),
                 f"| a draw (the difference per draw) | {per_draw:.0f} |",
                 f"| paid once whatever the draws (the shorter run less its draws) | {once:.0f} |",
                 f"| the same arms on {args.draws} draws (once + {args.draws} draws) | {arms_total:.0f} |",
                 f"| (the longer run x {scale:g}, for comparison) | {run_wall * scale:.0f} |"]
    else:
        source = (f"a run of draw(s) {', '.join(map(str, draws))} of {args.draws} ({len(rows)} rows, every arm "
                  f"but DTW)")
        parts = [f"| the short run, measured | {run_wall:.0f} |",
                 f"| the same arms on {args.draws} draws (x {scale:g}; counts once-only costs {scale:g} times) | "
                 f"{arms_total:.0f} |"]
    lines = [f"The few-labels benchmark's run time on this machine, estimated from {source}.", "",
             "| part | wall-clock seconds |", "|---|---|", *parts,
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
                  "runs": [{"draws": d, "wall_seconds": wall} for d, wall, _, _ in runs],
                  "per_draw_seconds": per_draw, "once_seconds": once, "arms_seconds": arms_total,
                  "estimate_seconds": estimate, "target_seconds": target,
                  "against": summary_arms})


if __name__ == "__main__":
    main()
