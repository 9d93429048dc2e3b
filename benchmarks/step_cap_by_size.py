"""Does a longer fine-tuning pay by training-set size? The step-cap studies' rows, read by size (no new fit).

    python -m benchmarks.step_cap_by_size \\
        --thirds benchmarks/results/finetune_precision_cv_targets_rows.jsonl:default_bf16:steps1000_bf16 \\
        --thirds benchmarks/results/step_cap_seed1_rows.jsonl:default:steps1000 \\
        --thirds benchmarks/results/step_cap_seed2_rows.jsonl:default:steps1000 \\
        --few-labels benchmarks/results/few_labels_steps1000_rest_rows.jsonl.gz:ctn_finetuned@precision=mixed_bfloat16:ctn_finetuned@precision=mixed_bfloat16@max_steps=1000

Each source pairs two candidates fitted on the same series and scored on the same held-out ones, a short cap
(250 steps) and a long one (1,000): ``--thirds FILE:SHORT:LONG`` takes rows of ``benchmarks.finetune_recipe_cv``
(a stratified third of a target's training split held out; its ``split_seed``), ``--few-labels FILE:SHORT:LONG``
rows of ``benchmarks.few_labels --score-on rest`` (k series per class, scored on undrawn training series). No
test split is read by either. For every source: the long cap's gain per dataset against the number of series
fitted on, the mean gain within size bins, and what ``max_steps="auto"`` (the long cap from ``--threshold``
series up, the short one below) gives against either cap everywhere, with the fit seconds of each. With several
sources of thirds: each dataset's gain in each, and all of them pooled by size.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.common import paired, read_rows, write_report

BINS = (0, 40, 160, 400, 1000, 10**9)



def pairs(spec: str, kind: str) -> tuple[str, list[dict]]:
    """``FILE:SHORT:LONG`` -> ``(label, [{"unit", "n", "short", "long", "short_s", "long_s"}])``: the units (a
    dataset, or a dataset and k) where both candidates have a row."""
    path, short, long = spec.rsplit(":", 2) if spec.count(":") >= 2 else (spec, None, None)
    if short is None:
        raise SystemExit(f"{spec!r}: expected FILE:SHORT:LONG (the rows, then the short and the long cap's names)")
    if not Path(path).exists():
        raise SystemExit(f"{path}: no such rows file")
    rows = read_rows(path)
    if kind == "thirds":
        name, score, n, unit, seconds = "candidate", "val_accuracy", "n_fit", ("dataset",), "seconds"
        seeds = sorted({r.get("split_seed", 0) for r in rows if r.get("candidate") in (short, long)})
        label = f"training-split thirds (split seed {', '.join(map(str, seeds))}): `{short}` vs `{long}`"
    else:
        name, score, n, unit, seconds = "arm", "accuracy", "n_train", ("dataset", "k", "draw"), "seconds"
        label = f"few labels, scored on undrawn training series: `{short}` vs `{long}`"
    by = {}
    for r in rows:
        if r.get(name) in (short, long):
            by.setdefault(tuple(r[u] for u in unit), {})[r[name]] = r
    found = {c for v in by.values() for c in v}
    if not {short, long} <= found:
        raise SystemExit(f"{path}: no rows of {sorted({short, long} - found)}; it holds "
                         f"{sorted({r.get(name) for r in rows})}")
    out = [{"unit": " k=".join(map(str, key[:2])) if kind != "thirds" else key[0], "n": int(v[short][n]),
            "short": float(v[short][score]), "long": float(v[long][score]),
            "short_s": float(v[short][seconds]), "long_s": float(v[long][seconds])}
           for key, v in by.items() if short in v and long in v]
    return label, sorted(out, key=lambda p: (p["n"], p["unit"]))


def describe(label: str, ps: list[dict], threshold: int) -> tuple[list[str], dict]:
    n = np.array([p["n"] for p in ps])
    short = np.array([p["short"] for p in ps])
    long = np.array([p["long"] for p in ps])
    rule = np.where(n >= threshold, long, short)
    lines = [f"### {label}", "", f"{len(ps)} pairs. Gain of the long cap by training-set size (series fitted on):",
             "", "| series fitted on | pairs | gain (points) | se | ahead / tied / behind |", "|---|---|---|---|---|"]
    bins = []
    for lo, hi in zip(BINS[:-1], BINS[1:]):
        m = (n >= lo) & (n < hi)
        if not m.any():
            continue
        p = paired(long[m], short[m])
        se = "-" if p["se"] is None else f"{100 * p['se']:.2f}"
        upper = "" if hi == BINS[-1] else f"{hi - 1}"
        lines.append(f"| {lo}-{upper} | {int(m.sum())} | {100 * p['difference']:+.2f} | {se} | "
                     f"{p['ahead']} / {p['ties']} / {p['behind']} |")
        bins.append({"from": lo, "to": hi, **p, "pairs": int(m.sum())})
    seconds = {"short": sum(p["short_s"] for p in ps), "long": sum(p["long_s"] for p in ps),
               "auto": sum(p["long_s"] if p["n"] >= threshold else p["short_s"] for p in ps)}
    vs_short, vs_long = paired(rule, short), paired(rule, long)
    big = n >= threshold
    lines += ["", f"`max_steps=\"auto\"` (the long cap from {threshold} series, {int(big.sum())} of {len(ps)} pairs): "
              f"mean {rule.mean():.4f} against {short.mean():.4f} (short everywhere) and {long.mean():.4f} (long "
              f"everywhere): {100 * vs_short['difference']:+.2f} points over the short cap (se "
              f"{100 * (vs_short['se'] or 0):.2f}), {100 * vs_long['difference']:+.2f} against the long one (se "
              f"{100 * (vs_long['se'] or 0):.2f}). Fit seconds: short {seconds['short']:.0f}, auto "
              f"{seconds['auto']:.0f}, long {seconds['long']:.0f}.", ""]
    return lines, {"label": label, "pairs": len(ps), "bins": bins, "auto_vs_short": vs_short,
                   "auto_vs_long": vs_long, "mean": {"short": float(short.mean()), "auto": float(rule.mean()),
                                                     "long": float(long.mean())}, "seconds": seconds}


def _se(values) -> float | None:
    return float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else None


def pooled(thirds: list[tuple[str, list[dict]]]) -> tuple[list[str], list[dict]]:
    """Every source of thirds together, by size: the mean gain over all pairs, with the standard error of the
    pairs and that of the datasets' own mean gains (the honest one: two thirds of one training split share most of
    their series, so a dataset's pairs are not independent)."""
    gains = [(p["n"], p["unit"], p["long"] - p["short"]) for _, ps in thirds for p in ps]
    lines = ["", f"Pooled over the {len(thirds)} sources of thirds (a pair's bin is its own size; se of the pairs, "
             "and se with each dataset's mean gain over its thirds as the unit):", "",
             "| series fitted on | pairs | datasets | gain (points) | se (pairs) | se (datasets) |",
             "|---|---|---|---|---|---|"]
    bins = []
    for lo, hi in zip(BINS[:-1], BINS[1:]):
        inside = [(u, g) for n, u, g in gains if lo <= n < hi]
        if not inside:
            continue
        per_dataset = {}
        for u, g in inside:
            per_dataset.setdefault(u, []).append(g)
        means = [float(np.mean(v)) for v in per_dataset.values()]
        gain, se_pairs, se_sets = float(np.mean([g for _, g in inside])), _se([g for _, g in inside]), _se(means)
        fmt = lambda se: "-" if se is None else f"{100 * se:.2f}"  # noqa: E731
        upper = "" if hi == BINS[-1] else f"{hi - 1}"
        lines.append(f"| {lo}-{upper} | {len(inside)} | {len(per_dataset)} | {100 * gain:+.2f} | {fmt(se_pairs)} | "
                     f"{fmt(se_sets)} |")
        bins.append({"from": lo, "to": hi, "pairs": len(inside), "datasets": len(per_dataset), "gain": gain,
                     "se_pairs": se_pairs, "se_datasets": se_sets})
    return lines, bins


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--thirds", action="append", default=[], help="FILE:SHORT:LONG (finetune_recipe_cv rows)")
    parser.add_argument("--few-labels", action="append", default=[], help="FILE:SHORT:LONG (few_labels rows)")
    parser.add_argument("--threshold", type=int, default=1000, help="fewest series fitted on for the long cap")
    parser.add_argument("--name", default="step_cap_by_size")
    parser.add_argument("--out", default="bench_out/step_cap_by_size")
    args = parser.parse_args(argv)
    if not args.thirds and not args.few_labels:
        raise SystemExit("nothing to read: give --thirds and/or --few-labels FILE:SHORT:LONG")
    sources = [pairs(s, "thirds") for s in args.thirds] + [pairs(s, "few") for s in args.few_labels]
    lines = [f"The long fine-tuning cap against the short one by training-set size, from the rows of earlier "
             f"studies (no new fit; no test split read by any of them). Threshold for `max_steps=\"auto\"`: "
             f"{args.threshold} series.", ""]
    summaries, table = [], []
    for label, ps in sources:
        more, summary = describe(label, ps, args.threshold)
        lines += more
        summaries.append(summary)
        table += [{"source": label, **p, "gain": p["long"] - p["short"]} for p in ps]
    thirds = sources[:len(args.thirds)]
    if len(thirds) > 1:  # the same datasets with another third held out: does a dataset's gain repeat?
        per = [{p["unit"]: p["long"] - p["short"] for p in ps} for _, ps in thirds]
        n_of = {p["unit"]: p["n"] for p in thirds[0][1]}
        both = sorted(set.intersection(*map(set, per)), key=lambda u: (n_of[u], u))  # by size, then name
        lines += ["### the same datasets, each source of thirds", ""]
        lines += [f"{i}. {label}" for i, (label, _) in enumerate(thirds, 1)]
        lines += ["", "| dataset | series fitted on | " + " | ".join(f"gain ({i})" for i in range(1, len(thirds) + 1))
                  + " |", "|---|---|" + "---|" * len(thirds)]
        lines += [f"| {u} | {n_of[u]} | " + " | ".join(f"{100 * g[u]:+.2f}" for g in per) + " |" for u in both]
        if len(both) > 2:
            r = float(np.corrcoef([[g[u] for u in both] for g in per[:2]])[0, 1])
            lines += ["", f"Correlation of the gains of (1) and (2) over these {len(both)} datasets: {r:+.2f}."]
        more, pooled_bins = pooled(thirds)
        lines += more
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    extra = {"pooled_thirds": pooled_bins} if len(thirds) > 1 else {}
    write_report(out, args.name, "\n".join(lines), table, {"threshold": args.threshold, "sources": summaries,
                                                           **extra})
    print("\n".join(lines))


if __name__ == "__main__":
    main()
