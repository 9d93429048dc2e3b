"""TN-C as users get it: the benchmark's ``default`` arm is exactly ``TimeNetClassifier(random_state=0)``'s test
error, and its ``table1`` arm Table 1's classifier, on the same embeddings."""

import json

from archive import tiny_archive


def test_default_arm_is_what_timenetclassifier_gives(tmp_path, tiny_models):
    from benchmarks import tnc_users_default
    from tszoo.datasets import load_ucr
    from tszoo.estimators import TimeNetClassifier

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
        paper = TimeNetClassifier(model=model, random_state=0, cv=3, probability=False).fit(X, y)
        assert abs(r["table1"] - (1 - paper.score(Xt, yt))) < 1e-12
    report = (out / "tnc_users_default.md").read_text()
    assert "| SinA | 30 |" in report and "paired se" in report
    # resumable: a rerun keeps the finished rows as they are
    (out / "rows.jsonl").write_text("".join(json.dumps({**r, "default": 0.5, "table1": 0.25}) + "\n" for r in rows))
    tnc_users_default.main(argv)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mean_error"] == {"table1": 0.25, "default": 0.5} and summary["datasets"] == 2
