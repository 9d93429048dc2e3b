"""Latency and throughput of each runtime, both models, length 512, on this CPU.

    python -m benchmarks.deployment_latency [--models timenet,convtimenet] [--length 512]

Runtimes: Keras ``model.predict``, the SavedModel's ``serving_default`` signature, ONNX Runtime, LiteRT.
Batch 1: latency p50/p99 over repeated calls; batch 256: series per second. A recurrent model's TFLite artifact
has a static batch (TFLite lowers its loop only so), so it is exported once with batch 1 and once with batch 256.
Targets (issue 5): the fastest runtime at least 5x faster than ``model.predict`` at batch 1, and ONNX Runtime no
slower than the SavedModel at any batch size.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def timed(fn, min_seconds=4.0, min_calls=5):
    fn()
    times, began = [], time.perf_counter()
    while len(times) < min_calls or time.perf_counter() - began < min_seconds:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return np.array(times)


def runtimes(name, model, tmp: Path, batches, ort_threads=None):
    """{runtime: {batch: callable(x)}} for one model."""
    import onnxruntime as ort
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from tszoo.export import export, has_recurrence, inference_copy, to_tflite
    from tszoo.layers import INPUT_NAME

    out = {"keras predict": {b: (lambda x: model.predict(x, verbose=0, batch_size=len(x))) for b in batches}}
    sm = export(model, tmp / f"{name}_sm")
    serve = tf.saved_model.load(str(sm)).signatures["serving_default"]
    out["SavedModel"] = {b: (lambda x: serve(series=tf.constant(x))) for b in batches}
    onnx_path = export(model, tmp / f"{name}.onnx", format="onnx")
    options = ort.SessionOptions()
    # Default: one intra-op thread per core this process may use (on the 2-core development machine this measured
    # the same as ONNX Runtime's own default, --ort-threads 0).
    options.intra_op_num_threads = len(os.sched_getaffinity(0)) if ort_threads is None else ort_threads
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    out["ONNX Runtime"] = {b: (lambda x: session.run(None, {INPUT_NAME: x})) for b in batches}
    copy = inference_copy(model)
    out["LiteRT"] = {}
    for b in batches:
        flatbuffer = to_tflite(copy, batch_size=b if has_recurrence(copy) else None)
        interpreter = Interpreter(model_content=flatbuffer, num_threads=os.cpu_count())
        runner = interpreter.get_signature_runner()
        out["LiteRT"][b] = (lambda r: (lambda x: r(series=x)))(runner)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="timenet,convtimenet")
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--ort-threads", type=int, default=None,
                        help="ONNX Runtime intra-op threads (default: the cores granted; 0: ONNX Runtime's default)")
    args = parser.parse_args(argv)

    from tszoo.registry import load

    batches = (1, 256)
    rng = np.random.default_rng(0)
    print(f"CPU: {os.cpu_count()} cores; length {args.length}")
    print("| model | runtime | batch 1 p50 ms | batch 1 p99 ms | batch 1 series/s | batch 256 series/s |")
    print("|---|---|---|---|---|---|")
    verdicts = []
    for name in args.models.split(","):
        model = load(name)
        with tempfile.TemporaryDirectory() as tmp:
            table = {}
            for runtime, calls in runtimes(Path(name).name, model, Path(tmp), batches, args.ort_threads).items():
                row = {}
                for b, call in calls.items():
                    x = rng.normal(size=(b, args.length, 1)).astype(np.float32)
                    t = timed(lambda: call(x), args.seconds)
                    row[b] = {"p50": 1e3 * np.median(t), "p99": 1e3 * np.percentile(t, 99), "rate": b / t.mean()}
                table[runtime] = row
                print(f"| {name} | {runtime} | {row[1]['p50']:.2f} | {row[1]['p99']:.2f} | {row[1]['rate']:.1f} | "
                      f"{row[256]['rate']:.1f} |", flush=True)
        keras_p50 = table["keras predict"][1]["p50"]
        fastest = min((r for r in table if r != "keras predict"), key=lambda r: table[r][1]["p50"])
        speedup = keras_p50 / table[fastest][1]["p50"]
        ort_ok = all(table["ONNX Runtime"][b]["rate"] >= table["SavedModel"][b]["rate"] for b in batches)
        verdicts.append(f"{name}: fastest at batch 1 is {fastest}, {speedup:.1f}x model.predict "
                        f"({'meets' if speedup >= 5 else 'misses'} the 5x target); ONNX Runtime "
                        f"{'is' if ort_ok else 'is NOT'} at least as fast as the SavedModel at every batch size")
    print()
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
