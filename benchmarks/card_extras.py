"""Turn an evaluation's output into the ``--card`` JSON of a publish command (metrics + card sections).

    python -m benchmarks.card_extras timenet bench_out/timenet_table1 --quant bench_out/quant/quant.md \
        > bench_out/timenet_card.json
    python -m benchmarks.card_extras convtimenet bench_out/convtimenet_targets > bench_out/convtimenet_card.json

Options: ``--quant quant.md`` adds the model's rows of the quantization benchmark; ``--ablation FOLDER`` adds a
ConvTimeNet single-filter-length ablation table (``targets.md`` and ``summary.json`` in FOLDER); ``--budget
FOLDER`` adds a table comparing a run of ``convtimenet_targets.py`` with a larger budget (in FOLDER) to the main
evaluation on the same datasets.
"""

import json
from pathlib import Path


def timenet(folder: Path) -> dict:
    summary = json.loads((folder / "summary.json").read_text())
    m = summary["mean_error"]
    return {"metrics": {"tn_c_mean_error_30": m["tn_c"], **{f"{k}_mean_error_30": v for k, v in m.items()
                                                             if k != "tn_c"},
                        "tn_c_at_least_as_good_as_dtw": summary["at_least_as_good_as_dtw"],
                        "paper_tn_c_mean_error_30": summary["paper_mean_tn_c_error"],
                        **({"minirocket_mean_error_30": summary["minirocket_mean_error"]}
                           if "minirocket_mean_error" in summary else {}),
                        **{k: summary[k] for k in ("tn_c_layers_chosen", "svm_optimum_at_grid_edge",
                                                   "long_series_vs_paper") if k in summary}},
            "sections": {"TN-C on the TimeNet paper's 30 test datasets (Table 1, error rates)": (
                "`TimeNetClassifier()` as users get it: the frozen embeddings, standardised, and an RBF SVM; which "
                "part of the embedding (all of it, or one GRU layer's) and the SVM's C and gamma chosen by "
                "3-fold cross-validation on the training split (on a stratified sample of 2,000 where it is "
                "larger); official UCR splits; MiniRocket (aeon defaults) in the same run. Reproduce with "
                "`python -m benchmarks.timenet_table1`.\n\n" + (folder / "table1.md").read_text())}}


def convtimenet(folder: Path) -> dict:
    summary = json.loads((folder / "summary.json").read_text())
    mean = summary["mean_accuracy"]
    pairs = {k: v for k, v in summary.items() if "_vs_" in k}
    arms = summary.get("arms", {})
    recipe = arms.get("finetuned", {}).get("recipe", {})
    return {"metrics": {"targets_done": summary["datasets_done"],
                        **{f"mean_accuracy_{k}": v for k, v in mean.items()},
                        **{f"mean_accuracy_per_seed_{k}": v for k, v in summary["mean_accuracy_per_seed"].items()},
                        **{f"total_seconds_per_seed_{k}": v for k, v in summary["total_seconds_per_seed"].items()},
                        **pairs},
            "sections": {"Fine-tuning on the 41 target datasets": (
                "Each target (never seen in pretraining): `ConvTimeNetClassifier()`'s default recipe on the "
                "official training split only (batch-norm statistics adapted to the training series, the head "
                "initialised by a linear probe, Adam with a linear warm-up and cosine decay, at most "
                f"{arms.get('finetuned', {}).get('epochs_budget', '?')} epochs and "
                f"{steps_text(arms.get('finetuned', {}).get('max_steps', '?'))}; recipe settings {recipe}), "
                "scored on "
                "the test split; `scratch`: the same architecture and recipe from random weights; aeon's "
                "MiniRocket and MultiRocket-Hydra with their defaults, timed the same way on the same CPU. "
                "Reference accuracies: ResNet/FCN (Fawaz et al. 2019, mean of 5 runs), InceptionTime (5-network "
                "ensemble, 1500 epochs each). Reproduce with `python -m benchmarks.convtimenet_targets --model "
                "<this version> --arms finetuned,scratch,minirocket,multirocket_hydra --seeds 0,1,2`."
                f"\n\nDatasets not yet run: {', '.join(summary['missing']) or 'none'}.\n\n"
                + (folder / "targets.md").read_text())}}


def few_labels_section(folder: Path) -> dict:
    summary = json.loads((folder / "summary.json").read_text())
    return {"Few labels: k labelled series per class": (
        f"{summary['draws']} draws of k series per class from each target's training split, scored on the whole "
        "test split; every arm fitted on the drawn series only. Reproduce with `python -m benchmarks.few_labels`."
        "\n\n" + (folder / "few_labels.md").read_text())}


