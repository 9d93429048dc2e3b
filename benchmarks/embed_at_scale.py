"""Embedding a large collection streams in batches: throughput and peak memory as the collection grows.

    python -m benchmarks.embed_at_scale [--models timenet,convtimenet] [--total 100000] [--length 512]

Series are generated chunk by chunk (random walks of length 512, some shorter and NaN-padded) and embedded with
``tszoo.estimators.embed_stream``; the process's peak resident memory is read after 10%, 50% and 100% of the
collection. Flat peak memory means the collection is streamed, not held.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def chunks(total, chunk, length, seed=0):
    rng = np.random.default_rng(seed)
    for start in range(0, total, chunk):
        n = min(chunk, total - start)
        x = np.cumsum(rng.normal(size=(n, length)), axis=1).astype(np.float32)
        short = rng.random(n) < 0.25
        cut = rng.integers(length // 2, length, size=n)
        for i in np.flatnonzero(short):
            x[i, cut[i]:] = np.nan
        yield x


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="timenet,convtimenet")
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=2048)
    parser.add_argument("--length", type=int, default=512)
    args = parser.parse_args(argv)

    from tszoo.inference import embed_stream, load_cached

    print("| model | series embedded | series/s | peak RSS MiB |")
    print("|---|---|---|---|")
    for name in args.models.split(","):
        model = load_cached(name)
        marks = sorted({max(args.chunk, int(args.total * f)) for f in (0.1, 0.5, 1.0)})
        done, began = 0, time.perf_counter()
        for E in embed_stream(model, chunks(args.total, args.chunk, args.length)):
            done += len(E)
            if marks and done >= marks[0]:
                marks.pop(0)
                print(f"| {name} | {done} | {done / (time.perf_counter() - began):.1f} | {peak_rss_mib():.0f} |",
                      flush=True)


if __name__ == "__main__":
    main()
