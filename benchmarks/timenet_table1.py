"""TimeNet's Table 1, side by side with the paper: TN-C error on the 30 ``timenet_test`` datasets.

    python -m benchmarks.timenet_table1 --model timenet --out bench_out/timenet_table1

For each dataset (official split): TN-C ("ours": ``TimeNetClassifier()``'s features, ``--pooling`` and ``--inputs``,
of all GRU layers or of one layer, chosen by cross-validation, which was the classifier's default until
2026-12-07), TN-C on all layers' features ("whole": the layers ``TimeNetClassifier()`` uses since 2026-12-07; its
5-fold search is ``benchmarks.tnc_users_default``'s), TN-C_L1..L3 (one GRU layer's), TN-C_2/3 (two thirds of the training labels, stratified, seed 0), and,
when the features are not the paper's, TN-C on the paper's embedding (each layer's final state, 180 numbers; the
same SVM search), next to the paper's TN-C and DTW-C, the archive's DTW (learned window) and MiniRocket (aeon
defaults) run in the same process. Resumable: finished datasets are kept in ``<out>/rows.jsonl`` (a folder of
rows made with another pooling is refused); a rerun does the rest. Writes ``table1.csv`` and ``table1.md`` and
prints the table.

``--untrained SEED`` is the baseline that says what pretraining gives TN-C: the same architecture with fresh random
weights (``keras.utils.set_random_seed(SEED)`` then ``build_timenet()``, never trained), written once as a model
folder ``<out>/model/timenet_untrained/1`` and evaluated exactly as ``--model`` would be.

SVM parameters (C, gamma; ``tszoo.estimators.default_svm_grid``) are chosen by stratified 3-fold cross-validation on the training split only; where the
training split has more than 2,000 series the search runs on a stratified sample of 2,000 of them (to bound the
time on CPU) and the chosen SVM is then fitted on the whole training split.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np


from benchmarks.common import as_float as _float, reference_table, run_peer, versus_archive_dtw, write_report  # noqa: E402,E501

SEARCH_CAP = 2000


def tnc_error(E_train, y_train, E_test, y_test, seed=0, model="timenet", layers=None, pooling="last", cv=3,
              calibrated=False, inputs="series"):
    """TN-C's test error and what it chose. ``layers="auto"``: the layers chosen by cross-validation too (the
    classifier's default until 2026-12-07; ``model``'s card and ``pooling`` give the features' layout); ``None`` uses the columns
    given (``inputs`` as the classifier's). ``cv=3`` is Table 1's classifier (the paper's), ``cv=5`` ``TimeNetClassifier()``'s default; both predict
    with the SVM itself. ``calibrated=True`` predicts the most probable class of the Platt-calibrated
    probabilities instead (``TimeNetClassifier()``'s predictions until 2026-12-06)."""
    from sklearn.base import clone
    from sklearn.model_selection import train_test_split

    from tszoo.estimators import TimeNetClassifier

    clf = TimeNetClassifier(model=model, layers=layers, cv=cv, probability=calibrated, random_state=seed,
                            pooling=pooling, inputs=inputs)
    chosen = None
    if len(E_train) > SEARCH_CAP:
        idx, _ = train_test_split(np.arange(len(E_train)), train_size=SEARCH_CAP, stratify=y_train,
                                  random_state=seed)
        search = clone(clf).fit_embeddings(E_train[idx], y_train[idx])
        clf.set_params(C=search.best_params_["C"], gamma=search.best_params_["gamma"], layers=None)
        chosen = (search.layers_, search.at_grid_edge_)
        if search.columns_ is not None:  # the chosen layer's columns, refitted on the whole training split
            E_train, E_test = E_train[:, search.columns_], E_test[:, search.columns_]
    clf.fit_embeddings(E_train, y_train)
    layers_used, edge = chosen or (clf.layers_, clf.at_grid_edge_)
    info = {**clf.best_params_, "layers": layers_used, "at_grid_edge": edge}
    # calibrated: as predict did until 2026-12-06, the SVM's own predictions where no calibration was possible (a
    # class with a single training series)
    predicted = (clf.classes_[clf.predict_proba_embeddings(E_test).argmax(1)]
                 if calibrated and clf.calibrated_ is not None else clf.predict_embeddings(E_test))
    return float(np.mean(predicted != y_test)), info


def evaluate_dataset(model_name, name, archive, units, layers, pooling, inputs="series"):
    from sklearn.model_selection import train_test_split

    from tszoo.datasets import load_ucr
    from tszoo.estimators import _timenet_layer_columns, _timenet_network
    from tszoo.inference import embed
    from tszoo.registry import info

    card = info(model_name)
    X, y = load_ucr(name, "train", root=archive)
    Xt, yt = load_ucr(name, "test", root=archive)
    began = time.time()
    network = _timenet_network(model_name, None, pooling, inputs)
    E, Et = embed(network, X), embed(network, Xt)
    embed_s = time.time() - began
    row = {"dataset": name, "length": X.shape[1], "n_train": len(X), "n_test": len(Xt), "pooling": pooling,
           "inputs": inputs, "embed_seconds": round(embed_s, 1),
           "embed_series_per_s": round((len(X) + len(Xt)) / embed_s, 1)}
    row["tn_c"], row["svm_params"] = tnc_error(E, y, Et, yt, model=model_name, layers="auto", pooling=pooling,
                                               inputs=inputs)
    for layer in range(1, layers + 1):
        cols = _timenet_layer_columns(card, layer, pooling, inputs)
        row[f"tn_c_l{layer}"], _ = tnc_error(E[:, cols], y, Et[:, cols], yt)
    two_thirds, _ = train_test_split(np.arange(len(y)), train_size=2 / 3, stratify=y, random_state=0)
    row["tn_c_2_3"], _ = tnc_error(E[two_thirds], y[two_thirds], Et, yt, model=model_name, layers="auto",
                                   pooling=pooling, inputs=inputs)
    row["tn_c_whole"], _ = tnc_error(E, y, Et, yt)
    if (pooling, inputs) != ("last", "series"):  # the paper's TN-C beside it: the final states alone, all layers
        if pooling.startswith("last"):  # the features' first block
            last, last_t = E[:, : units * layers], Et[:, : units * layers]
        else:
            encoder = _timenet_network(model_name, None, "last")
            last, last_t = embed(encoder, X), embed(encoder, Xt)
        row["tn_c_paper_embedding"], _ = tnc_error(last, y, last_t, yt)
    row["seconds"] = round(time.time() - began, 1)
    add_minirocket(row, X, y, Xt, yt)
    return row


def untrained_model(root: Path, seed: int) -> Path:
    """``<root>/timenet_untrained/1``: TimeNet's encoder with fresh random weights of ``seed``, never trained (made
    once; a folder made with another seed is refused)."""
    folder = root / "timenet_untrained" / "1"
    if folder.exists():
        from tszoo.registry import info

        made = info(str(folder))["training"]["seed"]
        if made != seed:
            raise SystemExit(f"{folder} holds the untrained model of seed {made}, not {seed}; use another --out")
        return folder
    import keras

    from tszoo.architectures.timenet import build_timenet
    from tszoo.publishing import publish_model

    import inspect

    keras.utils.set_random_seed(seed)
    _, encoder = build_timenet()
    arguments = {k: p.default for k, p in inspect.signature(build_timenet).parameters.items() if k != "name"}
    return publish_model(encoder, "timenet_untrained", root=root, architecture="timenet", version=1,
                         description="TimeNet's encoder with random weights, never trained: the baseline that says "
                                     "what pretraining gives TN-C.",
                         builder={"function": "tszoo.architectures.timenet.build_timenet", "arguments": arguments},
                         training={"datasets": [], "epochs_run": 0, "seed": seed,
                                   "how": "keras.utils.set_random_seed(seed); build_timenet(): not trained"})


def add_minirocket(row, X, y, Xt, yt):
    """MiniRocket (aeon defaults, seed 0) on the same split, in the same run: what a user compares TN-C with."""
    peer = run_peer("minirocket", X, y, Xt, yt, seed=0)
    row["minirocket"], row["minirocket_seconds"] = 1.0 - peer["accuracy"], peer["fit_predict_seconds"]


def summarise(rows, reference, layers):
    lines, table = [], []
    pooled = all("tn_c_paper_embedding" in r for r in rows)
    cols = ["tn_c", "tn_c_whole", *[f"tn_c_l{i}" for i in range(1, layers + 1)], "tn_c_2_3",
            *(["tn_c_paper_embedding"] if pooled else [])]
    header = ["dataset", "T", "TN-C (ours)", "whole", *[f"L{i}" for i in range(1, layers + 1)], "TN-C 2/3",
              *(["final states only"] if pooled else []), "TN-C (paper)", "DTW-C (paper)", "DTW (archive)",
              "vs DTW", "MiniRocket"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    counts = {"win": 0, "tie": 0, "loss": 0}
    for r in rows:
        ref = reference.get(r["dataset"], {})
        paper, paper_dtw = _float(ref.get("timenet_paper_tn_c_error")), _float(ref.get("timenet_paper_dtw_c_error"))
        dtw = _float(ref.get("ucr_dtw_learned_w_error"))
        verdict = versus_archive_dtw(r["tn_c"], ref)
        if verdict in counts:
            counts[verdict] += 1
        table.append({**{k: r[k] for k in ["dataset", "length", "n_train", "n_test", *cols]},
                      "paper_tn_c": paper, "paper_dtw_c": paper_dtw, "archive_dtw": dtw, "vs_archive_dtw": verdict,
                      "minirocket": r["minirocket"], "embed_series_per_s": r["embed_series_per_s"]})
        fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        lines.append("| " + " | ".join([r["dataset"], str(r["length"]), *[fmt(r[c]) for c in cols], fmt(paper),
                                        fmt(paper_dtw), fmt(dtw), verdict, fmt(r["minirocket"])]) + " |")
    mean = {c: float(np.mean([r[c] for r in rows])) for c in cols}
    paper_vals = [_float(reference[r["dataset"]]["timenet_paper_tn_c_error"]) for r in rows
                  if _float(reference.get(r["dataset"], {}).get("timenet_paper_tn_c_error")) is not None]
    minirocket = float(np.mean([r["minirocket"] for r in rows]))
    beats_minirocket = sum(round(r["tn_c"], 3) <= round(r["minirocket"], 3) for r in rows)
    lines.append("| **mean** | | " + " | ".join(f"**{mean[c]:.4f}**" for c in cols) +
                 f" | {np.mean(paper_vals):.4f} | | | | {minirocket:.4f} |")
    summary = {"n_datasets": len(rows), "mean_error": mean, "paper_mean_tn_c_error": float(np.mean(paper_vals)),
               "win_tie_loss_vs_archive_dtw": counts,
               "at_least_as_good_as_dtw": counts["win"] + counts["tie"], "minirocket_mean_error": minirocket,
               "tn_c_at_least_as_good_as_minirocket": int(beats_minirocket),
               "minirocket_seconds": float(sum(r["minirocket_seconds"] for r in rows))}
    edges = [r["svm_params"].get("at_grid_edge") for r in rows if "at_grid_edge" in r["svm_params"]]
    chosen = [str(r["svm_params"].get("layers") or "all") for r in rows if "layers" in r["svm_params"]]
    summary["tn_c_layers_chosen"] = {c: chosen.count(c) for c in sorted(set(chosen))}
    summary["svm_optimum_at_grid_edge"] = {"C": sum("C" in e for e in edges),
                                           "gamma": sum("gamma" in e for e in edges), "of": len(edges)}
    lines.append("")
    lines.append(f"TN-C at least as good as the archive's DTW on {counts['win'] + counts['tie']} of {len(rows)} "
                 f"(win {counts['win']}, tie {counts['tie']}, loss {counts['loss']}); mean TN-C error "
                 f"{mean['tn_c']:.4f} (paper: {np.mean(paper_vals):.4f} on the same datasets). MiniRocket (aeon "
                 f"defaults, same splits and machine): mean error {minirocket:.4f} in "
                 f"{summary['minirocket_seconds']:.0f} s; TN-C at least as good on {beats_minirocket} of {len(rows)}.")
    lines.append(f"TN-C's cross-validation chose the layers {summary['tn_c_layers_chosen']}; the SVM's optimum sat at "
                 f"an edge of its grid for C on {summary['svm_optimum_at_grid_edge']['C']} and for gamma on "
                 f"{summary['svm_optimum_at_grid_edge']['gamma']} of {len(edges)} datasets.")
    long = {}
    for r in rows:
        paper = _float(reference.get(r["dataset"], {}).get("timenet_paper_tn_c_error"))
        if r["dataset"].startswith(("Cricket", "UWaveGestureLibrary")) and paper is not None:
            long[r["dataset"]] = {"ours": r["tn_c"], "paper": paper, "within_0.05": r["tn_c"] <= paper + 0.05}
    summary["long_series_vs_paper"] = long
    if long:
        lines.append("Long series (the paper's TN-C + 0.05 as the bar): " + "; ".join(
            f"{n} {v['ours']:.3f} vs {v['paper']:.3f} ({'within' if v['within_0.05'] else 'MISSED'})"
            for n, v in long.items()) + ".")
    return "\n".join(lines), table, summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="timenet", help="published name or version folder")
    parser.add_argument("--archive", default=None)
    parser.add_argument("--datasets", default=None, help="comma-separated (default: timenet_test)")
    parser.add_argument("--out", default="bench_out/timenet_table1")
    parser.add_argument("--pooling", default=None, help="the features (TimeNetEmbedder's pooling; default: "
                        "TimeNetClassifier()'s)")
    parser.add_argument("--inputs", default=None, help="the encoder's inputs (TimeNetEmbedder's inputs; default: "
                        "TimeNetClassifier()'s)")
    parser.add_argument("--untrained", type=int, default=None, metavar="SEED",
                        help="instead of --model: the architecture with fresh random weights of this seed")
    args = parser.parse_args(argv)

    from builders.data import archive_root, load_splits
    from tszoo.registry import info

    archive = archive_root(args.archive)
    names = args.datasets.split(",") if args.datasets else load_splits(archive)["timenet_test"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.untrained is not None:
        args.model = str(untrained_model(out / "model", args.untrained))
    done_path = out / "rows.jsonl"
    rows = [json.loads(x) for x in done_path.read_text().splitlines()] if done_path.exists() else []
    from tszoo.estimators import TimeNetClassifier

    pooling = args.pooling or TimeNetClassifier().pooling
    inputs = args.inputs or TimeNetClassifier().inputs
    other = sorted({r["dataset"] for r in rows if (r.get("pooling", "last"), r.get("inputs", "series")) !=
                    (pooling, inputs)})
    if other:
        raise SystemExit(f"{done_path} holds rows made with another pooling or inputs than {pooling!r}, {inputs!r} "
                         f"({', '.join(other)}); use another --out, or the --pooling and --inputs they were made with")
    done = {r["dataset"] for r in rows}
    card = info(args.model)
    arguments = card["builder"]["arguments"]  # the layout of the embedding, as the card states it
    units, num_layers = int(arguments["units"]), int(arguments["num_layers"])
    for name in names:
        if name in done:
            continue
        row = evaluate_dataset(args.model, name, archive, units, num_layers, pooling, inputs)
        print(f"{name}: TN-C error {row['tn_c']:.3f} ({row['seconds']} s)", flush=True)
        with open(done_path, "a") as f:
            f.write(json.dumps(row) + "\n")
        rows.append(row)
    stale = [row for row in rows if "minirocket" not in row]  # rows made before MiniRocket was in the table
    for row in stale:
        from tszoo.datasets import load_ucr

        add_minirocket(row, *load_ucr(row["dataset"], "train", root=archive),
                       *load_ucr(row["dataset"], "test", root=archive))
    if stale:
        from tszoo.checkpointing import replace_atomically

        replace_atomically(done_path, lambda tmp: tmp.write_text("".join(json.dumps(r) + "\n" for r in rows)))
    rows = [r for n in names for r in rows if r["dataset"] == n]
    markdown, table, summary = summarise(rows, reference_table(), num_layers)
    summary["model"] = f"{card['name']}/{card['version']}"
    summary["pooling"] = pooling
    summary["inputs"] = inputs
    write_report(out, "table1", markdown, table, summary)

if __name__ == "__main__":
    main()
