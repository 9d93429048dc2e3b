"""TimeNet pretraining recipe: ``python -m builders.timenet train --out runs/timenet``.

Unsupervised, on every series (train and test splits) of the 18 ``timenet_train`` datasets. After every epoch
(every ``--validate-every`` epochs and after the last: on a GPU the validation takes four times an epoch's steps)
two validations on the 6 ``timenet_validation`` datasets (never test sets): the reconstruction error on all
their series, and TN-C's error (an SVM on the embeddings of each one's official training split, scored on its
test split; they are labelled). The weights of the epoch with the lowest of each are kept (``best.weights.h5``,
``best_tnc.weights.h5``); ``publish --select tnc|mse`` writes one into ``savedmodels/timenet/<version>``.

A continued pretraining starts from a published encoder: ``--init-encoder timenet`` copies its GRU weights (the
decoder starts fresh), ``--freeze-encoder`` trains the decoder alone (a first phase, so that a random decoder's
gradients do not move the encoder), and a second run with ``--init <first run>`` trains both. ``--keep-every N``
keeps every N-th epoch's checkpoint, so that the epoch can be chosen afterwards by another measurement
(``publish --checkpoint``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np


DEFAULTS = dict(units=60, num_layers=3, dropout=0.4, learning_rate=0.002, batch_size=128, epochs=80, seed=0,
                clipnorm=1.0, warmup_epochs=1.0, validate_every=1)


def validation_error(autoencoder, series, batch_size=256):
    """Mean per-series reconstruction MSE (standardised units) over the validation series."""
    from tszoo.architectures.timenet import reconstruction_loss
    from builders.training import length_bucketed, predictor

    predict = predictor(autoencoder)
    total, n = 0.0, 0
    for batch in length_bucketed(series, batch_size, seed=0, epoch=0):
        losses = np.asarray(reconstruction_loss(batch, predict(batch)[:, : batch.shape[1]]))
        total += float(losses.sum())
        n += len(losses)
    return total / n


VALIDATION_POOLING = "last+mean"


class ValidationTNC:
    """TN-C error on the validation datasets after each epoch; keeps the weights of the lowest in
    ``best_tnc.weights.h5`` (the best so far is read back from ``history.jsonl`` on resume).

    TN-C on each layer's final state and its time mean (``VALIDATION_POOLING``: ``TimeNetClassifier()``'s features
    from 2026-11-25 to 2026-12-07, before that the final states alone; kept since, so that every run's history
    reads on one scale), all layers, the SVM chosen by 3-fold CV."""

    def __init__(self, names, archive, out: Path, model):
        from tszoo.datasets import load_ucr

        self.data = {n: (*load_ucr(n, "train", root=archive), *load_ucr(n, "test", root=archive)) for n in names}
        self.out, self.model = out, model
        from builders.training import read_history

        done = [r["val_tnc_error"] for r in read_history(out) if "val_tnc_error" in r] if (
            out / "history.jsonl").exists() else []
        self.best = min(done) if done else float("inf")

    def __call__(self, encoder) -> dict:
        from tszoo.architectures.timenet import timenet_features
        from tszoo.checkpointing import replace_atomically
        from tszoo.estimators import TimeNetClassifier
        from tszoo.inference import embed

        errors = {}
        pooling = VALIDATION_POOLING
        features = timenet_features(encoder, pooling)  # the live encoder's layers: today's weights
        for name, (X, y, Xt, yt) in self.data.items():
            clf = TimeNetClassifier(layers=None, cv=3, probability=False, random_state=0, pooling=pooling,
                                    inputs="series")
            clf.fit_embeddings(embed(features, X), y)
            errors[name] = float(np.mean(clf.predict_embeddings(embed(features, Xt)) != yt))
        mean = float(np.mean(list(errors.values())))
        if mean < self.best:
            self.best = mean
            replace_atomically(self.out / "best_tnc.weights.h5", lambda tmp: self.model.save_weights(str(tmp)))
        return {"val_tnc_error": mean, **{f"tnc/{n}": round(e, 4) for n, e in errors.items()}}


def copy_encoder(source, encoder) -> list[str]:
    """Assign the GRU weights of ``source`` (a TimeNet encoder: a published one, loaded) to ``encoder``, layer by
    layer by name; returns the names of the layers copied. Refuses another architecture."""
    copied = []
    for layer in encoder.layers:
        if not layer.weights:
            continue
        try:
            other = source.get_layer(layer.name)
        except ValueError:
            raise ValueError(f"the encoder to start from has no layer {layer.name!r}: it is not a TimeNet encoder "
                             f"of this architecture (its layers: {[l.name for l in source.layers]})") from None
        if [tuple(w.shape) for w in other.weights] != [tuple(w.shape) for w in layer.weights]:
            raise ValueError(f"layer {layer.name!r}: the encoder to start from has weights of shapes "
                             f"{[tuple(w.shape) for w in other.weights]}, this one "
                             f"{[tuple(w.shape) for w in layer.weights]}: build it with the same units")
        layer.set_weights(other.get_weights())
        copied.append(layer.name)
    return copied


def train(args):
    import keras

    from builders.data import archive_root, load_all_series, load_splits, series_of
    from tszoo.architectures.timenet import build_timenet, reconstruction_loss
    from builders.training import (Trainer, batch_signature, default_strategy, hardware, length_bucketed, scope,
                                   write_settings)

    from tszoo.finetuning import cosine_schedule

    if args.init and args.init_encoder:
        raise SystemExit("--init and --init-encoder: give one (an earlier run's autoencoder, or a published encoder)")
    if args.freeze_encoder and not (args.init or args.init_encoder):
        raise SystemExit("--freeze-encoder trains the decoder of a given encoder: add --init-encoder or --init")
    if args.keep_every < 0:
        raise SystemExit(f"--keep-every {args.keep_every}: expected 0 (only the newest two) or a number of epochs")
    init_encoder = None
    if args.init_encoder:
        from tszoo.registry import architecture_of, info

        card = info(args.init_encoder)
        if architecture_of(card) != "timenet":
            raise SystemExit(f"--init-encoder {args.init_encoder}: a {architecture_of(card)} model, not TimeNet")
        init_encoder = f"{card['name']}/{card['version']}"
    keras.utils.set_random_seed(args.seed)
    splits = load_splits(args.archive, args.splits)
    train_names, val_names = splits["timenet_train"], splits["timenet_validation"]
    train_series = [s for X, _ in load_all_series(train_names, args.archive).values() for s in series_of(X)]
    val_series = [s for X, _ in load_all_series(val_names, args.archive).values() for s in series_of(X)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    steps_per_epoch = sum(1 for _ in length_bucketed(train_series, args.batch_size, args.seed, 0))
    settings = {k: getattr(args, k) for k in DEFAULTS} | {
        "train_datasets": train_names, "validation_datasets": val_names,
        "n_train_series": len(train_series), "n_validation_series": len(val_series),
        "steps_per_epoch": steps_per_epoch, "strategy": args.strategy, "init": args.init,
        "init_encoder": init_encoder, "freeze_encoder": args.freeze_encoder, "keep_every": args.keep_every,
        "hardware": hardware(),
        "optimizer": f"Adam, global-norm clipping at {args.clipnorm}, linear warm-up for {args.warmup_epochs} "
                     f"epoch(s) then cosine decay to 2% over {args.epochs} epochs",
        "dropout_placement": "between GRU layers only (never on the series: one mask per sequence would drop "
                             "whole series)",
    }
    settings = write_settings(out, settings, args.resume)

    strategy = default_strategy(args.strategy)
    with scope(strategy):
        autoencoder, encoder = build_timenet(args.units, args.num_layers, args.dropout)
        if args.init_encoder:
            from tszoo.registry import load

            copy_encoder(load(args.init_encoder), encoder)
        if args.freeze_encoder:
            encoder.trainable = False  # before the optimizer is built on the trainable variables
        schedule = cosine_schedule(args.learning_rate, args.epochs * steps_per_epoch,
                                   round(args.warmup_epochs * steps_per_epoch))
        optimizer = keras.optimizers.Adam(schedule, global_clipnorm=args.clipnorm or None)
    if args.init:
        # A later phase of a schedule: start from an earlier run's best weights (recorded in settings.json).
        autoencoder.load_weights(str(Path(args.init) / "best.weights.h5"))
    trainer = Trainer(autoencoder, optimizer, lambda batch, out: reconstruction_loss(batch, out), out,
                      strategy=strategy, batch_signature=batch_signature(), keep_every=args.keep_every)
    tnc = ValidationTNC(val_names, archive_root(args.archive), out, autoencoder)
    began = time.time()
    history = trainer.fit(
        lambda epoch: length_bucketed(train_series, args.batch_size, args.seed, epoch),
        args.epochs, resume=args.resume, monitor="val_reconstruction_mse",
        validate=lambda: {"val_reconstruction_mse": validation_error(autoencoder, val_series), **tnc(encoder)},
        verbose=0 if args.quiet else 1, steps_per_epoch=steps_per_epoch, validate_every=args.validate_every)
    print(f"trained {len(history)} epoch(s) in {time.time() - began:.0f} s; output in {out}")



def _phases(run: Path):
    """The run and the earlier runs it started from (``--init``), oldest first: ``[(settings, history), ...]``."""
    from builders.training import read_history

    phases = []
    while run is not None:
        settings = json.loads((run / "settings.json").read_text())
        phases.insert(0, (settings, read_history(run)))
        run = Path(settings["init"]) if settings.get("init") else None
    return phases


def publish(args):
    from builders.data import DEFAULT_MODELS
    from tszoo.architectures.timenet import build_timenet
    from tszoo.publishing import publish_model
    from builders.training import timing

    run = Path(args.run)
    phases = _phases(run)
    settings = phases[-1][0]
    history = [dict(r, phase=i + 1) for i, (_, h) in enumerate(phases) for r in h]
    autoencoder, encoder = build_timenet(settings["units"], settings["num_layers"], settings["dropout"])
    last = phases[-1][1]
    validated = [r for r in last if "val_reconstruction_mse" in r]
    if not validated and not args.checkpoint:
        raise SystemExit(f"no epoch of {run} was validated yet; train on, or publish a --checkpoint")
    with_tnc = [r for r in last if "val_tnc_error" in r]
    select = "checkpoint" if args.checkpoint else args.select or ("tnc" if with_tnc else "mse")
    if select == "checkpoint":
        from tszoo.checkpointing import load_model_values

        best = next((r for r in last if r["epoch"] == args.checkpoint), None)
        path = run / "checkpoints" / f"ckpt-{args.checkpoint}.npz"
        if best is None or not path.exists():
            raise SystemExit(f"--checkpoint {args.checkpoint}: {path} or its epoch's record in {run} is missing")
        load_model_values(path, autoencoder)
    elif select == "tnc":
        if not with_tnc:
            raise SystemExit(f"--select tnc: no epoch of {run} recorded a validation TN-C error")
        best = min(with_tnc, key=lambda r: r["val_tnc_error"])
        autoencoder.load_weights(str(run / "best_tnc.weights.h5"))
    else:
        best = min(validated, key=lambda r: r["val_reconstruction_mse"])
        autoencoder.load_weights(str(run / "best.weights.h5"))
    extra = json.loads(Path(args.card).read_text()) if args.card else {}
    schedule = "; ".join(f"phase {i + 1}: Adam lr {s['learning_rate']}, batch {s['batch_size']}, "
                         f"{len(h)} epoch(s)" + (" from phase {}'s best epoch".format(i) if s.get("init") else "")
                         + (f" from {s['init_encoder']}'s encoder, decoder fresh" if s.get("init_encoder") else "")
                         + (", encoder frozen (decoder alone)" if s.get("freeze_encoder") else "")
                         for i, (s, h) in enumerate(phases))
    path = publish_model(
        encoder, args.name, architecture="timenet", root=args.root or DEFAULT_MODELS, version=args.version,
        description="TimeNet (Malhotra et al. 2017): a 3-layer GRU sequence autoencoder pretrained without labels "
                    "on 18 UCR datasets; its encoder embeds a univariate series of any length into 180 numbers.",
        builder={"function": "tszoo.architectures.timenet.build_timenet",
                 "arguments": {k: settings[k] for k in ("units", "num_layers", "dropout")}},
        training={"datasets": settings["train_datasets"], **{k: v for k, v in settings.items() if k != "init"},
                  "schedule": schedule, "epochs_run": len(history), "best_epoch_of_last_phase": best["epoch"],
                  "selection": (args.selection_note or f"epoch {args.checkpoint}'s checkpoint") if select ==
                  "checkpoint" else "the epoch with the lowest " + (
                      "TN-C error on the validation datasets (official train/test splits), among the epochs that "
                      f"recorded it ({len(with_tnc)} of {len(last)})" if select == "tnc"
                      else "reconstruction MSE on the validation datasets' series, among the epochs that "
                      f"recorded it ({len(validated)} of {len(last)})"),
                  **timing(history), "history": history},
        metrics={**({"validation_reconstruction_mse": best["val_reconstruction_mse"]}
                    if "val_reconstruction_mse" in best else {}),
                 **({"best_validation_reconstruction_mse": min(r["val_reconstruction_mse"] for r in validated)}
                    if validated else {}),
                 **({"validation_tnc_error": best["val_tnc_error"],
                     "validation_tnc_error_per_dataset": {k[4:]: v for k, v in best.items() if k.startswith("tnc/")}}
                    if "val_tnc_error" in best else {}),
                 **extra.get("metrics", {})},
        card_sections=extra.get("sections", {}),
    )
    print(path)


def main(argv=None):
    from builders.training import recipe_parser

    parser, t = recipe_parser("python -m builders.timenet", __doc__, "timenet", DEFAULTS)
    t.add_argument("--init", default=None, help="start from the best weights of this earlier run (a second phase)")
    t.add_argument("--init-encoder", default=None,
                   help="start the encoder from this published TimeNet (a name or a version folder); decoder fresh")
    t.add_argument("--freeze-encoder", action="store_true", help="train the decoder alone")
    t.add_argument("--keep-every", type=int, default=0,
                   help="also keep every N-th epoch's checkpoint (default 0: only the newest two)")
    parser.publish_parser.add_argument("--select", choices=["tnc", "mse"], default=None,
                                help="which validation picks the epoch (default: tnc when the run recorded it)")
    parser.publish_parser.add_argument("--checkpoint", type=int, default=None,
                                       help="publish this epoch's checkpoint (checkpoints/ckpt-N.npz) instead")
    parser.publish_parser.add_argument("--selection-note", default=None,
                                       help="with --checkpoint: how that epoch was chosen, for the card")
    args = parser.parse_args(argv)
    {"train": train, "publish": publish}[args.command](args)

if __name__ == "__main__":
    main()
