"""ConvTimeNet pretraining recipe: ``python -m builders.convtimenet train --out runs/convtimenet``.

One body, one softmax head per source dataset (the 24 ``sources`` of splits.json, train and test splits both;
sources are never evaluated on). 10% of each source, stratified, is held back to report per-source accuracy.

How batches are drawn: every epoch visits each (non-held-back) source series once. Each dataset's series are
shuffled and cut into batches of ``batch_size`` from that dataset alone (so no padding), and the batches of all
datasets are then shuffled together: a dataset is drawn in proportion to its size. Loss weighting: every batch's
loss is the mean cross-entropy of its own head, all heads weighted equally per example.
The order is a pure function of ``(seed, epoch)``, so ``--resume`` replays exactly.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np

DEFAULTS = dict(filters=32, num_blocks=4, bottleneck=32, learning_rate=0.001, batch_size=64, epochs=20, seed=0,
                holdout=0.1)
KERNEL_SIZES = "8,16,32,64"


def prepare_sources(names, archive, holdout, seed):
    """Per source: encoded labels, a stratified held-back part, and the head's class list."""
    from sklearn.model_selection import train_test_split

    from builders.data import load_all_series

    data = load_all_series(names, archive)
    sources = []
    for index, name in enumerate(names):
        X, y = data[name]
        classes, codes = np.unique(y, return_inverse=True)
        fit_idx, held_idx = train_test_split(np.arange(len(y)), test_size=holdout, random_state=seed,
                                             stratify=codes)
        sources.append({"name": name, "index": index, "classes": classes.tolist(), "X": X[..., None],
                        "codes": codes.astype(np.int32), "fit": np.sort(fit_idx), "held": np.sort(held_idx)})
    return sources


def epoch_batches(sources, offsets, batch_size, seed, epoch):
    """The epoch's batches ``(x, global_label, head)``, a pure function of ``(seed, epoch)``."""
    rng = np.random.default_rng([seed, epoch])
    batches = []
    for src in sources:
        order = rng.permutation(src["fit"])
        for start in range(0, len(order), batch_size):
            idx = order[start: start + batch_size]
            batches.append((src["index"], idx))
    rng.shuffle(batches)
    for head, idx in batches:
        src = sources[head]
        yield (src["X"][idx], (src["codes"][idx] + offsets[head]).astype(np.int32),
               np.full(len(idx), head, np.int32))


