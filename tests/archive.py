"""A small archive in the UCR layout with the protocol file beside it, for tests that run the recipes."""

import json

import numpy as np


def tiny_archive(root, series_per_split: int = 24, longest: int = 40):
    """Three datasets of two classes (a slow and a fast sine), lengths 20..longest; TimeNet trains on two and
    validates on the third; ConvTimeNet's sources are all three."""
    rng = np.random.default_rng(0)
    archive = root / "UCRArchive_2018"
    names = {"timenet_train": ["SinA", "SinB"], "timenet_validation": ["SinC"], "sources": ["SinA", "SinB", "SinC"]}
    for name in names["sources"]:
        (archive / name).mkdir(parents=True)
        for split in ("TRAIN", "TEST"):
            rows = []
            for i in range(series_per_split):
                n = int(rng.integers(20, longest))
                label = i % 2 + 1
                values = np.sin(np.linspace(0, label * rng.uniform(1, 4), n) + rng.uniform(0, 3))
                rows.append("\t".join([str(label), *[f"{v:.5f}" for v in values], *["NaN"] * (longest - n)]))
            (archive / name / f"{name}_{split}.tsv").write_text("\n".join(rows) + "\n")
    (root / "splits.json").write_text(json.dumps(names))
    return archive
