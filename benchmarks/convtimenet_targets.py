"""ConvTimeNet on the 41 target datasets: fine-tuned versus from scratch versus a single-filter-length ablation.

    python benchmarks/convtimenet_targets.py --out bench_out/convtimenet_targets [--datasets A,B] [--arms ...]

Arms, each with the same budget (``--epochs``, capped at ``--max-steps`` gradient steps) and seed:

* ``finetuned``: the published ConvTimeNet body + a new head, all fine-tuned on the official training split;
* ``scratch``: the same architecture from random weights;
* ``single``: the single-length ablation (one filter length, ``--single-kernel``, same width), from scratch, or
  pretrained when ``--single-model`` names a published single-length body (the paper's ablation), e.g. one made by
  ``python -m builders.convtimenet train --kernel-sizes 32 --filters 128 --out runs/ctn_single`` and
  ``python -m builders.convtimenet publish --run runs/ctn_single --name convtimenet_single --root bench_out/models``.

Only the training split is used for training and model selection (the epoch with the lowest training loss);
the test split only for the reported accuracy. Resumable: every finished (dataset, arm) is kept in
``<out>/rows.jsonl``. Datasets run cheapest first (training points x epochs) unless ``--order given``, so a
session that cannot run all 41 covers as many as it can; the table says which ran.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from benchmarks.timenet_table1 import _float, reference_table, write_report  # noqa: E402

ARMS = ("finetuned", "scratch", "single")


def single_length_body(model_name, kernel):
    """The published architecture with one filter length of the same total width, saved to a temp version."""
    import tempfile

    from builders.convtimenet_model import build_convtimenet
    from tszoo.publishing import publish_model
    from tszoo.registry import info

    card = info(model_name)
    args = dict(card["builder"]["arguments"])
    width = args.get("filters", 32) * len(args.get("kernel_sizes", (8, 16, 32, 64)))
    args.update(kernel_sizes=[kernel], filters=width)
    root = Path(tempfile.mkdtemp(prefix="ctn_single_"))
    return str(publish_model(build_convtimenet(**args), "convtimenet_single", root=root,
                             builder={"function": "builders.convtimenet_model.build_convtimenet",
                                      "arguments": args}))


def arm_settings(arm, args) -> dict:
    """How an arm is run, as recorded in its rows."""
    return {"pretrained": arm == "finetuned" or (arm == "single" and args.single_model is not None),
            "body": args.model if arm != "single" else (args.single_model or f"single length {args.single_kernel}"),
            "epochs_budget": args.epochs, "max_steps": args.max_steps}


def run_arm(arm, name, archive, args, single_model):
    from tszoo.datasets import load_ucr
    from tszoo.estimators import ConvTimeNetClassifier

    X, y = load_ucr(name, "train", root=archive)
    Xt, yt = load_ucr(name, "test", root=archive)
    model = {"finetuned": args.model, "scratch": args.model, "single": single_model}[arm]
    settings = arm_settings(arm, args)
    pretrained = settings["pretrained"]
    clf = ConvTimeNetClassifier(model=model, pretrained=pretrained, epochs=args.epochs, max_steps=args.max_steps,
                                random_state=args.seed)
    began = time.time()
    clf.fit(X, y)
    seconds = time.time() - began
    return {"dataset": name, "arm": arm, "accuracy": float(clf.score(Xt, yt)), "fit_seconds": round(seconds, 1),
            "epochs": clf.epochs_run_, "n_train": len(X), "length": X.shape[1], **settings}


def summarise(rows, names, reference, arms):
    by = {(r["dataset"], r["arm"]): r for r in rows}
    done = [n for n in names if all((n, a) in by for a in arms)]
    header = ["dataset", "n_train", "T", *arms, "ResNet", "FCN", "InceptionTime", "fine-tune s", "InceptionTime s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    table = []
    for n in done:
        ref = reference[n]
        row = {"dataset": n, "n_train": by[(n, arms[0])]["n_train"], "length": by[(n, arms[0])]["length"],
               **{a: by[(n, a)]["accuracy"] for a in arms},
               "resnet": _float(ref["resnet_accuracy_mean5"]), "fcn": _float(ref["fcn_accuracy_mean5"]),
               "inceptiontime": _float(ref["inceptiontime_accuracy"]),
               "finetune_seconds": by[(n, arms[0])]["fit_seconds"],
               "inceptiontime_train_s": _float(ref["inceptiontime_train_time_s"])}
        table.append(row)
        fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        lines.append("| " + " | ".join([n, str(row["n_train"]), str(row["length"]), *[fmt(row[a]) for a in arms],
                                        fmt(row["resnet"]), fmt(row["fcn"]), fmt(row["inceptiontime"]),
                                        f"{row['finetune_seconds']:.0f}",
                                        f"{row['inceptiontime_train_s'] or 0:.0f}"]) + " |")
    if not table:
        return "no dataset has finished every arm yet", table, {}
    mean = {k: float(np.mean([r[k] for r in table if r[k] is not None]))
            for k in (*arms, "resnet", "fcn", "inceptiontime")}
    lines.append("| **mean** | | | " + " | ".join(f"**{mean[k]:.4f}**" for k in (*arms, "resnet", "fcn",
                                                                                  "inceptiontime")) + " | | |")
    summary = {"datasets_done": len(done), "datasets_total": len(names), "mean_accuracy": mean,
               "finetuned_total_seconds": float(sum(r["finetune_seconds"] for r in table)),
               "inceptiontime_total_seconds_same_datasets": float(sum(r["inceptiontime_train_s"] or 0
                                                                      for r in table)),
               "missing": [n for n in names if n not in done],
               # how each arm was run, from its rows (rows written before this was recorded say None)
               "arms": {a: {key: sorted({str(by[(n, a)].get(key)) for n in done})
                            for key in ("pretrained", "body", "epochs_budget", "max_steps")} for a in arms}}
    if "finetuned" in arms and "scratch" in arms:
        summary["finetuned_beats_scratch"] = int(sum(r["finetuned"] > r["scratch"] for r in table))
        summary["finetuned_ties_scratch"] = int(sum(r["finetuned"] == r["scratch"] for r in table))
    lines += ["", f"{len(done)} of {len(names)} target datasets done" +
              (f"; fine-tuned beats from-scratch on {summary.get('finetuned_beats_scratch')} "
               f"(ties {summary.get('finetuned_ties_scratch')})" if "finetuned_beats_scratch" in summary else "") +
              f"; fine-tuning time {summary['finetuned_total_seconds']:.0f} s on this CPU versus InceptionTime's "
              f"{summary['inceptiontime_total_seconds_same_datasets']:.0f} GPU-seconds on the same datasets."]
    return "\n".join(lines), table, summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="convtimenet")
    parser.add_argument("--archive", default=None)
    parser.add_argument("--datasets", default=None, help="comma-separated (default: the 41 targets)")
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--max-steps", type=int, default=250)
    parser.add_argument("--single-kernel", type=int, default=32)
    parser.add_argument("--single-model", default=None, help="a pretrained single-length body, if one exists")
    parser.add_argument("--order", default="cheapest", choices=["cheapest", "given"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report-only", action="store_true", help="only rebuild the table from rows.jsonl")
    parser.add_argument("--out", default="bench_out/convtimenet_targets")
    args = parser.parse_args(argv)

    from builders.data import archive_root, load_splits

    archive = archive_root(args.archive)
    names = args.datasets.split(",") if args.datasets else load_splits(archive)["targets"]
    arms = args.arms.split(",")
    reference = reference_table()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows_path = out / "rows.jsonl"
    rows = [json.loads(x) for x in rows_path.read_text().splitlines()] if rows_path.exists() else []
    # A row only counts as done if it was made the way this invocation would make it: never mix, say, a
    # from-scratch single-length row into a table of pretrained ones.
    expected = {arm: arm_settings(arm, args) for arm in arms}
    for r in rows:
        if r["arm"] in expected and {k: r.get(k) for k in expected[r["arm"]]} != expected[r["arm"]]:
            raise SystemExit(f"{rows_path} holds a {r['arm']!r} row for {r['dataset']} made with other settings "
                             f"({ {k: r.get(k) for k in expected[r['arm']]} } instead of {expected[r['arm']]}); "
                             "use another --out, or remove those rows to redo them")
    done = {(r["dataset"], r["arm"]) for r in rows}
    if args.order == "cheapest":
        def cost(n):
            ref = reference[n]
            steps_per_epoch = -(-int(ref["n_train"]) // min(32, max(4, int(ref["n_train"]) // 10)))
            return min(args.epochs, max(1, args.max_steps // steps_per_epoch)) * int(ref["n_train"]) * int(
                ref["length"])
        run_order = sorted(names, key=cost)
    else:
        run_order = names
    if not args.report_only:
        single_model = args.single_model or (single_length_body(args.model, args.single_kernel)
                                             if "single" in arms else None)
        for name in run_order:
            for arm in arms:
                if (name, arm) in done:
                    continue
                row = run_arm(arm, name, archive, args, single_model)
                print(f"{name} {arm}: accuracy {row['accuracy']:.3f} ({row['fit_seconds']} s)", flush=True)
                with open(rows_path, "a") as f:
                    f.write(json.dumps(row) + "\n")
                rows.append(row)
    write_report(out, "targets", *summarise(rows, names, reference, arms))

if __name__ == "__main__":
    main()
