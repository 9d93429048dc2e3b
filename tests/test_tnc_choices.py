"""Choosing among TimeNet candidates by TN-C's cross-validated error on training splits: capped and resumable."""

import json

import numpy as np
import pytest
from test_few_labels import _archive


def test_capped_sample_is_stratified_and_leaves_small_data_alone():
    from benchmarks.tnc_choices import capped

    y = np.array([0] * 90 + [1] * 10)
    X = np.arange(100)[:, None].astype(np.float32)
    Xc, yc = capped(X, y, 20)
    assert len(yc) == 20 and set(yc) == {0, 1} and np.sum(yc == 1) == 2
    np.testing.assert_array_equal(Xc[:, 0].astype(int), np.sort(Xc[:, 0]).astype(int))  # order kept
    Xa, ya = capped(X, y, None)
    assert len(ya) == 100 and capped(X, y, 500)[1] is y


def test_cv_selection_caps_the_training_split_resumes_and_refuses_other_settings(tmp_path, tiny_models):
    from benchmarks import tnc_choices

    archive, out = _archive(tmp_path), tmp_path / "out"
    argv = ["--archive", str(archive), "--datasets", "ArrowHead,ItalyPowerDemand", "--score", "cv",
            "--models", str(tiny_models["timenet"]), "--out", str(out)]
    tnc_choices.main([*argv, "--cap", "30"])
    rows = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines()]
    # 2 datasets x 3 poolings x (all layers, auto)
    assert len(rows) == 12 and {r["n_train"] for r in rows} == {30} and {r["cap"] for r in rows} == {30}
    assert {(r["pooling"], r["layers"]) for r in rows} == {(p, v) for p in ("last", "mean", "last+mean")
                                                             for v in ("all", "auto")}
    assert all(0.0 <= r["error"] <= 1.0 for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    # a rerun finds every row done: nothing is recomputed, the same table is written
    (out / "rows.jsonl").write_text("\n".join(json.dumps({**r, "error": 0.5}) for r in rows) + "\n")
    tnc_choices.main([*argv, "--cap", "30"])
    again = json.loads((out / "summary.json").read_text())
    assert len((out / "rows.jsonl").read_text().splitlines()) == 12
    assert all(v == 0.5 for v in again["mean_error"][next(iter(again["mean_error"]))].values())
    assert summary["cap"] == again["cap"] == 30
    # rows made before pooling was a choice say nothing about it: they are the final states' ("last") rows
    older = [{k: v for k, v in r.items() if not (k == "pooling" and v == "last")} for r in rows]
    (out / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in older) + "\n")
    tnc_choices.main([*argv, "--cap", "30"])
    assert len((out / "rows.jsonl").read_text().splitlines()) == 12
    with pytest.raises(SystemExit, match="other settings"):
        tnc_choices.main([*argv, "--cap", "40"])
    with pytest.raises(SystemExit, match="--poolings max: expected some of last, mean, last"):
        tnc_choices.main([*argv, "--cap", "30", "--poolings", "max"])
