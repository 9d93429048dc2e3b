"""What one fine-tuning step costs on this machine, apart from what a fit pays once.

For a few series lengths and batch sizes, ``ConvTimeNetClassifier`` (convtimenet by default, today's recipe) is
fitted on random series with 50 and with 250 steps (after a first fit that traces the step; the fastest of two
fits of each); the difference over 200 steps is the cost of a step, the rest of the 50-step fit is what a fit pays
once (building the network, batch-norm statistics, the probe head, copying weights). The smallest shape shows the floor: the ~2,500
operations of a traced train step, run one by one whatever the data. Prints a markdown table.

    python -m benchmarks.finetune_step_cost [--shapes 8x2,96x4,300x4,470x4] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="convtimenet")
    parser.add_argument("--shapes", default="8x2,96x4,300x4,470x4", help="LENGTHxBATCH, comma-separated")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow threads (few_labels' workers use 1)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(args.threads))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", str(args.threads))
    import numpy as np

    from tszoo.estimators import ConvTimeNetClassifier

    rng = np.random.default_rng(0)
    lines = ["| series length | batch | ms a step | s a fit pays once |", "|---|---|---|---|"]
    for shape in args.shapes.split(","):
        length, batch = (int(v) for v in shape.split("x"))
        X, y = rng.standard_normal((batch, length)), np.arange(batch) % 2
        took = {50: float("inf"), 250: float("inf")}
        for steps in (50, 50, 250, 50, 250):  # the first fit traces the step; the fastest of two counts
            clf = ConvTimeNetClassifier(model=args.model, epochs=steps, max_steps=steps, batch_size=batch,
                                        random_state=0)
            began = time.perf_counter()
            clf.fit(X, y)
            took[steps] = min(took[steps], time.perf_counter() - began)
        step = (took[250] - took[50]) / 200
        lines.append(f"| {length} | {batch} | {1000 * step:.1f} | {took[50] - 50 * step:.2f} |")
        print(lines[-1], flush=True)
    print("\n".join(lines))
    return lines


if __name__ == "__main__":
    main()
