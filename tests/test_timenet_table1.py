"""Table 1's untrained baseline: TimeNet's architecture with fresh random weights, made once as a model folder that
every TimeNet tool reads like a published one."""

import numpy as np
import pytest

from tszoo.datasets import load_ucr


def test_the_untrained_model_is_seeded_made_once_and_refused_for_another_seed(tmp_path):
    from benchmarks.timenet_table1 import untrained_model
    from tszoo.estimators import TimeNetEmbedder
    from tszoo.registry import info

    X, _ = load_ucr("GunPoint", "train")
    folder = untrained_model(tmp_path / "a", 0)
    assert folder == tmp_path / "a" / "timenet_untrained" / "1"
    card = info(str(folder))
    assert card["training"]["seed"] == 0 and card["training"]["epochs_run"] == 0 and card["output_size"] == 180
    E = TimeNetEmbedder(model=str(folder), pooling="last+mean").fit_transform(X[:5])
    assert E.shape == (5, 360) and np.all(np.isfinite(E))
    # the same seed in another folder gives the same weights; another seed other weights
    again = TimeNetEmbedder(model=str(untrained_model(tmp_path / "b", 0)), pooling="last+mean").fit_transform(X[:5])
    np.testing.assert_allclose(again, E, atol=1e-6)
    other = TimeNetEmbedder(model=str(untrained_model(tmp_path / "c", 1)), pooling="last+mean").fit_transform(X[:5])
    assert np.abs(other - E).max() > 1e-2
    # made once: asking again returns the folder as it is; another seed there is refused
    assert untrained_model(tmp_path / "a", 0) == folder
    with pytest.raises(SystemExit, match="untrained model of seed 0, not 1"):
        untrained_model(tmp_path / "a", 1)


def test_calibrated_arm_falls_back_to_the_svm_where_no_calibration_is_possible():
    """A class with a single training series leaves nothing to calibrate on: the calibrated arm then predicts with
    the SVM itself, as TimeNetClassifier's predict did until 2026-12-06, instead of failing the whole run."""
    import numpy as np
    import pytest

    from benchmarks.timenet_table1 import tnc_error

    rng = np.random.default_rng(0)
    y = np.array([0] * 20 + [1] * 20 + [2])
    E = rng.normal(size=(41, 6)) + 3.0 * y[:, None]
    Et, yt = rng.normal(size=(30, 6)) + 3.0 * np.repeat([0, 1, 2], 10)[:, None], np.repeat([0, 1, 2], 10)
    with pytest.warns(UserWarning, match="cannot cross-validate"):
        calibrated, _ = tnc_error(E, y, Et, yt, cv=5, calibrated=True)
    with pytest.warns(UserWarning, match="cannot cross-validate"):
        plain, _ = tnc_error(E, y, Et, yt, cv=5)
    assert calibrated == plain < 0.5
