"""A tensorflow-datasets builder for the UCR archive, read from a folder the user already has.

    import tensorflow_datasets as tfds
    import tszoo.tfds_ucr  # registers "ucr_archive"
    ds = tfds.load("ucr_archive/GunPoint", split="train", data_dir="~/tfds",
                   download_and_prepare_kwargs={"download_config":
                       tfds.download.DownloadConfig(manual_dir="~/UCRArchive_2018")})

Each example: ``series`` (float32, the series' valid points only: no padding), ``length`` and ``label`` (int64,
as the archive writes it). Batch with ``padded_batch(..., padding_values={"series": float("nan"), ...})`` to get
tszoo's NaN-padded input.
"""

from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

from tszoo.datasets import load_ucr
from tszoo.ucr_names import UCR_2018


class UcrArchive(tfds.core.GeneratorBasedBuilder):
    """The UCR time-series classification archive (2018), one config per dataset, official train/test split."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "UCR 2018 archive, official splits."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Download and unpack the UCR 2018 archive (https://www.cs.ucr.edu/~eamonn/time_series_data_2018/) and "
        "pass its folder, the one holding <Name>/<Name>_TRAIN.tsv (or .tsv.gz, or .ts), as manual_dir.")
    BUILDER_CONFIGS = [tfds.core.BuilderConfig(name=name, description=f"UCR 2018 dataset {name}")
                       for name in UCR_2018]

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "series": tfds.features.Tensor(shape=(None,), dtype=np.float32),
                "length": tfds.features.Scalar(dtype=np.int32),
                "label": tfds.features.Scalar(dtype=np.int64),
            }),
            supervised_keys=("series", "label"),
            homepage="https://www.cs.ucr.edu/~eamonn/time_series_data_2018/",
        )

    def _split_generators(self, dl_manager):
        root = dl_manager.manual_dir
        return {split: self._generate_examples(root, split) for split in ("train", "test")}

    def _generate_examples(self, root, split):
        X, y = load_ucr(self.builder_config.name, split, root=str(root))
        if y.dtype.kind not in "iu":
            raise ValueError(f"{self.builder_config.name}: labels {y[:3].tolist()}... are not integers; "
                             "this builder stores integer labels as the UCR archive writes them")
        lengths = X.shape[1] - np.argmax(~np.isnan(X[:, ::-1]), axis=1)
        for i, (row, n) in enumerate(zip(X, lengths)):
            yield i, {"series": row[:n], "length": int(n), "label": int(y[i])}