def compare_section(folder: Path, other: Path) -> dict:
    """Table 1's means for this model beside another version's, both measured by the same code."""
    ours, theirs = (json.loads((f / "summary.json").read_text()) for f in (folder, other))
    name = lambda summary: summary.get("model", "?")  # noqa: E731
    columns = [c for c in ours["mean_error"] if c in theirs["mean_error"]]
    lines = [f"| mean error on the 30 | {name(ours)} | {name(theirs)} |", "|---|---|---|"]
    lines += [f"| {c} | {ours['mean_error'][c]:.4f} | {theirs['mean_error'][c]:.4f} |" for c in columns]
    lines.append(f"| at least as good as the archive's DTW | {ours['at_least_as_good_as_dtw']} of 30 | "
                 f"{theirs['at_least_as_good_as_dtw']} of 30 |")
    return {f"Against {name(theirs)}, measured by the same code in the same way": (
        "Both models' Table 1 made by `python -m benchmarks.timenet_table1 --model <version>` with the current "
        "`TimeNetClassifier` (same grid, same cross-validation), on the same CPU.\n\n" + "\n".join(lines))}


def quantization_section(kind: str, quant_md: Path) -> dict:
    lines = quant_md.read_text().splitlines()
    rows = [line for line in lines[2:] if line.startswith(f"| {kind} ")]
    how = ("TN-C's SVM fitted once on the Keras float32 embeddings; test embeddings from each TFLite variant"
           if kind == "timenet" else "a classifier fine-tuned on the training split, exported in each variant")
    return {"TFLite variants: accuracy on real data": (
        f"Test accuracy of each builtins-only TFLite variant ({how}). Reproduce with "
        "`python -m benchmarks.quantization_accuracy`.\n\n" + "\n".join(lines[:2] + rows))}


def _body_card(summary: dict, arm: str) -> dict | None:
    body = summary.get("arms", {}).get(arm, {}).get("body")
    card = Path(body[0] if isinstance(body, list) else body or "-") / "tszoo.json"
    return json.loads(card.read_text()) if card.exists() else None


def _trained(card: dict) -> str:
    t = card["training"]
    hardware = t.get("hardware")
    hardware = "; ".join(hardware) if isinstance(hardware, list) else hardware
    return (f"kernel sizes {t.get('kernel_sizes')}, {t.get('filters')} filters each, seed {t.get('seed')}: "
            f"{t['wall_time_s']} s of training on {hardware}; best held-back source accuracy "
            f"{card['metrics']['source_heldout_accuracy_mean']:.4f} at epoch {t['best_epoch']} of {t['epochs_run']}")


def ablation_section(folders) -> dict:
    """One filter length against several. Each FOLDER is a ``convtimenet_targets.py`` run with the arms
    ``finetuned`` (a several-length body) and ``single`` (a single-length body given by ``--single-model``),
    both pretrained by the same recipe, seed and selection rule, or ``single`` from scratch beside ``scratch``."""
    folders = [folders] if isinstance(folders, Path) else list(folders)
    parts, lines = [], ["| pretraining | several lengths | one length | several better | ties | one better |",
                        "|---|---|---|---|---|---|"]
    for folder in folders:
        summary = json.loads((folder / "summary.json").read_text())
        mean = summary["mean_accuracy"]
        pretrained = summary.get("arms", {}).get("single", {}).get("pretrained") in (True, ["True"])
        several = "finetuned" if pretrained else "scratch"  # the column trained the same way as the single arm
        rows = _rows(folder)
        beats = sum(r[several] > r["single"] for r in rows)
        ties = sum(r[several] == r["single"] for r in rows)
        cards = [_body_card(summary, arm) for arm in (several, "single")] if pretrained else [None, None]
        label = (f"seed {cards[1]['training'].get('seed')}" if cards[1] else
                 "pretrained" if pretrained else "none (both from scratch)")
        lines.append(f"| {label} | {mean[several]:.4f} | {mean['single']:.4f} | {beats} | {ties} | "
                     f"{len(rows) - beats - ties} |")
        how = "; ".join(f"{name}: {_trained(c)}" for name, c in zip(("several lengths", "one length"), cards) if c)
        seeds = summary["seeds"]
        seeds = sorted({x for v in seeds.values() for x in v}) if isinstance(seeds, dict) else seeds
        parts.append(f"`{folder}` ({summary['datasets_done']} of {summary['datasets_total']} targets, fine-tuning "
                     f"seed(s) {seeds}){': ' + how if how else ''}.")
    return {"Ablation: one filter length versus several": (
        "The same architecture and width with a single filter length (32, 128 filters) instead of 8/16/32/64 "
        "(32 each). Both bodies pretrained by the same recipe (same 24 sources, heads, schedule, epochs, seed) and "
        "selected by the same rule (the epoch with the highest held-back source accuracy with the model's own "
        "precise batch-norm statistics), then fine-tuned with the same recipe and budget on the official training "
        "split of each target and scored on its test split: the paper's ablation. Reproduce with `python -m "
        "benchmarks.convtimenet_targets --model <several-length body> --arms finetuned,single --single-model "
        "<single-length body>`.\n\n" + "\n".join(lines) + "\n\n" + "\n".join(f"- {p}" for p in parts)
        + "\n\n" + "\n\n".join((f / "targets.md").read_text() for f in folders))}


