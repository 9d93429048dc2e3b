import numpy as np
import tensorflow_datasets as tfds

import tszoo.tfds_ucr  # noqa: F401  registers the builder
from tszoo.datasets import bundled_root, load_ucr


def test_tfds_builder_reads_a_manual_folder(tmp_path):
    config = tfds.download.DownloadConfig(manual_dir=str(bundled_root()))
    builder = tfds.builder("ucr_archive/PickupGestureWiimoteZ", data_dir=str(tmp_path))
    builder.download_and_prepare(download_config=config)
    train = list(builder.as_dataset(split="train").as_numpy_iterator())
    X, y = load_ucr("PickupGestureWiimoteZ", "train")
    assert len(train) == len(X) == builder.info.splits["train"].num_examples
    lengths = sorted(int(e["length"]) for e in train)
    assert lengths[0] < lengths[-1] == X.shape[1]  # variable lengths, no padding stored
    first = train[0]
    assert not np.isnan(first["series"]).any() and len(first["series"]) == first["length"]
    assert builder.info.splits["test"].num_examples == len(load_ucr("PickupGestureWiimoteZ", "test")[0])
    assert "GunPoint" in [c.name for c in builder.BUILDER_CONFIGS] and len(builder.BUILDER_CONFIGS) == 128