def train(args):
    import keras
    import tensorflow as tf

    from builders.convtimenet_model import build_convtimenet, build_multihead, head_offsets, multihead_loss
    from builders.data import load_splits
    from builders.training import Trainer, default_strategy

    keras.utils.set_random_seed(args.seed)
    names = load_splits(args.archive, args.splits)["sources"]
    sources = prepare_sources(names, args.archive, args.holdout, args.seed)
    heads = {s["name"]: len(s["classes"]) for s in sources}
    offsets = head_offsets(heads)
    head_of_column = np.concatenate([np.full(n, i, np.int32) for i, n in enumerate(heads.values())])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    kernel_sizes = [int(k) for k in args.kernel_sizes.split(",")]
    settings = {k: getattr(args, k) for k in DEFAULTS} | {
        "kernel_sizes": kernel_sizes, "datasets": names, "heads": heads,
        "n_series": sum(len(s["fit"]) for s in sources), "n_held_back": sum(len(s["held"]) for s in sources),
        "strategy": args.strategy,
        "hardware": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, no GPU",
        "batches": "one dataset per batch, all datasets' batches shuffled together (drawn in proportion to size)",
        "loss_weighting": "mean cross-entropy of the batch's own head; all heads weighted equally per example",
    }
    (out / "settings.json").write_text(json.dumps(settings, indent=2))

    strategy = default_strategy(args.strategy)
    with strategy.scope():
        body = build_convtimenet(kernel_sizes, args.filters, args.num_blocks, args.bottleneck)
        model = build_multihead(body, heads)
        optimizer = keras.optimizers.Adam(args.learning_rate)
    columns = tf.constant(head_of_column)

    def per_example_loss(m, batch, training):
        x, labels, head = batch
        return multihead_loss(m(x, training=training), labels, columns, head)

    signature = (tf.TensorSpec([None, None, 1], tf.float32), tf.TensorSpec([None], tf.int32),
                 tf.TensorSpec([None], tf.int32))

    def make_dataset(epoch):
        ds = tf.data.Dataset.from_generator(
            lambda: epoch_batches(sources, offsets, args.batch_size, args.seed, epoch), output_signature=signature)
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return ds.with_options(options).prefetch(2)

    predict = tf.function(lambda x: model(x, training=False),
                          input_signature=[tf.TensorSpec([None, None, 1], tf.float32)])

    def validate():
        accuracies = {}
        for src in sources:
            logits = np.concatenate([predict(src["X"][src["held"][i: i + 256]]).numpy()
                                     for i in range(0, len(src["held"]), 256)])
            own = logits[:, offsets[src["index"]]: offsets[src["index"]] + heads[src["name"]]]
            accuracies[src["name"]] = float(np.mean(own.argmax(1) == src["codes"][src["held"]]))
        mean = float(np.mean(list(accuracies.values())))
        return {"heldout_accuracy": mean, "heldout_error": 1.0 - mean,
                **{f"acc/{k}": round(v, 4) for k, v in accuracies.items()}}

    steps = sum(-(-len(s["fit"]) // args.batch_size) for s in sources)
    trainer = Trainer(model, optimizer, per_example_loss, out, strategy=strategy, batch_signature=signature)
    began = time.time()
    history = trainer.fit(make_dataset, args.epochs, resume=args.resume, monitor="heldout_error",
                          validate=validate, verbose=0 if args.quiet else 1, steps_per_epoch=steps)
    print(f"trained {len(history)} epoch(s) in {time.time() - began:.0f} s; output in {out}")


def publish(args):
    from builders.convtimenet_model import build_convtimenet, build_multihead
    from builders.data import DEFAULT_MODELS
    from tszoo.publishing import publish_model
    from builders.training import read_history

    run = Path(args.run)
    settings = json.loads((run / "settings.json").read_text())
    history = read_history(run)
    arch = {"kernel_sizes": settings["kernel_sizes"], "filters": settings["filters"],
            "num_blocks": settings["num_blocks"], "bottleneck": settings["bottleneck"]}
    body = build_convtimenet(**arch)
    model = build_multihead(body, settings["heads"])
    model.load_weights(str(run / "best.weights.h5"))
    best = min(history, key=lambda r: r["heldout_error"])
    extra = json.loads(Path(args.card).read_text()) if args.card else {}
    per_source = {k[4:]: v for k, v in best.items() if k.startswith("acc/")}
    path = publish_model(
        body, args.name, root=args.root or DEFAULT_MODELS, version=args.version,
        description="ConvTimeNet (Kashiparekh et al. 2019): a deep 1-D CNN with filters of lengths "
                    f"{', '.join(map(str, arch['kernel_sizes']))} in every block, pretrained with one softmax head "
                    "per source dataset on 24 UCR datasets; fine-tune it with a new head on a new dataset.",
        builder={"function": "builders.convtimenet_model.build_convtimenet", "arguments": arch},
        training={**{k: v for k, v in settings.items() if k != "heads"}, "epochs_run": len(history),
                  "best_epoch": best["epoch"], "wall_time_s": round(sum(r["seconds"] for r in history)),
                  "history": [{k: v for k, v in r.items() if not k.startswith("acc/")} for r in history]},
        metrics={"source_heldout_accuracy_mean": best["heldout_accuracy"], **extra.get("metrics", {})},
        card_sections={"Per-source held-back accuracy": "| source | accuracy |\n|---|---|\n" + "\n".join(
            f"| {k} | {v:.4f} |" for k, v in per_source.items()), **extra.get("sections", {})},
        extra={"per_source_heldout_accuracy": per_source},
    )
    print(path)


def main(argv=None):
    from builders.training import recipe_parser

    parser, t = recipe_parser("python -m builders.convtimenet", __doc__, "convtimenet", DEFAULTS)
    t.add_argument("--kernel-sizes", default=KERNEL_SIZES, help="comma-separated filter lengths")
    args = parser.parse_args(argv)
    {"train": train, "publish": publish}[args.command](args)

if __name__ == "__main__":
    main()
