"""Setting a new body's fine-tuned rows against a committed targets table, paired per dataset."""

import csv
import json

import numpy as np
import pytest


def _rows(folder, accuracies):
    folder.mkdir(parents=True)
    (folder / "rows.jsonl").write_text("".join(
        json.dumps({"dataset": d, "arm": "finetuned", "seed": 0, "accuracy": a, "fit_predict_seconds": 2.0}) + "\n"
        for d, a in accuracies.items()))
    return folder


def test_paired_comparison_across_two_row_folders(tmp_path):
    from benchmarks import compare_bodies

    table = tmp_path / "old.csv"
    with open(table, "w", newline="") as f:
        w = csv.DictWriter(f, ["dataset", "finetuned", "minirocket", "finetuned_seconds"])
        w.writeheader()
        for d, ft, mr in (("A", 0.8, 0.9), ("B", 0.6, 0.5), ("C", 0.7, 0.7)):
            w.writerow({"dataset": d, "finetuned": ft, "minirocket": mr, "finetuned_seconds": 1.0})
    a = _rows(tmp_path / "a", {"A": 0.9, "B": 0.6})
    b = _rows(tmp_path / "b", {"C": 0.5})
    out = tmp_path / "out"
    compare_bodies.main([f"{a},{b}", "--against", str(table), "--out", str(out), "--stem", "cmp"])
    s = json.loads((out / "summary.json").read_text())
    assert s["datasets"] == 3 and s["missing"] == [] and s["fit_predict_seconds"] == 6.0
    assert np.isclose(s["mean"], 2.0 / 3)
    ft = s["versus"]["finetuned"]
    assert np.isclose(ft["difference"], (0.1 + 0.0 - 0.2) / 3) and ft["at_least_as_good"] == 2 and ft["behind"] == 1
    mr = s["versus"]["minirocket"]  # a tie (A), better (B), worse (C)
    assert (mr["ahead"], mr["ties"], mr["behind"], mr["at_least_as_good"]) == (1, 1, 1, 2)
    # a dataset present in both folders with different accuracies is refused, not silently picked
    _rows(tmp_path / "c", {"C": 0.6})
    with pytest.raises(SystemExit, match="two different"):
        compare_bodies.main([f"{b},{tmp_path / 'c'}", "--against", str(table), "--out", str(out)])


def test_an_ensembles_members_are_reported_as_their_seeds(tmp_path):
    from benchmarks import compare_bodies

    table = tmp_path / "old.csv"
    with open(table, "w", newline="") as f:
        w = csv.DictWriter(f, ["dataset", "finetuned", "finetuned_seconds"])
        w.writeheader()
        for d in "AB":
            w.writerow({"dataset": d, "finetuned": 0.5, "finetuned_seconds": 1.0})
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "rows.jsonl").write_text("".join(json.dumps(
        {"dataset": d, "arm": "finetuned", "seed": 0, "accuracy": a, "fit_predict_seconds": 3.0,
         "member_accuracies": m, "member_seeds": [0, 1, 2]}) + "\n"
        for d, a, m in (("A", 0.9, [0.8, 0.7, 0.9]), ("B", 0.6, [0.6, 0.6, 0.3]))))
    compare_bodies.main([str(tmp_path / "e"), "--against", str(table), "--out", str(tmp_path / "out"), "--stem", "x"])
    members = json.loads((tmp_path / "out" / "summary.json").read_text())["members"]
    np.testing.assert_allclose(members["mean_per_seed"], [0.7, 0.65, 0.6])
    assert np.isclose(members["ensemble_minus_mean_member"]["difference"], ((0.9 - 0.8) + (0.6 - 0.5)) / 2)
    assert members["ensemble_minus_mean_member"]["ahead"] == 2
    with open(tmp_path / "out" / "x.csv") as f:
        assert [r["seed 2"] for r in csv.DictReader(f)] == ["0.9", "0.3"]
