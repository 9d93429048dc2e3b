"""Embedding throughput on this CPU: series per second at length 512, batch 1 and batch 256.

    python -m benchmarks.embedding_throughput [--models timenet,convtimenet] [--length 512]

Prints, per model: latency at batch 1 (p50/p99), series/s at batch 1 and 256, the model's FLOPs per series
(counted from its layers: multiply-adds x 2 of the GRUs, convolutions and dense layers) and the achieved FLOP/s
as a fraction of this machine's float32 matmul peak (measured here with a large matmul), so the distance to the
machine's limit is visible. Uses the same traced call as the estimators (tszoo.estimators.compiled).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def flops_per_step(model) -> float:
    """FLOPs per time step (2 x multiply-adds) of the GRU, Conv1D and Dense layers, nested models included."""
    import keras

    total = 0.0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += flops_per_step(layer)
        elif isinstance(layer, keras.layers.GRU):
            units = layer.units
            inputs = layer.cell.kernel.shape[0]
            total += 2 * 3 * (inputs + units) * units
        elif isinstance(layer, keras.layers.Conv1D):
            k, cin, cout = layer.kernel.shape
            total += 2 * k * cin * cout
    return total


def matmul_peak(seconds: float = 3.0) -> float:
    """float32 FLOP/s of a 2048 x 2048 matmul with TensorFlow on this machine."""
    import tensorflow as tf

    a = tf.random.normal([2048, 2048])
    b = tf.random.normal([2048, 2048])
    f = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    f()
    n, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        f().numpy()
        n += 1
    return 2 * 2048 ** 3 * n / (time.perf_counter() - began)


def measure(model, length: int, batch: int, min_seconds: float = 5.0, min_calls: int = 5):
    from tszoo.inference import compiled

    call = compiled(model)
    x = np.random.default_rng(0).normal(size=(batch, length, 1)).astype(np.float32)
    call(x)  # trace and warm up
    times = []
    began = time.perf_counter()
    while len(times) < min_calls or time.perf_counter() - began < min_seconds:
        t = time.perf_counter()
        call(x)
        times.append(time.perf_counter() - t)
    times = np.array(times)
    return {"p50_ms": 1e3 * np.percentile(times, 50), "p99_ms": 1e3 * np.percentile(times, 99),
            "series_per_s": batch / times.mean(), "calls": len(times)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="timenet,convtimenet")
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--batches", default="1,256")
    args = parser.parse_args(argv)

    from tszoo.inference import load_cached

    peak = matmul_peak()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores; float32 matmul "
          f"peak {peak / 1e9:.1f} GFLOP/s")
    print("| model | batch | p50 ms | p99 ms | series/s | MFLOP/series | GFLOP/s | % of peak |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.models.split(","):
        model = load_cached(name)
        flops = flops_per_step(model) * args.length
        for batch in map(int, args.batches.split(",")):
            r = measure(model, args.length, batch)
            achieved = r["series_per_s"] * flops
            print(f"| {name} | {batch} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['series_per_s']:.1f} | "
                  f"{flops / 1e6:.1f} | {achieved / 1e9:.2f} | {100 * achieved / peak:.1f}% |", flush=True)


if __name__ == "__main__":
    main()
