"""benchmarks.few_labels_run_time: the whole few-labels run's time, from a run of fewer draws and the DTW arm."""

import json

import pytest

from benchmarks.few_labels_run_time import main


def _rows(folder, rows):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def _row(dataset, k, arm, accuracy, seconds, start, launch="1", draw=0, **extra):
    return {"dataset": dataset, "k": k, "draw": draw, "arm": arm, "accuracy": accuracy, "seconds": seconds,
            "launch": launch, "started_at": start, "finished_at": start + seconds, **extra}


def test_estimate_scales_the_short_run_by_the_draws_and_adds_dtw_and_pairs_rows_with_an_earlier_run(tmp_path):
    run = tmp_path / "run"
    # one invocation from t=0 to t=100 (two workers overlapping), the default arm a copy of the fine-tuned one
    _rows(run, [_row("A", 1, "ctn_finetuned", 0.5, 60.0, 0.0), _row("B", 1, "ctn_finetuned", 0.7, 90.0, 10.0),
                _row("A", 1, "ctn_default", 0.5, 60.0, 0.0, same_as="ctn_finetuned"),
                _row("A", 1, "minirocket", 0.6, 1.0, 99.0)])
    dtw = tmp_path / "dtw"
    _rows(dtw, [_row("A", 1, "dtw", 0.4, 500.0, 0.0, draw=d) for d in range(5)])  # spans 0-500: 500 s wall
    earlier = tmp_path / "earlier.jsonl"
    earlier.write_text("".join(json.dumps(r) + "\n" for r in [
        _row("A", 1, "ctn_finetuned", 0.5, 120.0, 0.0), _row("B", 1, "ctn_finetuned", 0.6, 180.0, 0.0),
        _row("A", 1, "minirocket", 0.6, 2.0, 0.0), _row("A", 1, "tnc", 0.3, 5.0, 0.0),
        _row("A", 1, "dtw", 0.4, 1000.0, 0.0, draw=0)]))
    out = tmp_path / "report"
    main(["--run", str(run), "--dtw", str(dtw), "--against", f"{earlier}:ctn_finetuned,minirocket,dtw",
          "--out", str(out), "--name", "t"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run_wall_seconds"] == 100.0 and summary["dtw_wall_seconds"] == 500.0
    assert summary["estimate_seconds"] == pytest.approx(5 * 100.0 + 500.0)
    finetuned = summary["against"]["ctn_finetuned"]
    assert (finetuned["rows"], finetuned["seconds_now"], finetuned["seconds_then"]) == (2, 150.0, 300.0)
    assert finetuned["ties"] == 1 and finetuned["difference"] == pytest.approx(0.05)
    assert "ctn_default" not in summary["against"] and "tnc" not in summary["against"]
    assert summary["against"]["dtw"]["rows"] == 1 and summary["against"]["dtw"]["ties"] == 1  # the DTW run's rows
    report = (out / "t.md").read_text()
    assert "| **the whole benchmark** | **1000 (0.28 h)** |" in report and "Target: 2 h (7200 s): met." in report
    assert "`ctn_default` (copies of `ctn_finetuned`'s rows" in report


def test_refuses_dtw_rows_in_the_short_run_and_a_missing_reference(tmp_path):
    run = tmp_path / "run"
    _rows(run, [_row("A", 1, "dtw", 0.4, 5.0, 0.0)])
    with pytest.raises(SystemExit, match="holds dtw rows"):
        main(["--run", str(run), "--out", str(tmp_path / "o")])
    _rows(run, [_row("A", 1, "minirocket", 0.4, 5.0, 0.0)])
    with pytest.raises(SystemExit, match="no such rows file"):
        main(["--run", str(run), "--against", str(tmp_path / "nothing.jsonl"), "--out", str(tmp_path / "o")])
    main(["--run", str(run), "--out", str(tmp_path / "o"), "--name", "n"])  # no DTW run: said, not guessed
    assert "without DTW" in (tmp_path / "o" / "n.md").read_text()


def test_two_runs_of_different_draws_give_a_line_whose_once_only_part_is_not_counted_again(tmp_path):
    # one draw: 0-130 s (30 s paid once per dataset, 100 a draw); two draws: 0-230 s
    one, two = tmp_path / "one", tmp_path / "two"
    _rows(one, [_row("A", 1, "ctn_finetuned", 0.5, 130.0, 0.0)])
    _rows(two, [_row("A", 1, "ctn_finetuned", 0.5, 130.0, 0.0), _row("A", 1, "ctn_finetuned", 0.6, 100.0, 130.0,
                                                                       draw=1)])
    dtw = tmp_path / "dtw"
    _rows(dtw, [_row("A", 1, "dtw", 0.4, 50.0, 0.0, draw=d) for d in range(5)])
    out = tmp_path / "report"
    main(["--run", str(two), "--run", str(one), "--dtw", str(dtw), "--out", str(out), "--name", "t"])  # any order
    summary = json.loads((out / "summary.json").read_text())
    assert summary["per_draw_seconds"] == pytest.approx(100.0) and summary["once_seconds"] == pytest.approx(30.0)
    assert summary["estimate_seconds"] == pytest.approx(30.0 + 5 * 100.0 + 50.0)  # not 5 x 130 or 2.5 x 230
    assert summary["draws_run"] == [0, 1]  # the longer run is the one reported
    report = (out / "t.md").read_text()
    assert "| a draw (the difference per draw) | 100 |" in report and "(the longer run x 2.5, for comparison) | 575 |" \
        in report and "| **the whole benchmark** | **580 (0.16 h)** |" in report
    with pytest.raises(SystemExit, match="same number of draws"):
        main(["--run", str(one), "--run", str(one), "--out", str(out)])
