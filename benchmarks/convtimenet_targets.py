"""ConvTimeNet on the 41 target datasets, beside the peers a user would pick instead, in the same run.

    python -m benchmarks.convtimenet_targets --out bench_out/convtimenet_targets [--seeds 0,1,2] [--arms ...]

Arms (each fitted on the official training split only and scored on the test split):

* ``finetuned``: the published ConvTimeNet body + a new head, fine-tuned with ``ConvTimeNetClassifier``'s
  default recipe (``--epochs``/``--max-steps`` set its budget; ``--n-estimators`` an ensemble; ``--inputs``
  ``series+diff``, the default since 2026-12-07, a network on the first difference beside each, for this arm and
  ``scratch``, ``series`` the network on the series alone; ``--precision
  mixed_bfloat16`` trains every network arm in bfloat16 arithmetic);
* ``scratch``: the same architecture and recipe from random weights;
* ``single``: the single-length ablation (one filter length, ``--single-kernel``, same width), from scratch, or
  pretrained when ``--single-model`` names a published single-length body (the paper's ablation);
* ``finetuned_minirocket``: a combination with a peer, not ConvTimeNet alone: ``ConvTimeNetMiniRocketClassifier``
  (the ``finetuned`` network and MiniRocket fitted side by side, class scores standardised per series and added);
  its row also holds each part's accuracy (``convtimenet_accuracy``, ``minirocket_accuracy``), which equal the
  ``finetuned`` and ``minirocket`` rows of the same seed on the same thread count;
* ``minirocket``, ``multirocket_hydra``: aeon's MiniRocketClassifier and MultiRocketHydraClassifier with their
  defaults (the second needs torch: ``pip install ".[peers]"``), timed the same way (fit + predict);
* beside them the published ResNet, FCN and InceptionTime results (``../shared/anchors``).

Every (dataset, arm, seed) is one row in ``<out>/rows.jsonl`` (resumable); a row records how it was made, and a
folder holding rows made another way is refused. A row is a function of its data, settings and seed alone:
``--check-fresh N`` re-makes N finished rows, each in a new process, and reports any difference. Datasets run
cheapest first unless ``--order given``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


from benchmarks.common import (PEERS, Rows, as_float, machines, machines_lines, paired, reference_table,  # noqa: E402
                               run_peer, write_report)
from tszoo.finetuning import step_cap  # noqa: E402
from tszoo.precision import PRECISIONS, resolve_precision  # noqa: E402

NETWORK_ARMS = ("finetuned", "scratch", "single", "finetuned_minirocket")
ARMS = (*NETWORK_ARMS, *PEERS)


def single_length_body(model_name, kernel):
    """The published architecture with one filter length of the same total width, saved to a temp version."""
    import tempfile

    from tszoo.architectures.convtimenet import build_convtimenet
    from tszoo.publishing import publish_model
    from tszoo.registry import info

    card = info(model_name)
    args = dict(card["builder"]["arguments"])
    width = args.get("filters", 32) * len(args.get("kernel_sizes", (8, 16, 32, 64)))
    args.update(kernel_sizes=[kernel], filters=width)
    root = Path(tempfile.mkdtemp(prefix="ctn_single_"))
    return str(publish_model(build_convtimenet(**args), "convtimenet_single", root=root, architecture="convtimenet",
                             builder={"function": "tszoo.architectures.convtimenet.build_convtimenet",
                                      "arguments": args}))


def step_cap_arg(text: str):
    """``--max-steps``: a positive integer or ``auto``."""
    value = text if text == "auto" else int(text) if text.isdigit() else text
    step_cap(value, 1)  # a clear error for anything else
    return value


def arm_settings(arm, args) -> dict:
    """How an arm is run, as recorded in its rows."""
    if arm in PEERS:
        return {"peer": arm, "library": "aeon defaults"}
    from tszoo.estimators import ConvTimeNetClassifier

    defaults = ConvTimeNetClassifier().get_params()
    pretrained = arm in ("finetuned", "finetuned_minirocket") or (arm == "single" and args.single_model is not None)
    combined = {"combined_with": "minirocket (aeon defaults)"} if arm == "finetuned_minirocket" else {}
    # rows without "precision" were float32, as every row before 2026-12-06; without "inputs", on the series alone
    precision = {"precision": args.precision} if args.precision != "float32" else {}
    inputs = {"inputs": args.inputs} if args.inputs != "series" and arm in ("finetuned", "scratch") else {}
    return {"pretrained": pretrained, **combined, **precision, **inputs,
            "body": args.model if arm != "single" else (args.single_model or f"single length {args.single_kernel}"),
            "epochs_budget": args.epochs, "max_steps": args.max_steps,
            "n_estimators": args.n_estimators if arm in ("finetuned", "finetuned_minirocket") else 1,
            "recipe": {k: defaults[k] for k in ("learning_rate", "warmup", "head_init", "batchnorm", "head_dropout",
                                               "validation_fraction")}}


def run_row(arm, name, seed, archive, args, single_model) -> dict:
    from tszoo.datasets import load_ucr
    from tszoo.estimators import ConvTimeNetClassifier

    X, y = load_ucr(name, "train", root=archive)
    Xt, yt = load_ucr(name, "test", root=archive)
    settings = arm_settings(arm, args)
    base = {"dataset": name, "arm": arm, "seed": seed, "n_train": len(X), "length": X.shape[1], **settings}
    if arm in PEERS:
        return {**base, **run_peer(arm, X, y, Xt, yt, seed)}
    model = single_model if arm == "single" else args.model
    clf = ConvTimeNetClassifier(model=model, pretrained=settings["pretrained"], epochs=args.epochs,
                                max_steps=args.max_steps, n_estimators=settings["n_estimators"],
                                precision=args.precision, random_state=seed,
                                inputs=settings.get("inputs", "series"))
    if arm == "finetuned_minirocket":
        return {**base, **run_combined(clf, X, y, Xt, yt, seed)}
    began = time.time()
    clf.fit(X, y)
    accuracy = float(clf.score(Xt, yt))
    row = {**base, "accuracy": accuracy, "fit_predict_seconds": round(time.time() - began, 1),
           "epochs": clf.epochs_run_}
    if settings["n_estimators"] > 1 or settings.get("inputs", "series") != "series":
        # each member alone (after the timing): member i is the single network of seed + i
        row.update(member_accuracies(clf, Xt, yt), member_seeds=[seed + i for i in range(settings["n_estimators"])])
    return row


def member_accuracies(clf, Xt, yt) -> dict:
    """The test accuracy of each network of a fitted ``ConvTimeNetClassifier`` ensemble alone: member ``i`` is the
    network a single fit with ``random_state + i`` makes (its seed), so an ensemble's row also gives the single
    networks' rows of those seeds; with ``inputs="series+diff"`` also ``diff_member_accuracies``, each seed's
    network on the first difference."""
    import keras

    from tszoo.estimators import first_difference
    from tszoo.inference import as_3d, predict_batched

    series = np.transpose(as_3d(Xt, clf.missing), (0, 2, 1))
    found = {}
    for tag, given in (("", series), ("_diff", None)):
        accuracies = []
        for i in range(int(clf.n_estimators)):
            try:
                member = clf.model_.get_layer(f"member_{i}{tag}")
            except ValueError:  # no such member: a single network, or no difference input
                break
            given = first_difference(series) if given is None else given
            member = keras.Model(member.inputs[0], member.outputs[0])  # one input, as predict_batched expects
            accuracies.append(float(np.mean(clf.classes_[np.argmax(predict_batched(member, given), axis=1)] == yt)))
        if accuracies:
            found[f"{'diff_' if tag else ''}member_accuracies"] = accuracies
    return found


def run_combined(network, X, y, Xt, yt, seed) -> dict:
    """``ConvTimeNetMiniRocketClassifier`` around ``network``: the combination's accuracy and each part's."""
    from tszoo.estimators import ConvTimeNetMiniRocketClassifier, combine_scores

    began = time.time()
    clf = ConvTimeNetMiniRocketClassifier(network, random_state=seed).fit(X, y)
    probabilities, decision = clf.scores(Xt)
    seconds = round(time.time() - began, 1)
    rocket = (decision > 0).astype(int) if decision.ndim == 1 else np.argmax(decision, axis=1)
    return {"accuracy": float(np.mean(clf.classes_[combine_scores(probabilities, decision)[1]] == yt)),
            "convtimenet_accuracy": float(np.mean(clf.classes_[np.argmax(probabilities, axis=1)] == yt)),
            "minirocket_accuracy": float(np.mean(clf.classes_[rocket] == yt)),
            "fit_predict_seconds": seconds, "epochs": clf.convtimenet_.epochs_run_}


def summarise(rows, names, reference, arms, seeds_of):
    """``seeds_of[arm]``: the seeds each arm runs (the peers may run fewer than the networks)."""
    by = {(r["dataset"], r["arm"], r["seed"]): r for r in rows}
    done = [n for n in names if all((n, a, s) in by for a in arms for s in seeds_of[a])]
    if not done:
        return "no dataset has finished every arm and seed yet", [], {}
    acc = {(n, a): float(np.mean([by[(n, a, s)]["accuracy"] for s in seeds_of[a]])) for n in done for a in arms}
    secs = {(n, a): float(np.mean([by[(n, a, s)]["fit_predict_seconds"] for s in seeds_of[a]]))
            for n in done for a in arms}
    refs = {"ResNet": "resnet_accuracy_mean5", "FCN": "fcn_accuracy_mean5", "InceptionTime": "inceptiontime_accuracy"}
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    header = ["dataset", "n_train", "T", *arms, *refs, *[f"{a} s" for a in arms]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    table = []
    for n in done:
        first = by[(n, arms[0], seeds_of[arms[0]][0])]
        row = {"dataset": n, "n_train": first["n_train"], "length": first["length"],
               **{a: acc[(n, a)] for a in arms},
               **{k.lower(): as_float(reference[n][col]) for k, col in refs.items()},
               **{f"{a}_seconds": secs[(n, a)] for a in arms}}
        table.append(row)
        lines.append("| " + " | ".join([n, str(row["n_train"]), str(row["length"]), *[fmt(row[a]) for a in arms],
                                        *[fmt(row[k.lower()]) for k in refs],
                                        *[f"{secs[(n, a)]:.0f}" for a in arms]]) + " |")
    mean = {a: float(np.mean([acc[(n, a)] for n in done])) for a in arms}
    mean |= {k.lower(): float(np.mean([r[k.lower()] for r in table if r[k.lower()] is not None])) for k in refs}
    per_seed = {a: [float(np.mean([by[(n, a, s)]["accuracy"] for n in done])) for s in seeds_of[a]] for a in arms}
    total_s = {a: [float(sum(by[(n, a, s)]["fit_predict_seconds"] for n in done)) for s in seeds_of[a]]
               for a in arms}
    lines.append("| **mean** | | | " + " | ".join(f"**{mean[a]:.4f}**" for a in arms) + " | " +
                 " | ".join(f"{mean[k.lower()]:.4f}" for k in refs) + " |" + " |" * len(arms))
    lines += ["", "| arm | seeds | mean accuracy per seed | spread (max - min) | seconds for all datasets, per seed |",
              "|---|---|---|---|---|"]
    for a in arms:
        lines.append(f"| {a} | {', '.join(map(str, seeds_of[a]))} | {', '.join(f'{v:.4f}' for v in per_seed[a])} | "
                     f"{max(per_seed[a]) - min(per_seed[a]):.4f} | {', '.join(f'{v:.0f}' for v in total_s[a])} |")
    summary = {"datasets_done": len(done), "datasets_total": len(names), "seeds": seeds_of, "mean_accuracy": mean,
               "mean_accuracy_per_seed": per_seed, "total_seconds_per_seed": total_s,
               "missing": [n for n in names if n not in done],
               "arms": {a: arm_settings_of(by, done, a, seeds_of[a][0]) for a in arms}}
    pairs = []
    for a, b in (("finetuned", "scratch"), ("finetuned", "minirocket"), ("finetuned", "multirocket_hydra"),
                 ("finetuned", "single"), ("finetuned_minirocket", "minirocket"),
                 ("finetuned_minirocket", "multirocket_hydra"), ("finetuned_minirocket", "finetuned")):
        if a in arms and b in arms:
            wins = sum(acc[(n, a)] > acc[(n, b)] for n in done)
            ties = sum(acc[(n, a)] == acc[(n, b)] for n in done)
            summary[f"{a}_vs_{b}"] = {"wins": int(wins), "ties": int(ties), "losses": len(done) - wins - ties}
            pairs.append(f"{a} vs {b}: {wins} wins, {ties} ties, {len(done) - wins - ties} losses "
                         f"(at least as good on {wins + ties})")
    lines += ["", f"{len(done)} of {len(names)} target datasets done (accuracies are means over each arm's seeds)."]
    lines += [f"- {p}" for p in pairs]
    used = [by[(n, a, s)] for n in done for a in arms for s in seeds_of[a]]
    summary["machines"] = machines(used)
    lines += machines_lines(used)
    if "finetuned_minirocket" in arms:
        lines += combined_parts(by, done, seeds_of["finetuned_minirocket"], summary)
    return "\n".join(lines), table, summary


def combined_parts(by, done, seeds, summary) -> list[str]:
    """The combination against its own two parts, fitted in the same rows (paired, same seeds)."""
    part = {key: {n: float(np.mean([by[(n, "finetuned_minirocket", s)][key] for s in seeds])) for n in done}
            for key in ("accuracy", "convtimenet_accuracy", "minirocket_accuracy")}
    lines = ["", "finetuned_minirocket, a combination with a peer, against its own parts (fitted in the same rows):",
             "", "| | combination | ConvTimeNet part | MiniRocket part |", "|---|---|---|---|",
             "| mean accuracy | " + " | ".join(f"{np.mean(list(part[k].values())):.4f}" for k in part) + " |", ""]
    entry = {}
    for key, label in (("convtimenet_accuracy", "ConvTimeNet part"), ("minirocket_accuracy", "MiniRocket part")):
        p = paired([part["accuracy"][n] for n in done], [part[key][n] for n in done])
        se = 100 * p["se"] if p["se"] is not None else None
        entry[key] = {"mean_points": 100 * p["difference"], "standard_error": se,
                      **{k: p[k] for k in ("ahead", "ties", "behind")}}
        lines.append(f"- combination minus {label}: {100 * p['difference']:+.2f} points"
                     + (f" (se {se:.2f})" if se is not None else "")
                     + f"; ahead on {entry[key]['ahead']}, tied on {entry[key]['ties']}, behind on "
                     f"{entry[key]['behind']} of {len(done)}")
    summary["finetuned_minirocket_parts"] = {"mean_accuracy": {k: float(np.mean(list(v.values())))
                                                               for k, v in part.items()}, **entry}
    return lines


def arm_settings_of(by, done, arm, seed):
    row = by[(done[0], arm, seed)]
    return {k: row.get(k) for k in ("pretrained", "combined_with", "body", "epochs_budget", "max_steps",
                                    "n_estimators", "recipe", "peer", "library", "precision") if k in row}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="convtimenet")
    parser.add_argument("--archive", default=None)
    parser.add_argument("--datasets", default=None, help="comma-separated (default: the 41 targets)")
    parser.add_argument("--arms", default="finetuned,scratch,minirocket")
    parser.add_argument("--seeds", default="0", help="seeds of the network arms")
    parser.add_argument("--peer-seeds", default="0", help="seeds of the peers (MultiRocket-Hydra is slow on CPU)")
    parser.add_argument("--epochs", type=int, default=100, help="ConvTimeNetClassifier's default (40 before "
                        "2026-11-24: the same 250 steps except on training sets of 24 series or fewer)")
    parser.add_argument("--max-steps", type=step_cap_arg, default="auto",
                        help="a step cap, or 'auto' (ConvTimeNetClassifier's default since 2026-12-07: 1,000 steps "
                        "from 1,000 training series, 250 below; rows made before say 250)")
    parser.add_argument("--n-estimators", type=int, default=1)
    parser.add_argument("--inputs", default=None, choices=["series", "series+diff"],
                        help="ConvTimeNetClassifier(inputs=...) of the finetuned and scratch arms (default: the "
                        "estimator's, 'series+diff' since 2026-12-07; rows without 'inputs' are 'series')")
    parser.add_argument("--precision", default="float32", choices=PRECISIONS,
                        help="ConvTimeNetClassifier(precision=...) for the network arms")
    parser.add_argument("--single-kernel", type=int, default=32)
    parser.add_argument("--single-model", default=None, help="a pretrained single-length body, if one exists")
    parser.add_argument("--order", default="cheapest", choices=["cheapest", "given"])
    parser.add_argument("--report-only", action="store_true", help="only rebuild the table from rows.jsonl")
    parser.add_argument("--check-fresh", type=int, default=0, metavar="N",
                        help="re-make N finished network rows, each in a new process, and compare")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # DATASET:ARM:SEED, prints the row
    parser.add_argument("--out", default="bench_out/convtimenet_targets")
    args = parser.parse_args(argv)
    args.precision = resolve_precision(args.precision)  # rows record what ran ("auto" as what it means here)
    if args.inputs is None:
        from tszoo.estimators import ConvTimeNetClassifier

        args.inputs = ConvTimeNetClassifier().inputs

    from builders.data import archive_root, load_splits

    archive = archive_root(args.archive)
    names = args.datasets.split(",") if args.datasets else load_splits(archive)["targets"]
    arms = args.arms.split(",")
    seeds_of = {a: [int(s) for s in (args.peer_seeds if a in PEERS else args.seeds).split(",")] for a in arms}
    unknown = set(arms) - set(ARMS)
    if unknown:
        raise SystemExit(f"unknown arm(s) {sorted(unknown)}; expected some of {list(ARMS)}")
    if args.one:
        name, arm, seed = args.one.split(":")
        single = args.single_model or (single_length_body(args.model, args.single_kernel) if arm == "single" else None)
        print(json.dumps(run_row(arm, name, int(seed), archive, args, single)))
        return
    reference = reference_table()
    rows = Rows(args.out)
    rows.check("arm", {arm: arm_settings(arm, args) for arm in arms})
    if args.order == "cheapest":
        def cost(n):
            n_train, length = int(reference[n]["n_train"]), int(reference[n]["length"])
            return min(args.epochs * n_train, step_cap(args.max_steps, n_train) * 32) * length
        names_run = sorted(names, key=cost)
    else:
        names_run = names
    if not args.report_only:
        single_model = args.single_model or (single_length_body(args.model, args.single_kernel)
                                             if "single" in arms else None)
        for name in names_run:
            for seed in sorted(set(s for a in arms for s in seeds_of[a])):
                for arm in arms:
                    if seed not in seeds_of[arm] or rows.done(dataset=name, arm=arm, seed=seed):
                        continue
                    row = run_row(arm, name, seed, archive, args, single_model)
                    print(f"{name} {arm} seed {seed}: accuracy {row['accuracy']:.3f} "
                          f"({row['fit_predict_seconds']} s)", flush=True)
                    rows.add(row)
    if args.check_fresh:
        check_fresh(rows, args, archive)
    write_report(Path(args.out), "targets", *summarise(rows.rows, names, reference, arms, seeds_of))


def check_fresh(rows, args, archive):
    """Re-make finished network rows, each in a new process: the same accuracy, or a loud report."""
    candidates = [r for r in rows.rows if r["arm"] in NETWORK_ARMS]
    rng = np.random.default_rng()
    picked = [candidates[i] for i in rng.choice(len(candidates), min(args.check_fresh, len(candidates)),
                                                replace=False)]
    report = []
    for r in picked:
        cmd = [sys.executable, "-m", "benchmarks.convtimenet_targets", "--one",
               f"{r['dataset']}:{r['arm']}:{r['seed']}", "--model", args.model, "--epochs", str(args.epochs),
               "--max-steps", str(args.max_steps), "--n-estimators", str(args.n_estimators), "--archive", str(archive),
               "--precision", args.precision]
        if args.single_model:
            cmd += ["--single-model", args.single_model]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
        fresh = json.loads(done.stdout.splitlines()[-1])
        same = fresh["accuracy"] == r["accuracy"]
        report.append({"dataset": r["dataset"], "arm": r["arm"], "seed": r["seed"], "row": r["accuracy"],
                       "fresh_process": fresh["accuracy"], "same": same})
        print(f"fresh process: {r['dataset']} {r['arm']} seed {r['seed']}: {fresh['accuracy']:.4f} vs row "
              f"{r['accuracy']:.4f} ({'same' if same else 'DIFFERENT'})", flush=True)
    with open(Path(args.out) / "fresh_checks.jsonl", "a") as f:
        for line in report:
            f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
