import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

# Two logical CPU devices, so tf.distribute's MirroredStrategy can be tested on one CPU. Must happen before
# TensorFlow initialises its devices, hence here.
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0],
    [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])


@pytest.fixture(scope="session")
def mirrored_cpus():
    """One MirroredStrategy over the two logical CPUs, shared by every test in the process.

    A second MirroredStrategy over the same devices in one process reuses the first one's collective group and
    instance keys, and its all-reduces then fail with "Shape mismatch in the collective instance 100"
    (tensorflow/tensorflow#62790): a process makes one, as the training scripts do.
    """
    cpus = tf.config.list_logical_devices("CPU")
    if len(cpus) < 2:
        pytest.skip("needs two logical CPU devices (configured above, before TensorFlow starts)")
    return tf.distribute.MirroredStrategy([c.name for c in cpus[:2]])


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def ragged_batch(rng, lengths, trailing_zeros=0):
    """NaN-padded (n, longest, 1) batch of random series of the given lengths."""
    X = np.full((len(lengths), max(lengths), 1), np.nan, np.float32)
    for i, n in enumerate(lengths):
        X[i, :n, 0] = rng.normal(size=n)
        if trailing_zeros:
            X[i, n - trailing_zeros: n, 0] = 0.0
    return X


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """A tiny TimeNet and a tiny ConvTimeNet, each trained a few steps on GunPoint and published into a temporary
    models folder: ``{"root": Path, "timenet": version path, "convtimenet": version path}``."""
    import keras

    from tszoo.architectures.convtimenet import build_convtimenet, build_multihead
    from tszoo.publishing import publish_model
    from tszoo.architectures.timenet import build_timenet, reconstruction_loss
    from tszoo.datasets import load_ucr

    keras.utils.set_random_seed(0)
    root = tmp_path_factory.mktemp("tiny_models")
    X, y = load_ucr("GunPoint", "train")
    x = X[..., None]
    autoencoder, encoder = build_timenet(units=8, num_layers=3, dropout=0.0)
    autoencoder.compile(keras.optimizers.Adam(0.01), loss=reconstruction_loss)
    autoencoder.fit(x, x, epochs=12, batch_size=10, verbose=0)
    tn = publish_model(encoder, "timenet", root=root, architecture="timenet", builder={
        "function": "tszoo.architectures.timenet.build_timenet", "arguments": {"units": 8, "num_layers": 3}},
        training={"datasets": ["GunPoint"], "epochs": 2})
    body = build_convtimenet(kernel_sizes=(3, 8), filters=4, num_blocks=2, bottleneck=4)
    multi = build_multihead(body, {"GunPoint": 2})
    multi.compile(keras.optimizers.Adam(0.01),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    multi.fit(x, y - 1, epochs=2, batch_size=25, verbose=0)
    ctn = publish_model(body, "convtimenet", root=root, architecture="convtimenet", builder={
        "function": "tszoo.architectures.convtimenet.build_convtimenet",
        "arguments": {"kernel_sizes": [3, 8], "filters": 4, "num_blocks": 2, "bottleneck": 4}},
        training={"datasets": ["GunPoint"], "epochs": 2})
    return {"root": root, "timenet": tn, "convtimenet": ctn}
