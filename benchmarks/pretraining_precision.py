"""ConvTimeNet pretraining steps in bfloat16 against float32: seconds per step of the recipe's own network and
batches, on this machine and backend.

    python -m benchmarks.pretraining_precision [--steps 20] [--rounds 4] [--out bench_out/pretraining_precision]
    KERAS_BACKEND=jax python -m benchmarks.pretraining_precision ...      # the GPU machine's backend

Builds ``builders.convtimenet``'s network with its defaults (or ``--filters`` ...) once per precision, draws epoch
0's mixed-source batches of the 24 sources (the archive: ``--archive`` or ``$TSZOO_UCR_ROOT``) and runs the same
batches through each precision's training step, ``--steps`` at a time, the precisions taking turns for
``--rounds`` rounds (so a neighbour on the machine slows both alike). The first round is tracing and warm-up and is
not timed. Prints a table (median seconds per step of the timed rounds, the ratio, and each precision's mean loss
over the same steps as a check that both train the same network) and writes it with the machine's record as
markdown and JSON. This times steps only; what a whole run costs is in a run's ``history.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from itertools import islice
from pathlib import Path

import numpy as np


def main(argv=None):
    from builders.convtimenet import DEFAULTS, KERNEL_SIZES

    parser = argparse.ArgumentParser(prog="python -m benchmarks.pretraining_precision", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", default=None)
    parser.add_argument("--splits", default=None)
    parser.add_argument("--steps", type=int, default=20, help="steps per precision per round")
    parser.add_argument("--rounds", type=int, default=4, help="rounds; the first is warm-up and not timed")
    parser.add_argument("--kernel-sizes", default=KERNEL_SIZES)
    for key in ("filters", "num_blocks", "bottleneck", "batch_size"):
        parser.add_argument(f"--{key.replace('_', '-')}", type=int, default=DEFAULTS[key])
    parser.add_argument("--out", default="bench_out/pretraining_precision")
    args = parser.parse_args(argv)
    if args.rounds < 2 or args.steps < 1:
        parser.error(f"--rounds {args.rounds} --steps {args.steps}: need at least 2 rounds (the first is not "
                     "timed) and 1 step")

    import keras

    from benchmarks.common import machine, machine_label
    from builders.convtimenet import epoch_batches, prepare_sources
    from builders.data import load_splits
    from builders.training import Trainer, batch_signature
    from tszoo.architectures.convtimenet import build_convtimenet, build_multihead, head_offsets, multihead_loss
    from tszoo.finetuning import cosine_schedule
    from tszoo.precision import bfloat16_hardware, body_in_precision, copy_state

    names = load_splits(args.archive, args.splits)["sources"]
    sources = prepare_sources(names, args.archive, DEFAULTS["holdout"], DEFAULTS["seed"])
    heads = {s["name"]: len(s["classes"]) for s in sources}
    offsets = head_offsets(heads)
    columns = np.concatenate([np.full(n, i, np.int32) for i, n in enumerate(heads.values())])
    needed = args.rounds * args.steps
    batches = list(islice(epoch_batches(sources, offsets, args.batch_size, DEFAULTS["seed"], 0,
                                        DEFAULTS["temperature"]), needed))
    if len(batches) < needed:
        parser.error(f"epoch 0 has {len(batches)} batches; --rounds x --steps asks for {needed}")
    kernel_sizes = [int(k) for k in args.kernel_sizes.split(",")]

    compared = ("float32", "mixed_bfloat16")
    steppers, work = {}, tempfile.mkdtemp(prefix="pretraining_precision_")
    keras.utils.set_random_seed(0)
    reference = build_multihead(build_convtimenet(kernel_sizes, args.filters, args.num_blocks, args.bottleneck), heads)
    for precision in compared:
        body = build_convtimenet(kernel_sizes, args.filters, args.num_blocks, args.bottleneck)
        model = build_multihead(body_in_precision(body, precision), heads)
        copy_state(reference, model)  # the same initial weights in both
        optimizer = keras.optimizers.Adam(cosine_schedule(DEFAULTS["learning_rate"], 10_000, 100),
                                          global_clipnorm=DEFAULTS["clipnorm"])
        trainer = Trainer(model, optimizer, lambda b, logits: multihead_loss(logits, b[1], columns, b[2]),
                          Path(work) / precision, inputs=lambda b: b[0],
                          batch_signature=batch_signature(labels=True))
        steppers[precision] = trainer.step
    seconds = {p: [] for p in compared}
    losses = {p: [] for p in compared}
    for r in range(args.rounds):
        chunk = batches[r * args.steps: (r + 1) * args.steps]
        for precision, step in steppers.items():
            values = []
            began = time.perf_counter()
            step.run_epoch(iter(chunk), values.append)
            spent = time.perf_counter() - began
            if r > 0:
                seconds[precision].append(spent / len(chunk))
                losses[precision] += values
            print(f"round {r + 1}/{args.rounds} {precision}: {spent / len(chunk):.3f} s/step"
                  f"{'' if r else ' (warm-up, not timed)'}", flush=True)

    here = machine()
    rows = [{"precision": p, "seconds_per_step": float(np.median(seconds[p])),
             "mean_loss": float(np.mean(losses[p])), "timed_steps": len(losses[p])} for p in compared]
    base = rows[0]["seconds_per_step"]
    for row in rows:
        row["relative_to_float32"] = row["seconds_per_step"] / base
    network = (f"kernel sizes {kernel_sizes}, filters {args.filters}, blocks {args.num_blocks}, bottleneck "
               f"{args.bottleneck}, batch {args.batch_size} (mixed sources, NaN-padded to each batch's longest)")
    lines = ["# ConvTimeNet pretraining step: bfloat16 against float32", "",
             f"Network: {network}; {len(names)} sources, epoch 0's first {needed} batches; {args.rounds - 1} timed "
             f"rounds of {args.steps} steps per precision, taking turns.", "",
             f"Machine: {machine_label(here)}; bfloat16 units: {bfloat16_hardware()}", "",
             "| precision | s / step (median of rounds) | x float32 | mean loss, same steps |", "|---|---|---|---|"]
    lines += [f"| {r['precision']} | {r['seconds_per_step']:.3f} | {r['relative_to_float32']:.2f} | "
              f"{r['mean_loss']:.4f} |" for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pretraining_precision.md").write_text(text)
    (out / "pretraining_precision.json").write_text(json.dumps(
        {"rows": rows, "network": network, "machine": here, "bfloat16_hardware": bfloat16_hardware(),
         "rounds": args.rounds, "steps": args.steps}, indent=2))
    return rows


if __name__ == "__main__":
    main()
