"""ConvTimeNetMiniRocketClassifier: both models fitted as they would be alone, then the published rule."""

import numpy as np
import pytest

from tszoo.datasets import load_ucr


def _per_class(y, k):
    """The first k series of each class."""
    return np.concatenate([np.flatnonzero(y == c)[:k] for c in np.unique(y)])


def test_it_is_convtimenet_and_minirocket_fitted_alone_then_combined(tiny_models):
    from aeon.classification.convolution_based import MiniRocketClassifier

    from tszoo import ConvTimeNetClassifier, ConvTimeNetMiniRocketClassifier
    from tszoo.estimators import combine_scores

    X, y = load_ucr("ArrowHead", "train")
    Xt, yt = load_ucr("ArrowHead", "test")
    network = ConvTimeNetClassifier(model=str(tiny_models["convtimenet"]), epochs=20)
    for k in (1, 3):  # one series per class is valid input
        taken = _per_class(y, k)
        clf = ConvTimeNetMiniRocketClassifier(network, random_state=k).fit(X[taken], y[taken])
        assert network.random_state is None  # the given network is cloned, not fitted or changed
        alone = ConvTimeNetClassifier(model=str(tiny_models["convtimenet"]), epochs=20, random_state=k)
        alone.fit(X[taken], y[taken])
        rocket = MiniRocketClassifier(random_state=k).fit(X[taken][:, None, :].astype(np.float64), y[taken])
        probabilities, decision = clf.scores(Xt)
        np.testing.assert_allclose(probabilities, alone.predict_proba(Xt), rtol=0, atol=1e-6)
        np.testing.assert_allclose(decision, rocket.pipeline_.decision_function(Xt[:, None, :].astype(np.float64)))
        assert decision.shape == (len(Xt), 3)
        predicted = clf.predict(Xt)
        np.testing.assert_array_equal(predicted, clf.classes_[combine_scores(probabilities, decision)[1]])
        # where both models name the same class, so does the combination
        agree = alone.predict(Xt) == rocket.predict(Xt[:, None, :].astype(np.float64))
        assert agree.any() and np.array_equal(predicted[agree], alone.predict(Xt)[agree])
        assert 0.0 <= clf.score(Xt, yt) <= 1.0 and list(clf.classes_) == list(np.unique(y))


def test_two_classes_give_convtimenets_answer_and_bad_input_is_refused_with_the_reason(tiny_models):
    from tszoo import ConvTimeNetClassifier, ConvTimeNetMiniRocketClassifier

    X, y = load_ucr("ItalyPowerDemand", "train")
    Xt, _ = load_ucr("ItalyPowerDemand", "test")
    taken = _per_class(y, 4)
    network = ConvTimeNetClassifier(model=str(tiny_models["convtimenet"]), epochs=10)
    clf = ConvTimeNetMiniRocketClassifier(network, random_state=0).fit(X[taken], y[taken])
    assert clf.scores(Xt)[1].shape == (len(Xt),)  # MiniRocket's one column for two classes
    # two classes: the standardised profiles are +-1, so the models agree or tie, and ConvTimeNet breaks ties
    np.testing.assert_array_equal(clf.predict(Xt), clf.convtimenet_.predict(Xt))
    assert not hasattr(clf, "predict_proba")  # the sums are not probabilities

    ragged = [x[: 24 - (i % 3)] for i, x in enumerate(X[taken])]  # series of different lengths
    with pytest.raises(ValueError, match="one length"):
        ConvTimeNetMiniRocketClassifier(network).fit(ragged, y[taken])
    # shorter than MiniRocket's 9 values: MiniRocket sees them with their last value repeated
    short = ConvTimeNetMiniRocketClassifier(network, random_state=0).fit(X[taken][:, :6], y[taken])
    padded = np.concatenate([Xt[:, :6], np.repeat(Xt[:, 5:6], 3, axis=1)], axis=1)
    np.testing.assert_allclose(short.scores(Xt[:, :6])[1],
                               short.minirocket_.pipeline_.decision_function(padded[:, None, :].astype(np.float64)))
    with pytest.raises(ValueError, match="one length"):
        clf.predict(ragged)
    with pytest.raises(TypeError, match="ConvTimeNetClassifier"):
        ConvTimeNetMiniRocketClassifier("convtimenet").fit(X[taken], y[taken])
    with pytest.raises(ValueError, match="missing"):
        ConvTimeNetMiniRocketClassifier(network, missing="interpolate").fit(X[taken], y[taken])


def test_the_targets_report_sets_the_combination_against_its_own_parts():
    from benchmarks.convtimenet_targets import summarise

    def row(name, combined, network, rocket):
        return {"dataset": name, "arm": "finetuned_minirocket", "seed": 0, "n_train": 30, "length": 100,
                "accuracy": combined, "convtimenet_accuracy": network, "minirocket_accuracy": rocket,
                "fit_predict_seconds": 1.0}

    rows = [row("A", 0.90, 0.80, 0.90), row("B", 0.70, 0.70, 0.60), row("C", 0.50, 0.60, 0.40)]
    reference = {n: {"resnet_accuracy_mean5": "0.5", "fcn_accuracy_mean5": "0.6", "inceptiontime_accuracy": "0.7"}
                 for n in "ABC"}
    markdown, _, summary = summarise(rows, ["A", "B", "C"], reference, ["finetuned_minirocket"],
                                     {"finetuned_minirocket": [0]})
    parts = summary["finetuned_minirocket_parts"]
    assert parts["mean_accuracy"] == pytest.approx({"accuracy": 0.7, "convtimenet_accuracy": 0.7,
                                                    "minirocket_accuracy": 0.6333333})
    assert (parts["convtimenet_accuracy"]["ahead"], parts["convtimenet_accuracy"]["ties"],
            parts["convtimenet_accuracy"]["behind"]) == (1, 1, 1)
    assert parts["minirocket_accuracy"]["mean_points"] == pytest.approx(100 * (0.0 + 0.1 + 0.1) / 3)
    assert "against its own parts" in markdown
    assert summary["machines"] == {"not recorded": 3} and "- not recorded: 3 rows" in markdown  # made by hand
