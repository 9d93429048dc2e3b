"""Choosing a pretrained body by a linear probe cross-validated inside the targets' training splits."""

import json

import numpy as np
from test_few_labels import _archive


def test_probe_separates_informative_from_uninformative_embeddings():
    from benchmarks.body_selection import probe_cv_accuracy

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    informative = rng.normal(size=(60, 8)) + 3.0 * np.eye(3, 8)[y]
    noise = rng.normal(size=(60, 8))
    accuracy, k = probe_cv_accuracy(informative, y)
    assert k == 5 and accuracy > 0.95
    assert probe_cv_accuracy(noise, y)[0] < 0.6
    # the smallest class sets the folds; a class of one series falls back to plain folds
    assert probe_cv_accuracy(informative[:43], y[:43])[1] == 3
    assert probe_cv_accuracy(informative[:41], y[:41])[1] == 5


def test_selection_reads_only_training_splits_and_resumes(tmp_path, tiny_models):
    from benchmarks import body_selection

    archive, out = _archive(tmp_path), tmp_path / "out"
    for name in ("ArrowHead", "ItalyPowerDemand"):  # a test split that cannot be read: it is never opened
        (archive / name / f"{name}_TEST.tsv").write_text("not a table\n")
    model = str(tiny_models["convtimenet"])
    argv = ["--archive", str(archive), "--models", model, "--out", str(out)]
    body_selection.main(argv)
    rows = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines()]
    assert [r["dataset"] for r in rows] == ["ArrowHead", "ItalyPowerDemand"]
    assert all(0.0 <= r["probe_cv_accuracy"] <= 1.0 and r["embedding"] == 8 for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["chosen"] == model and summary["datasets"] == 2
    # a rerun recomputes nothing: the rows it finds make the table
    (out / "rows.jsonl").write_text("\n".join(json.dumps({**r, "probe_cv_accuracy": 0.25}) for r in rows) + "\n")
    body_selection.main(argv)
    assert json.loads((out / "summary.json").read_text())["means"][model] == 0.25
