"""TN-C as users get it: the benchmark's ``default`` arm is exactly ``TimeNetClassifier(random_state=0)``'s test
error, and its ``table1`` arm Table 1's classifier, on the same embeddings."""

import json

import numpy as np
import pytest
from archive import tiny_archive


def test_default_arm_is_what_timenetclassifier_gives(tmp_path, tiny_models, monkeypatch):
    import benchmarks.common
    from benchmarks import tnc_users_default
    from tszoo.datasets import load_ucr
    from tszoo.estimators import TimeNetClassifier

    # the published references (../shared) are not needed: a fresh clone without them runs it
    monkeypatch.setattr(benchmarks.common, "REFERENCE", tmp_path / "no_such_reference.csv")
    archive, out, model = tiny_archive(tmp_path, series_per_split=30), tmp_path / "out", str(tiny_models["timenet"])
    argv = ["--model", model, "--archive", str(archive), "--datasets", "SinA,SinC", "--out", str(out)]
    tnc_users_default.main(argv)
    rows = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines()]
    assert [r["dataset"] for r in rows] == ["SinA", "SinC"]
    for r in rows:
        X, y = load_ucr(r["dataset"], "train", root=archive)
        Xt, yt = load_ucr(r["dataset"], "test", root=archive)
        users = TimeNetClassifier(model=model, random_state=0).fit(X, y)
        assert users.cv == 5 and users.probability
        assert abs(r["default"] - (1 - users.score(Xt, yt))) < 1e-12
        most_probable = users.classes_[users.predict_proba(Xt).argmax(1)]
        assert abs(r["calibrated"] - np.mean(most_probable != yt)) < 1e-12
        paper = TimeNetClassifier(model=model, random_state=0, cv=3, probability=False).fit(X, y)
        assert abs(r["table1"] - (1 - paper.score(Xt, yt))) < 1e-12
    report = (out / "tnc_users_default.md").read_text()
    assert "| SinA | 30 |" in report and "Calibrated argmax against the SVM's own" in report
    # resumable: a rerun keeps the finished rows as they are
    fake = {"default": 0.5, "table1": 0.25, "calibrated": 0.125}
    (out / "rows.jsonl").write_text("".join(json.dumps({**r, **fake}) + "\n" for r in rows))
    tnc_users_default.main(argv)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mean_error"] == fake and summary["datasets"] == 2
    with pytest.raises(SystemExit, match="other settings"):  # rows scored on test splits are not mixed in
        tnc_users_default.main([*argv, "--score", "holdout"])

    # --score holdout reads no test split: fitted on two thirds of the training split, scored on the rest
    for test in archive.glob("*/*_TEST.tsv"):
        test.write_text("not a series\n")
    tnc_users_default.main([*argv[:-1], str(tmp_path / "holdout"), "--score", "holdout"])
    held = [json.loads(x) for x in (tmp_path / "holdout" / "rows.jsonl").read_text().splitlines()]
    assert [(r["n_train"], r["n_scored"], r["score"]) for r in held] == [(20, 10, "holdout")] * 2


def test_holdout_of_another_split_seed_with_every_layer(tmp_path, tiny_models, monkeypatch):
    """--split-seed holds out another third of each training split (a second look at a candidate chosen on the
    first), --layers all hands the SVM every layer's features: each arm is then TimeNetClassifier(layers=None)
    fitted on that seed's two thirds; rows of other settings are never mixed in."""
    import benchmarks.common
    from benchmarks import tnc_users_default
    from benchmarks.tnc_feature_variants import holdout_split
    from tszoo.datasets import load_ucr
    from tszoo.estimators import TimeNetClassifier

    monkeypatch.setattr(benchmarks.common, "REFERENCE", tmp_path / "no_such_reference.csv")
    archive, out, model = tiny_archive(tmp_path, series_per_split=30), tmp_path / "out", str(tiny_models["timenet"])
    argv = ["--model", model, "--archive", str(archive), "--datasets", "SinA", "--score", "holdout",
            "--split-seed", "1", "--layers", "all", "--out", str(out)]
    tnc_users_default.main(argv)
    (row,) = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines()]
    assert row["split_seed"] == 1 and row["layers"] == "all"
    X, y = load_ucr("SinA", "train", root=archive)
    fit0 = holdout_split(X, y, 1000, seed=0)[0]
    X1, y1, Xs, ys = holdout_split(X, y, 1000, seed=1)
    assert not np.array_equal(fit0, X1)  # another third held out
    users = TimeNetClassifier(model=model, random_state=0, layers=None).fit(X1, y1)
    assert users.layers_ is None  # every layer
    assert abs(row["default"] - (1 - users.score(Xs, ys))) < 1e-12
    assert "split seed 1" in (out / "tnc_users_default.md").read_text()
    with pytest.raises(SystemExit, match="other settings"):
        tnc_users_default.main([*argv[:8], "--out", str(out)])  # split seed 0: other rows
    with pytest.raises(SystemExit, match="--split-seed chooses the held-out third"):
        tnc_users_default.main(["--model", model, "--archive", str(archive), "--split-seed", "1", "--out",
                                str(tmp_path / "x")])
