"""Choosing among a TimeNet run's kept checkpoints by TN-C on held-out training series: every kept epoch and the
reference model are scored on the same split, no test split is read, and the report pairs them."""

import json

import numpy as np
import pytest
from archive import tiny_archive
from test_training import _run


def test_candidates_are_the_kept_checkpoints_scored_without_test_splits(tmp_path, tiny_models):
    import tszoo
    from benchmarks import timenet_candidates
    from tszoo.inference import embed

    archive, run, out = tiny_archive(tmp_path, series_per_split=30), tmp_path / "run", tmp_path / "out"
    _run(["-m", "builders.timenet", "train", "--archive", str(archive), "--out", str(run), "--batch-size", "8",
          "--quiet", "--units", "6", "--num-layers", "2", "--epochs", "3", "--keep-every", "1",
          "--validate-every", "2"], "tensorflow")
    for test in archive.glob("*/*_TEST.tsv"):
        test.write_text("not a series\n")  # unreadable: a run that reads a test split fails
    argv = ["--run", str(run), "--against", str(tiny_models["timenet"]), "--average", "3,1", "--archive",
            str(archive), "--datasets", "SinA,SinC", "--cap", "24", "--out", str(out)]
    timenet_candidates.main(argv)
    rows = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines()]
    candidates = ["timenet/1", "run@1", "run@2", "run@3", "run@avg1,3"]
    assert sorted({r["candidate"] for r in rows}) == sorted(candidates) and len(rows) == 10
    assert {(r["n_fit"], r["n_scored"]) for r in rows} == {(16, 8)} and all(0 <= r["error"] <= 1 for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["against_reference"]) == set(candidates[1:]) and summary["pooling"] == "last+mean"
    report = (out / "timenet_candidates.md").read_text()
    history = [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines()]
    assert f"{history[1]['val_reconstruction_mse']:.3f}" in report.splitlines()[6]  # epoch 2's own validation

    # the candidate is the checkpoint's encoder: the same embedding as that checkpoint published
    root = tmp_path / "models"
    _run(["-m", "builders.timenet", "publish", "--run", str(run), "--root", str(root), "--checkpoint", "2",
          "--selection-note", "test"], "tensorflow")
    x = np.sin(np.linspace(0, 6, 30, dtype=np.float32))[None, :]
    mine = embed(timenet_candidates.checkpoint_encoder(run, run / "checkpoints" / "ckpt-2.npz"), x)
    np.testing.assert_allclose(mine, embed(tszoo.load(str(root / "timenet" / "1")), x), rtol=1e-5, atol=1e-6)

    # the averaged candidate's weights are the mean of the checkpoints' (an average of one checkpoint with
    # itself is that checkpoint)
    ckpt = [run / "checkpoints" / f"ckpt-{e}.npz" for e in (1, 2, 3)]
    same = timenet_candidates.averaged_encoder(run, [ckpt[1], ckpt[1]])
    np.testing.assert_allclose(embed(same, x), mine, rtol=1e-6, atol=1e-7)
    first, last = (timenet_candidates.checkpoint_encoder(run, c) for c in (ckpt[0], ckpt[2]))
    mean = timenet_candidates.averaged_encoder(run, [ckpt[0], ckpt[2]])
    for a, b, m in zip(first.weights, last.weights, mean.weights):
        np.testing.assert_allclose(np.asarray(m), (np.asarray(a) + np.asarray(b)) / 2, rtol=1e-6, atol=1e-7)
    assert not np.allclose(np.asarray(first.weights[0]), np.asarray(last.weights[0]))
    with pytest.raises(ValueError, match="at least two"):
        timenet_candidates.averaged_encoder(run, ckpt[:1])

    # resumable: finished rows are kept as they are; a checkpoint that is not there is refused with the kept ones
    (out / "rows.jsonl").write_text("".join(json.dumps({**r, "error": 0.5}) + "\n" for r in rows))
    timenet_candidates.main(argv)
    assert set(json.loads((out / "summary.json").read_text())["mean_error"].values()) == {0.5}
    with pytest.raises(SystemExit, match="kept: \\[1, 2, 3\\]"):
        timenet_candidates.main([*argv, "--epochs", "7"])
    with pytest.raises(SystemExit, match="kept: \\[1, 2, 3\\]"):
        timenet_candidates.main([*argv, "--average", "1,9"])
    with pytest.raises(SystemExit, match="two or more"):
        timenet_candidates.main([*argv, "--average", "2"])
    with pytest.raises(SystemExit, match="other settings"):
        timenet_candidates.main([*argv[:-4], "--cap", "20", "--out", str(out)])
