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
