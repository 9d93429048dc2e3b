import json

import pytest

from benchmarks import precision


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_the_precision_report_pairs_the_same_fits_and_says_whether_seconds_compare(tmp_path):
    m = {"cpu": "X", "cpu_family_model_stepping": "6/1/1", "isa": ["avx2"], "cpus": 2, "keras_backend": "tensorflow",
         "versions": {"keras": "3"}}
    f32 = [{"dataset": d, "k": k, "draw": 0, "arm": "ctn_finetuned", "accuracy": a, "seconds": 10.0, "machine": m}
           for d, k, a in (("A", 1, 0.5), ("B", 1, 0.7), ("A", 5, 0.8), ("C", 5, 0.9))]
    b16 = [{"dataset": d, "k": k, "draw": 0, "arm": "ctn_finetuned@precision=mixed_bfloat16", "accuracy": a,
            "seconds": 4.0, "machine": m}
           for d, k, a in (("A", 1, 0.6), ("B", 1, 0.7), ("A", 5, 0.7), ("D", 5, 0.1))]  # D: no float32 fit
    precision.main(["--float32", str(_write(tmp_path / "a.jsonl", f32)), "--bfloat16",
                    str(_write(tmp_path / "b.jsonl", b16)), "--out", str(tmp_path / "out")])
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    by = {(t["arm"], str(t["k"])): t for t in summary["table"]}
    assert by[("ctn_finetuned", "1")]["fits"] == 2 and by[("ctn_finetuned", "1")]["difference_points"] == 5.0
    assert by[("ctn_finetuned", "5")]["fits"] == 1 and by[("ctn_finetuned", "5")]["behind"] == 1
    assert by[("ctn_finetuned", "all")]["fits"] == 3 and by[("ctn_finetuned", "all")]["seconds_ratio"] == 0.4
    assert summary["same_machine"] is True
    report = (tmp_path / "out" / "precision.md").read_text()
    assert "The seconds compare" in report and "NOT" not in report

    targets32 = [{"dataset": "A", "arm": "finetuned", "seed": 0, "accuracy": 0.9, "fit_predict_seconds": 20.0}]
    targets16 = [{"dataset": "A", "arm": "finetuned", "seed": 0, "accuracy": 0.8, "fit_predict_seconds": 10.0,
                  "machine": m}]
    precision.main(["--float32", str(_write(tmp_path / "c.jsonl", targets32)), "--bfloat16",
                    str(_write(tmp_path / "d.jsonl", targets16)), "--out", str(tmp_path / "t")])
    summary = json.loads((tmp_path / "t" / "summary.json").read_text())
    assert summary["table"][0]["difference_points"] == -10.0 and summary["table"][0]["seconds_ratio"] == 0.5
    assert summary["same_machine"] is False  # the float32 row records no machine
    with pytest.raises(SystemExit, match="nothing to pair"):
        precision.main(["--float32", str(tmp_path / "c.jsonl"), "--bfloat16", str(tmp_path / "b.jsonl"),
                        "--out", str(tmp_path / "x")])


def test_pretraining_step_timing_runs_both_precisions_on_the_same_batches(tmp_path):
    """``benchmarks.pretraining_precision`` on a tiny archive: a row per precision, the same steps timed in each,
    and losses that agree to rounding (the same network and batches in both)."""
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from archive import tiny_archive
    from benchmarks import pretraining_precision

    archive = tiny_archive(tmp_path)
    rows = pretraining_precision.main(["--archive", str(archive), "--steps", "2", "--rounds", "2", "--filters", "4",
                                       "--num-blocks", "2", "--bottleneck", "4", "--kernel-sizes", "3,8",
                                       "--batch-size", "8", "--out", str(tmp_path / "out")])
    assert [r["precision"] for r in rows] == ["float32", "mixed_bfloat16"]
    assert all(r["timed_steps"] == 2 and r["seconds_per_step"] > 0 for r in rows)
    assert rows[0]["mean_loss"] != rows[1]["mean_loss"]
    assert abs(rows[0]["mean_loss"] - rows[1]["mean_loss"]) < 0.02 * rows[0]["mean_loss"]
    saved = json.loads((tmp_path / "out" / "pretraining_precision.json").read_text())
    assert saved["rows"] == rows and "| mixed_bfloat16 |" in (tmp_path / "out" / "pretraining_precision.md").read_text()
