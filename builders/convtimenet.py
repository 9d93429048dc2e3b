"""ConvTimeNet pretraining recipe: ``python -m builders.convtimenet train --out runs/convtimenet``.

One body, one softmax head per source dataset (the 24 ``sources`` of splits.json, train and test splits both;
sources are never evaluated on). 10% of each source, stratified, is held back to report per-source accuracy.

How batches are drawn: every batch MIXES sources. Batch normalisation then trains on the same mixture of sources
that its moving statistics average over, so the model's own inference statistics are the ones it was trained
with (convtimenet/1 drew one source per batch: its moving statistics were a mixture no batch ever had, and its
held-back accuracy read 0.53 with them against 0.74 with each source's own). An epoch draws as many series as the
sources hold, source ``s`` in proportion to ``n_s ** temperature`` (0.5 by default: a small source such as Trace
gets several times the steps it would get in proportion to size, a large one is not repeated much), each source's
series cycled in a fresh random order; the drawn series are shuffled together and batched, each batch NaN-padded
to its longest series. Loss: each example's cross-entropy under its own source's head (a softmax over that head's
columns only), averaged over the batch. The order is a pure function of ``(seed, epoch)``, so ``--resume``
replays exactly.

Inference statistics: "precise BN" (Wu & Johnson 2021): batch norm's statistics averaged over a fixed sample
of ``precise_bn_batches`` mixed training batches with the epoch's weights, rather than the exponential average
that lags behind the weights while they move; the published model carries them. Model selection: the epoch with
the highest mean held-back accuracy with those statistics; the accuracy with per-source statistics (batch norm
over each source's held-back part alone) and with the exponential averages are recorded beside it.

Precision: ``--precision mixed_bfloat16`` trains a body that computes in bfloat16 on float32 weights
(:func:`tszoo.precision.body_in_precision`; the heads, the input standardisation and the pooling stay float32):
0.66x the step time on the 2-core AMX CPU (benchmarks/results/pretraining_precision.md); faster on hardware with
bfloat16 units (an Ampere or later GPU; a CPU with AMX or AVX512-BF16),
slower without them. Checkpoints and weights are float32 either way; ``publish`` loads them into a float32 body and
recomputes the precise statistics in float32, so the published model is the float32 network users run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

DEFAULTS = dict(filters=32, num_blocks=4, bottleneck=32, learning_rate=0.002, batch_size=64, epochs=40, seed=0,
                holdout=0.1, temperature=0.5, warmup_epochs=1.0, clipnorm=1.0, precise_bn_batches=64,
                precision="float32")
KERNEL_SIZES = "8,16,32,64"


def prepare_sources(names, archive, holdout, seed):
    """Per source: encoded labels, a stratified held-back part, and the head's class list."""
    from sklearn.model_selection import train_test_split

    from builders.data import load_all_series, series_of

    data = load_all_series(names, archive)
    sources = []
    for index, name in enumerate(names):
        X, y = data[name]
        classes, codes = np.unique(y, return_inverse=True)
        fit_idx, held_idx = train_test_split(np.arange(len(y)), test_size=holdout, random_state=seed,
                                             stratify=codes)
        sources.append({"name": name, "index": index, "classes": classes.tolist(), "X": X[..., None],
                        "series": series_of(X), "codes": codes.astype(np.int32), "fit": np.sort(fit_idx),
                        "held": np.sort(held_idx)})
    return sources


def source_draws(sizes, temperature: float) -> np.ndarray:
    """Series drawn from each source per epoch: as many in all as the sources hold, in proportion to
    ``size ** temperature`` (1: in proportion to size; 0: the same number from every source)."""
    sizes = np.asarray(sizes, np.float64)
    weights = sizes ** temperature
    return np.maximum(1, np.round(sizes.sum() * weights / weights.sum())).astype(int)


