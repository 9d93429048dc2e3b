import gzip

import numpy as np
import pytest

from tszoo.datasets import ROOT_ENV, bundled_datasets, load_ucr, read_series_file


@pytest.mark.parametrize("name, n_train, length", [("GunPoint", 50, 150), ("ArrowHead", 36, 251),
                                                   ("ItalyPowerDemand", 67, 24)])
def test_bundled_datasets_load_offline(name, n_train, length, monkeypatch):
    monkeypatch.delenv(ROOT_ENV, raising=False)
    X, y = load_ucr(name, "train")
    assert X.shape == (n_train, length) and X.dtype == np.float32
    assert y.dtype.kind == "i" and len(y) == n_train
    assert not np.isnan(X).any()


def test_bundled_variable_length_dataset_is_nan_padded(monkeypatch):
    monkeypatch.delenv(ROOT_ENV, raising=False)
    X, y = load_ucr("PickupGestureWiimoteZ", "test")
    lengths = X.shape[1] - np.argmax(~np.isnan(X[:, ::-1]), axis=1)
    assert lengths.min() < X.shape[1] == lengths.max()
    # NaN only after each series' last value
    for row, n in zip(X, lengths):
        assert not np.isnan(row[:n]).any() and np.isnan(row[n:]).all()


def _write_tsv(path, rows, compress=False):
    text = "\n".join("\t".join(str(v) for v in row) for row in rows) + "\n"
    if compress:
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)


@pytest.mark.parametrize("compress", [False, True])
def test_ucr_tsv_layout_keeps_minus_one_labels_and_padding(tmp_path, compress):
    folder = tmp_path / "Toy"
    folder.mkdir()
    suffix = ".tsv.gz" if compress else ".tsv"
    _write_tsv(folder / f"Toy_TRAIN{suffix}",
               [[-1, 0.5, 1.0, 0.0, 0.0], [1, 0.1, 0.2, "NaN", "NaN"], [1, 1, 2, 3, 4]], compress)
    X, y = load_ucr("Toy", "train", root=tmp_path)
    assert y.tolist() == [-1, 1, 1]
    assert X.shape == (3, 4)
    assert X[0, 3] == 0.0  # trailing real zeros are data
    assert np.isnan(X[1, 2:]).all()


def test_missing_value_in_file_is_refused_then_interpolated(tmp_path):
    folder = tmp_path / "Holes"
    folder.mkdir()
    _write_tsv(folder / "Holes_TEST.tsv", [[3, 1.0, "NaN", 3.0, 4.0], [8, "NaN", 1.0, 2.0, "NaN"]])
    with pytest.raises(ValueError, match="missing values"):
        load_ucr("Holes", "test", root=tmp_path)
    X, y = load_ucr("Holes", "test", root=tmp_path, missing="interpolate")
    np.testing.assert_allclose(X[0], [1, 2, 3, 4])
    np.testing.assert_allclose(X[1, :3], [1, 1, 2])
    assert np.isnan(X[1, 3]) and y.tolist() == [3, 8]


def test_ts_format_with_string_labels(tmp_path):
    path = tmp_path / "Words_TRAIN.ts"
    path.write_text("@problemName Words\n@timeStamps false\n@missing false\n@univariate true\n"
                    "@equalLength false\n@classLabel true cat dog\n@data\n1.0,2.0,3.0:cat\n4.0,5.0:dog\n")
    X, y = read_series_file(path)
    assert y.tolist() == ["cat", "dog"]
    assert X.shape == (2, 3) and np.isnan(X[1, 2])


def test_env_root_and_unknown_name(tmp_path, monkeypatch):
    monkeypatch.setenv(ROOT_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        load_ucr("GunPoint")
    monkeypatch.delenv(ROOT_ENV)
    with pytest.raises(FileNotFoundError, match="GunPoint"):  # lists the bundled datasets
        load_ucr("NoSuchDataset")
    with pytest.raises(ValueError, match="split"):
        load_ucr("GunPoint", "validation")
    assert "GunPoint" in bundled_datasets()


def test_unreadable_file_is_a_clear_error(tmp_path):
    folder = tmp_path / "Bad"
    folder.mkdir()
    (folder / "Bad_TRAIN.tsv").write_text("1\tx\ty\n2\t1\t2\n")
    with pytest.raises((ValueError, TypeError), match="Bad_TRAIN.tsv"):
        load_ucr("Bad", root=tmp_path)
