"""Mixed precision: a network whose body computes in bfloat16 on float32 weights, and whether this machine has the
hardware that makes that faster.

Used by full fine-tuning (``ConvTimeNetClassifier(precision=...)``) and by the ConvTimeNet pretraining recipe
(``python -m builders.convtimenet train --precision mixed_bfloat16``). Weights stay float32 in both, so what is
saved, published and exported is a float32 network whichever precision trained it.
"""

from __future__ import annotations

import functools

import numpy as np

PRECISIONS = ("float32", "mixed_bfloat16", "auto")  # auto: mixed_bfloat16 where bfloat16_hardware(), else float32
# layers that stay float32 in a mixed-precision body: the per-series standardisation of raw values (bfloat16 keeps 8
# bits of mantissa) and the masked mean over time (a sum over up to thousands of steps); batch normalisation
# computes its statistics in float32 by itself
FLOAT32_LAYERS = ("SeriesStandardization", "MaskedGlobalAveragePooling")


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}; expected one of {', '.join(map(repr, PRECISIONS))}")
    return precision


def resolve_precision(precision: str) -> str:
    """``"auto"`` -> ``"mixed_bfloat16"`` where :func:`bfloat16_hardware` is True, else ``"float32"``; the others as
    they are (a clear error for anything else)."""
    if check_precision(precision) == "auto":
        return "mixed_bfloat16" if bfloat16_hardware() is True else "float32"
    return precision


def copy_state(source, target) -> None:
    """Copy every variable of ``source`` (weights, batch-norm statistics, dropout seeds) into ``target``, a network
    built the same way."""
    pairs = list(zip(source.variables, target.variables, strict=True))
    for a, b in pairs:
        if tuple(a.shape) != tuple(b.shape) or a.dtype != b.dtype or a.trainable != b.trainable:
            raise ValueError(f"cannot copy {a.path} {a.shape} into {b.path} {b.shape}: different networks")
    for a, b in pairs:
        b.assign(a.value)


def body_in_precision(body, precision: str):
    """A body of the same layers, names and structure as ``body`` (newly initialised: copy the state over where it
    matters) whose layers compute in ``precision``, except those of :data:`FLOAT32_LAYERS`; its output (the
    embedding) is float32. ``"float32"`` (or ``"auto"`` without bfloat16 units) returns ``body`` itself.

    Raises a ``RuntimeError`` naming the cause and ``precision='float32'`` where the backend's kernels cannot compute
    bfloat16 on this machine (found by one small forward pass here, not deep inside a training step).
    """
    import keras

    precision = resolve_precision(precision)
    if precision == "float32":
        return body

    def clone(layer):
        config = layer.get_config()
        if type(layer).__name__ not in FLOAT32_LAYERS:
            config["dtype"] = precision
        return layer.__class__.from_config(config)

    twin = keras.models.clone_model(body, clone_function=clone)
    try:
        probe = np.random.default_rng(0).standard_normal((1, 64, body.inputs[0].shape[-1] or 1)).astype(np.float32)
        np.asarray(twin(probe, training=False))
    except Exception as error:
        reason = " ".join(str(error).split())[:400]
        raise RuntimeError(f"precision={precision!r}: {keras.backend.backend()} on this machine cannot run the "
                           f"network in bfloat16 ({type(error).__name__}: {reason}); use precision='float32'"
                           ) from error
    return twin


@functools.cache
def bfloat16_hardware() -> bool | None:
    """Whether this process computes bfloat16 on hardware made for it: a GPU of compute capability 8.0 or more
    (Ampere on; a T4 is 7.5) or a TPU visible to the Keras backend, or else a CPU with AVX512-BF16 or AMX-BF16
    (read from ``/proc/cpuinfo``); ``None`` where that cannot be read. Read once per process (every fit asks)."""
    import keras

    backend = keras.backend.backend()
    capabilities = None
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            capabilities = [tf.config.experimental.get_device_details(g).get("compute_capability") for g in gpus]
    elif backend == "jax":
        import jax

        if jax.default_backend() == "tpu":
            return True
        if jax.default_backend() == "gpu":
            capabilities = [tuple(int(p) for p in str(getattr(d, "compute_capability", "")).split(".") if p)
                            for d in jax.devices()]
    if capabilities:
        known = [tuple(c) for c in capabilities if c]
        return None if not known else min(known) >= (8, 0)
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), None)
    except OSError:
        return None
    return None if flags is None else bool({"avx512_bf16", "amx_bf16"} & set(flags))
