"""Fine-tuning in bfloat16 against float32: the same fits, paired, from two benchmarks' rows.

    python -m benchmarks.precision --float32 ROWS --bfloat16 ROWS [--out bench_out/precision]

Each ROWS is a ``rows.jsonl`` (or ``.jsonl.gz``) of ``benchmarks.convtimenet_targets`` (key: dataset, arm, seed)
or of ``benchmarks.few_labels`` (key: dataset, k, draw, arm; an arm ``NAME@precision=mixed_bfloat16`` pairs with
``NAME``). Only the fits present in both are compared, arm by arm (and k by k for few labels): mean accuracy of
each, the paired difference with its standard error, on how many fits bfloat16 is ahead / behind, and the
fit-seconds of each. The seconds compare only when both files were made on the same machine, which the table
says (the rows record their machines).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.common import machines, paired, read_rows, write_report



def key_of(row: dict) -> tuple:
    arm = row["arm"].split("@")[0]
    if "k" in row:
        return ("few_labels", arm, row["k"], row["dataset"], row["draw"])
    return ("targets", arm, None, row["dataset"], row.get("seed", 0))


def seconds_of(row: dict) -> float:
    return float(row.get("seconds", row.get("fit_predict_seconds", 0.0)))


def compare(float32_rows: list[dict], bfloat16_rows: list[dict]) -> list[dict]:
    """One table row per (arm, k) and one per arm over all k: the paired comparison of the fits in both."""
    old = {key_of(r): r for r in float32_rows}
    groups: dict[tuple, list[tuple[dict, dict]]] = {}
    for r in bfloat16_rows:
        o = old.get(key_of(r))
        if o is None:
            continue
        kind, arm, k = key_of(r)[:3]
        groups.setdefault((kind, arm, k), []).append((o, r))
        if k is not None:
            groups.setdefault((kind, arm, "all"), []).append((o, r))
    table = []
    order = {None: -1, "all": float("inf")}
    for (kind, arm, k), pairs in sorted(groups.items(), key=lambda t: (t[0][1], order.get(t[0][2], t[0][2]))):
        a32 = [o["accuracy"] for o, _ in pairs]
        a16 = [r["accuracy"] for _, r in pairs]
        s32, s16 = sum(seconds_of(o) for o, _ in pairs), sum(seconds_of(r) for _, r in pairs)
        p = paired(a16, a32)
        table.append({"arm": arm, "k": "" if k is None else k, "fits": len(pairs),
                      "float32": round(float(np.mean(a32)), 4), "bfloat16": round(float(np.mean(a16)), 4),
                      "difference_points": round(100 * p["difference"], 2),
                      "se_points": None if p["se"] is None else round(100 * p["se"], 2),
                      "ahead": p["ahead"], "ties": p["ties"], "behind": p["behind"],
                      "seconds_float32": round(s32, 1), "seconds_bfloat16": round(s16, 1),
                      "seconds_ratio": round(s16 / s32, 2) if s32 else None})
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--float32", required=True, type=Path)
    parser.add_argument("--bfloat16", required=True, type=Path)
    parser.add_argument("--out", default="bench_out/precision", type=Path)
    args = parser.parse_args(argv)
    f32, b16 = read_rows(args.float32), read_rows(args.bfloat16)
    table = compare(f32, b16)
    if not table:
        raise SystemExit(f"no fit of {args.bfloat16} is also in {args.float32}: nothing to pair (the keys are "
                         "dataset, arm, seed for the targets and dataset, k, draw, arm for few labels)")
    paired_keys = {key_of(r) for r in b16} & {key_of(r) for r in f32}
    m32 = machines([r for r in f32 if key_of(r) in paired_keys])
    m16 = machines([r for r in b16 if key_of(r) in paired_keys])
    lines = ["| arm | k | fits | float32 | bfloat16 | bfloat16 - float32 (points, se) | ahead / ties / behind | "
             "fit-seconds float32 | bfloat16 | ratio |", "|" + "---|" * 10]
    for t in table:
        se = "" if t["se_points"] is None else f" ({t['se_points']:.2f})"
        lines.append(f"| {t['arm']} | {t['k']} | {t['fits']} | {t['float32']:.4f} | {t['bfloat16']:.4f} | "
                     f"{t['difference_points']:+.2f}{se} | {t['ahead']} / {t['ties']} / {t['behind']} | "
                     f"{t['seconds_float32']:.0f} | {t['seconds_bfloat16']:.0f} | {t['seconds_ratio']} |")
    same = set(m32) == set(m16) and len(m32) == 1
    lines += ["", f"float32 rows: {args.float32}; machines: {m32 or 'not recorded'}",
              f"bfloat16 rows: {args.bfloat16}; machines: {m16 or 'not recorded'}",
              "The seconds compare: both made on one machine." if same else
              "The seconds do NOT compare cleanly: the rows do not all name one and the same machine."]
    args.out.mkdir(parents=True, exist_ok=True)
    write_report(args.out, "precision", "\n".join(lines), table,
                 {"float32": str(args.float32), "bfloat16": str(args.bfloat16), "table": table,
                  "machines_float32": m32, "machines_bfloat16": m16, "same_machine": same})


if __name__ == "__main__":
    main()