def steps_text(max_steps) -> str:
    """A row's step cap in words: ``"auto"`` is ``ConvTimeNetClassifier``'s size rule."""
    return "250 steps (1,000 from 1,000 training series)" if max_steps == "auto" else f"{max_steps} steps"


def budget_section(folder: Path, baseline: Path) -> dict:
    """The same targets fine-tuned and trained from scratch with a larger budget, next to the main evaluation."""
    summary = json.loads((folder / "summary.json").read_text())
    arms = summary["arms"]
    budget = f"{arms['finetuned']['epochs_budget'][0]} epochs and {steps_text(arms['finetuned']['max_steps'][0])}"
    small = {r["dataset"]: r for r in _rows(baseline)}
    large = _rows(folder)
    lines = ["| dataset | fine-tuned, main budget | fine-tuned, larger | from scratch, main | from scratch, larger "
             "| InceptionTime |", "|---|---|---|---|---|---|"]
    for r in large:
        s = small[r["dataset"]]
        lines.append(f"| {r['dataset']} | {s['finetuned']:.3f} | {r['finetuned']:.3f} | {s['scratch']:.3f} | "
                     f"{r['scratch']:.3f} | {float(r['inceptiontime']):.3f} |")
    mean = lambda rows, k: sum(float(x[k]) for x in rows) / len(rows)  # noqa: E731
    same = [small[r["dataset"]] for r in large]
    lines.append(f"| **mean** | **{mean(same, 'finetuned'):.4f}** | **{mean(large, 'finetuned'):.4f}** | "
                 f"**{mean(same, 'scratch'):.4f}** | **{mean(large, 'scratch'):.4f}** | "
                 f"**{mean(large, 'inceptiontime'):.4f}** |")
    wins_small = sum(small[r["dataset"]]["finetuned"] > small[r["dataset"]]["scratch"] for r in large)
    wins_large = sum(r["finetuned"] > r["scratch"] for r in large)
    return {"A larger fine-tuning budget": (
        f"{len(large)} targets where the main evaluation fell furthest behind InceptionTime, rerun with at most "
        f"{budget} (four times the main budget), both arms, same seed. Fine-tuned beats from-scratch on "
        f"{wins_small} of {len(large)} at the main budget and on {wins_large} of {len(large)} at the larger one"
        + (": the pretrained body mostly buys speed, and a longer run from scratch catches up." if wins_large <
           wins_small else ".") + " Reproduce with `python "
        f"benchmarks/convtimenet_targets.py --datasets {','.join(r['dataset'] for r in large)} --arms "
        f"finetuned,scratch --epochs {arms['finetuned']['epochs_budget'][0]} --max-steps "
        f"{arms['finetuned']['max_steps'][0]}`.\n\n" + "\n".join(lines))}


def _rows(folder: Path) -> list[dict]:
    import csv

    with open(folder / "targets.csv") as f:
        return [{k: float(v) if k in ("finetuned", "scratch", "single", "inceptiontime") and v else v
                 for k, v in row.items()}
                for row in csv.DictReader(f)]


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["timenet", "convtimenet"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--quant", type=Path)
    parser.add_argument("--ablation", type=Path, action="append",
                        help="a single-length ablation run (repeat for several pretraining seeds)")
    parser.add_argument("--budget", type=Path, help="a larger-budget run; compared with the main FOLDER")
    parser.add_argument("--few-labels", type=Path, help="a few_labels.py output folder")
    parser.add_argument("--compare", type=Path, help="timenet: another version's timenet_table1 output folder")
    args = parser.parse_args()
    extras = {"timenet": timenet, "convtimenet": convtimenet}[args.kind](args.folder)
    if args.quant:
        extras["sections"].update(quantization_section(args.kind, args.quant))
    if args.ablation:
        extras["sections"].update(ablation_section(args.ablation))
    if args.budget:
        extras["sections"].update(budget_section(args.budget, args.folder))
    if args.few_labels:
        extras["sections"].update(few_labels_section(args.few_labels))
    if args.compare:
        extras["sections"].update(compare_section(args.folder, args.compare))
    print(json.dumps(extras, indent=2))