def epoch_batches(sources, offsets, batch_size, seed, epoch, temperature=0.5):
    """The epoch's batches ``(x, global_label, head)`` mixing sources, a pure function of ``(seed, epoch)``."""
    from builders.training import pad_batch

    rng = np.random.default_rng([seed, epoch])
    draws = source_draws([len(s["fit"]) for s in sources], temperature)
    picked = []
    for src, count in zip(sources, draws):
        cycles = -(-count // len(src["fit"]))
        order = np.concatenate([rng.permutation(src["fit"]) for _ in range(cycles)])[:count]
        picked += [(src["index"], int(i)) for i in order]
    picked = [picked[i] for i in rng.permutation(len(picked))]
    for start in range(0, len(picked), batch_size):
        chunk = picked[start: start + batch_size]
        x = pad_batch([sources[h]["series"][i] for h, i in chunk])
        labels = np.array([sources[h]["codes"][i] + offsets[h] for h, i in chunk], np.int32)
        heads = np.array([h for h, _ in chunk], np.int32)
        yield x, labels, heads


def statistics_batches(sources, offsets, batch_size, seed, count):
    """The fixed sample of mixed training batches that precise batch-norm statistics are computed over."""
    import itertools

    return list(itertools.islice(epoch_batches(sources, offsets, batch_size, seed + 10**6, 0), count))


def heldout_accuracies(model, sources, offsets, heads, batch_size=256, per_source_bn=True):
    """Per-source held-back accuracy of each head, with the model's inference statistics ("own") and, with
    ``per_source_bn``, with batch norm over each source's held-back part alone ("per_source": it does not depend on
    the moving statistics, so one call per set of weights is enough)."""
    from builders.training import pad_batch, predictor

    own, per_source = predictor(model), predictor(model, training=True)
    result = {"own": {}, "per_source": {}}
    for src in sources:
        held = [src["series"][i] for i in src["held"]]
        lo, hi = offsets[src["index"]], offsets[src["index"]] + heads[src["name"]]
        truth = src["codes"][src["held"]]
        logits = np.concatenate([own(pad_batch(held[i: i + batch_size]))
                                 for i in range(0, len(held), batch_size)])
        result["own"][src["name"]] = float(np.mean(logits[:, lo:hi].argmax(1) == truth))
        if not per_source_bn:
            continue
        logits = per_source(pad_batch(held))
        result["per_source"][src["name"]] = float(np.mean(logits[:, lo:hi].argmax(1) == truth))
    return result


def train(args):
    import keras

    from tszoo.architectures.convtimenet import build_convtimenet, build_multihead, head_offsets, multihead_loss
    from builders.data import archive_root, load_splits
    from builders.training import Trainer, batch_signature, default_strategy, hardware, scope, write_settings

    from tszoo.finetuning import cosine_schedule
    from tszoo.precision import bfloat16_hardware, body_in_precision, copy_state, resolve_precision

    args.precision = resolve_precision(args.precision)  # settings record what runs ("auto" as what it means here)
    if args.precision != "float32" and bfloat16_hardware() is False:
        import warnings

        warnings.warn(f"--precision {args.precision} on a machine without bfloat16 units: slower than float32 here",
                      UserWarning, stacklevel=2)

    keras.utils.set_random_seed(args.seed)
    names = load_splits(args.archive, args.splits)["sources"]
    sources = prepare_sources(names, args.archive, args.holdout, args.seed)
    heads = {s["name"]: len(s["classes"]) for s in sources}
    offsets = head_offsets(heads)
    columns = np.concatenate([np.full(n, i, np.int32) for i, n in enumerate(heads.values())])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    kernel_sizes = [int(k) for k in args.kernel_sizes.split(",")]
    draws = source_draws([len(s["fit"]) for s in sources], args.temperature)
    steps_per_epoch = -(-int(draws.sum()) // args.batch_size)
    settings = {k: getattr(args, k) for k in DEFAULTS} | {
        "kernel_sizes": kernel_sizes, "datasets": names, "heads": heads,
        "n_series": sum(len(s["fit"]) for s in sources), "n_held_back": sum(len(s["held"]) for s in sources),
        "draws_per_epoch": dict(zip(names, draws.tolist())), "steps_per_epoch": steps_per_epoch,
        "strategy": args.strategy, "hardware": hardware(), "archive": str(archive_root(args.archive)),
        "batches": f"sources mixed in every batch; source s drawn n_s ** {args.temperature} of the time",
        "loss_weighting": "mean over the batch of each example's cross-entropy under its own source's head",
        "optimizer": f"Adam, global-norm clipping at {args.clipnorm}, linear warm-up for {args.warmup_epochs} "
                     f"epoch(s) then cosine decay to 2% over {args.epochs} epochs",
        "selection": "highest mean held-back accuracy with the model's own inference statistics (precise BN over "
                     f"{args.precise_bn_batches} mixed training batches)",
    }
    settings = write_settings(out, settings, args.resume)

    strategy = default_strategy(args.strategy)
    with scope(strategy):
        body = build_convtimenet(kernel_sizes, args.filters, args.num_blocks, args.bottleneck)
        model = build_multihead(body, heads)
        if args.precision != "float32":  # the same network and initial weights, computing in bfloat16
            twin = build_multihead(body_in_precision(body, args.precision), heads)
            copy_state(model, twin)
            model = twin
        schedule = cosine_schedule(args.learning_rate, args.epochs * steps_per_epoch,
                                   round(args.warmup_epochs * steps_per_epoch))
        optimizer = keras.optimizers.Adam(schedule, global_clipnorm=args.clipnorm or None)

    from tszoo.finetuning import precise_batchnorm, saved_batchnorm

    stats_batches = statistics_batches(sources, offsets, args.batch_size, args.seed, args.precise_bn_batches)

    def validate():
        # training continues from the exponential averages; the precise ones are for evaluation (and publishing)
        with saved_batchnorm(model):
            ema = heldout_accuracies(model, sources, offsets, heads, per_source_bn=False)["own"]
            precise_batchnorm(model, stats_batches)
            acc = heldout_accuracies(model, sources, offsets, heads)
        mean = float(np.mean(list(acc["own"].values())))
        return {"heldout_accuracy": mean, "heldout_error": 1.0 - mean,
                "heldout_accuracy_per_source_bn": float(np.mean(list(acc["per_source"].values()))),
                "heldout_accuracy_moving_average_bn": float(np.mean(list(ema.values()))),
                **{f"acc/{k}": round(v, 4) for k, v in acc["own"].items()}}

    trainer = Trainer(model, optimizer, lambda b, logits: multihead_loss(logits, b[1], columns, b[2]), out,
                      inputs=lambda b: b[0], strategy=strategy, batch_signature=batch_signature(labels=True))
    began = time.time()
    history = trainer.fit(
        lambda epoch: epoch_batches(sources, offsets, args.batch_size, args.seed, epoch, args.temperature),
        args.epochs, resume=args.resume, monitor="heldout_error", validate=validate,
        verbose=0 if args.quiet else 1, steps_per_epoch=steps_per_epoch)
    print(f"trained {len(history)} epoch(s) in {time.time() - began:.0f} s; output in {out}")



def publish(args):
    from tszoo.architectures.convtimenet import build_convtimenet, build_multihead
    from builders.data import DEFAULT_MODELS
    from tszoo.publishing import publish_model
    from builders.training import read_history, timing

    run = Path(args.run)
    settings = json.loads((run / "settings.json").read_text())
    history = read_history(run)
    arch = {"kernel_sizes": settings["kernel_sizes"], "filters": settings["filters"],
            "num_blocks": settings["num_blocks"], "bottleneck": settings["bottleneck"]}
    body = build_convtimenet(**arch)  # float32, whatever precision trained the run: its weights are float32
    model = build_multihead(body, settings["heads"])
    model.load_weights(str(run / "best.weights.h5"))
    if settings.get("precise_bn_batches"):  # the statistics the selection measured, recomputed the same way
        from tszoo.architectures.convtimenet import head_offsets
        from tszoo.finetuning import precise_batchnorm

        sources = prepare_sources(settings["datasets"], args.archive or settings.get("archive"), settings["holdout"],
                                  settings["seed"])
        precise_batchnorm(model, statistics_batches(sources, head_offsets(settings["heads"]), settings["batch_size"],
                                                    settings["seed"], settings["precise_bn_batches"]))
    best = min(history, key=lambda r: r["heldout_error"])
    extra = json.loads(Path(args.card).read_text()) if args.card else {}
    per_source = {k[4:]: v for k, v in best.items() if k.startswith("acc/")}
    path = publish_model(
        body, args.name, architecture="convtimenet", root=args.root or DEFAULT_MODELS, version=args.version,
        description="ConvTimeNet (Kashiparekh et al. 2019): a deep 1-D CNN with filters of lengths "
                    f"{', '.join(map(str, arch['kernel_sizes']))} in every block, pretrained with one softmax head "
                    "per source dataset on 24 UCR datasets; fine-tune it with a new head on a new dataset.",
        builder={"function": "tszoo.architectures.convtimenet.build_convtimenet", "arguments": arch},
        training={**{k: v for k, v in settings.items() if k != "heads"}, "epochs_run": len(history),
                  "best_epoch": best["epoch"], **timing(history),
                  "history": [{k: v for k, v in r.items() if not k.startswith("acc/")} for r in history]},
        metrics={"source_heldout_accuracy_mean": best["heldout_accuracy"], **extra.get("metrics", {})},
        card_sections={"Per-source held-back accuracy": "| source | accuracy |\n|---|---|\n" + "\n".join(
            f"| {k} | {v:.4f} |" for k, v in per_source.items()), **extra.get("sections", {})},
        extra={"per_source_heldout_accuracy": per_source},
    )
    print(path)


def evaluate(args):
    """Held-back accuracy of a run's best weights with three kinds of batch-norm statistics (prints JSON)."""
    from tszoo.architectures.convtimenet import build_convtimenet, build_multihead, head_offsets
    from tszoo.finetuning import precise_batchnorm, saved_batchnorm

    run = Path(args.run)
    settings = json.loads((run / "settings.json").read_text())
    arch = {k: settings[k] for k in ("kernel_sizes", "filters", "num_blocks", "bottleneck")}
    model = build_multihead(build_convtimenet(**arch), settings["heads"])
    model.load_weights(str(run / (args.weights or "best.weights.h5")))
    sources = prepare_sources(settings["datasets"], args.archive or settings.get("archive"), settings["holdout"],
                              settings["seed"])
    offsets, heads = head_offsets(settings["heads"]), settings["heads"]
    mean = lambda d: float(np.mean(list(d.values())))  # noqa: E731
    with saved_batchnorm(model):
        acc = heldout_accuracies(model, sources, offsets, heads)
        precise_batchnorm(model, statistics_batches(sources, offsets, settings["batch_size"], settings["seed"],
                                                    settings.get("precise_bn_batches", 64)))
        precise = heldout_accuracies(model, sources, offsets, heads, per_source_bn=False)["own"]
    print(json.dumps({"run": str(run), "moving_average_bn": mean(acc["own"]), "precise_bn": mean(precise),
                      "per_source_bn": mean(acc["per_source"]), "per_source": {
                          k: {"moving_average": acc["own"][k], "precise": precise[k], "per_source": v}
                          for k, v in acc["per_source"].items()}}, indent=2))


def main(argv=None):
    from builders.training import recipe_parser

    parser, t = recipe_parser("python -m builders.convtimenet", __doc__, "convtimenet", DEFAULTS)
    t.add_argument("--kernel-sizes", default=KERNEL_SIZES, help="comma-separated filter lengths")
    from tszoo.precision import PRECISIONS

    t._option_string_actions["--precision"].choices = PRECISIONS
    t._option_string_actions["--precision"].help = ("float32; mixed_bfloat16: the body computes in bfloat16 on "
                                                    "float32 weights (faster on hardware with bfloat16 units); "
                                                    "auto: mixed_bfloat16 where this machine has them")
    e = parser._subparsers._group_actions[0].add_parser(
        "evaluate", help="held-back accuracy of a run's best weights under three kinds of batch-norm statistics")
    e.add_argument("--run", default="runs/convtimenet")
    e.add_argument("--weights", default=None, help="a weights file in the run (default best.weights.h5)")
    e.add_argument("--archive", default=None)
    args = parser.parse_args(argv)
    {"train": train, "publish": publish, "evaluate": evaluate}[args.command](args)

if __name__ == "__main__":
    main()
