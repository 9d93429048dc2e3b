"""The feature-variant study of TN-C: its summaries are the GRU outputs' over the valid steps, and it reads no test
split unless told to, and only the validation datasets'."""

import json

import numpy as np
import pytest
from test_few_labels import _archive

from tszoo.datasets import load_ucr


def test_summaries_are_those_of_the_valid_steps_and_last_mean_is_the_classifiers_features(tiny_models):
    import keras

    from benchmarks.tnc_feature_variants import KINDS, summaries_model, variant_columns
    from tszoo.estimators import TimeNetEmbedder
    from tszoo.inference import embed
    from tszoo.registry import load

    X, _ = load_ucr("GunPoint", "train")
    path = str(tiny_models["timenet"])
    encoder = load(path)
    units, layers = 8, 3
    model = summaries_model(encoder)
    # a short series NaN-padded beside a full one
    padded = np.full((2, 150), np.nan, np.float32)
    padded[0], padded[1, :61] = X[0], X[1, :61]
    S = embed(model, padded)
    assert S.shape == (2, layers * len(KINDS) * units)
    sequences = keras.Model(encoder.input, [encoder.get_layer(f"encoder_gru_{i}").output[0] for i in (1, 2, 3)])
    outputs = sequences.predict(X[1:2, :61, None], verbose=0)
    for level, out in enumerate(outputs):
        seq = out[0]  # (61, units): the short series alone, no padding
        block = S[1, level * len(KINDS) * units:(level + 1) * len(KINDS) * units].reshape(len(KINDS), units)
        third = [seq[:21], seq[21:41], seq[41:]]  # steps t < 61/3, 61/3 <= t < 2*61/3, the rest
        expected = {"last": seq[-1], "mean": seq.mean(0), "std": seq.std(0), "max": seq.max(0), "min": seq.min(0),
                    "ppv": (seq > 0).mean(0), "third1": third[0].mean(0), "third2": third[1].mean(0),
                    "third3": third[2].mean(0)}
        for i, kind in enumerate(KINDS):
            np.testing.assert_allclose(block[i], expected[kind], atol=2e-4, err_msg=f"layer {level + 1} {kind}")
    # last+mean: the numbers of TimeNetEmbedder(pooling="last+mean"), per layer instead of states then means
    pooled = TimeNetEmbedder(model=path, pooling="last+mean").fit(X[:4]).transform(X[:4])
    mine = embed(model, X[:4])[:, variant_columns("last+mean", units, layers)]
    order = np.concatenate([np.r_[l * units:(l + 1) * units, (layers + l) * units:(layers + l + 1) * units]
                            for l in range(layers)])
    np.testing.assert_allclose(mine, pooled[:, order], atol=1e-5)


def test_holdout_reads_no_test_split_resumes_and_refuses_test_scores_off_the_validation_sets(tmp_path, tiny_models):
    from benchmarks import tnc_feature_variants

    archive, out = _archive(tmp_path), tmp_path / "out"
    for test in archive.glob("*/*_TEST.tsv"):
        test.write_text("not a series\n")  # unreadable: a run that reads a test split fails
    argv = ["--archive", str(archive), "--datasets", "ArrowHead,ItalyPowerDemand", "--score", "holdout",
            "--model", str(tiny_models["timenet"]), "--variants", "last+mean,last+mean+ppv", "--cap", "30",
            "--out", str(out)]
    tnc_feature_variants.main(argv)
    rows = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and {r["n_fit"] + r["n_scored"] for r in rows} == {30}
    assert {r["n_scored"] for r in rows} == {10} and all(0.0 <= r["error"] <= 1.0 for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["against_baseline"]) == {"last+mean+ppv"} and summary["datasets"] == ["ArrowHead",
                                                                                               "ItalyPowerDemand"]
    # resumable: finished rows are kept as they are
    (out / "rows.jsonl").write_text("".join(json.dumps({**r, "error": 0.25}) + "\n" for r in rows))
    tnc_feature_variants.main(argv)
    assert json.loads((out / "summary.json").read_text())["mean_error"] == {"last+mean": 0.25, "last+mean+ppv": 0.25}
    with pytest.raises(SystemExit, match="other settings"):
        tnc_feature_variants.main([*argv[:-2], "--cap", "40", "--out", str(out)])
    with pytest.raises(SystemExit, match="only for the timenet_validation datasets"):
        tnc_feature_variants.main([a if a != "holdout" else "test" for a in argv])
    with pytest.raises(SystemExit, match="last\\+mean among them"):
        tnc_feature_variants.main([a if a != "last+mean,last+mean+ppv" else "last+mean+ppv" for a in argv])


def test_transformed_inputs_keep_the_padding_at_the_end_and_variants_find_their_columns():
    """``/diff`` and ``/rev`` variants: the encoder's input transformed over each series' valid steps only, and a
    variant's columns taken from the block of each input it names."""
    from benchmarks.tnc_feature_variants import KINDS, transformed, transforms_of, variant_columns

    X = np.array([[1, 2, 4, 7, np.nan, np.nan], [0, 1, 0, 1, 0, 3]], np.float32)
    d, r = transformed(X, "diff"), transformed(X, "rev")
    np.testing.assert_array_equal(d[0, :3], [1, 2, 3])
    assert np.isnan(d[0, 3:]).all() and np.isnan(d[1, 5])
    np.testing.assert_array_equal(r[0, :4], [7, 4, 2, 1])
    assert np.isnan(r[0, 4:]).all()
    np.testing.assert_array_equal(r[1], X[1, ::-1])
    np.testing.assert_array_equal(transformed(X, "raw"), X)
    assert transforms_of("last+mean/rev/diff") == ["raw", "diff", "rev"] and transforms_of("last+mean") == ["raw"]
    units, layers, width = 2, 3, 3 * len(KINDS) * 2
    plain, rev = variant_columns("last+mean", units, layers), variant_columns("last+mean/rev", units, layers)
    np.testing.assert_array_equal(rev, np.concatenate([plain, 2 * width + plain]))
    with pytest.raises(ValueError, match="transform 'log'"):
        transformed(X, "log")
