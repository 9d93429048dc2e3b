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
