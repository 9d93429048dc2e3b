"""benchmarks.step_cap_by_size: the step-cap studies' rows read by training-set size."""

import gzip
import json

import pytest

from benchmarks.step_cap_by_size import main


def _write(path, rows):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)


def test_gains_by_size_and_the_automatic_cap_from_both_kinds_of_rows(tmp_path):
    thirds = tmp_path / "thirds.jsonl"
    # three datasets: small (no gain), middle (loses 2 points), large (gains 10)
    sizes = {"Small": (30, 0.80, 0.80), "Middle": (500, 0.70, 0.68), "Large": (2000, 0.60, 0.70)}
    _write(thirds, [{"dataset": d, "candidate": c, "n_fit": n, "val_accuracy": acc, "seconds": s, "split_seed": 1}
                    for d, (n, short, long) in sizes.items()
                    for c, acc, s in (("default", short, 10.0), ("steps1000", long, 40.0))]
           + [{"dataset": "Other", "candidate": "scratch", "n_fit": 9, "val_accuracy": 0.1, "seconds": 1.0}])
    few = tmp_path / "few.jsonl.gz"
    _write(few, [{"dataset": "Small", "k": k, "draw": 0, "arm": arm, "n_train": 2 * k, "accuracy": acc,
                  "seconds": 1.0} for k in (1, 5) for arm, acc in (("a", 0.5), ("a@max_steps=1000", 0.5 + k / 100))])
    out = tmp_path / "report"
    main(["--thirds", f"{thirds}:default:steps1000", "--thirds", f"{thirds}:default:steps1000",
          "--few-labels", f"{few}:a:a@max_steps=1000", "--out", str(out), "--name", "r"])
    summary = json.loads((out / "summary.json").read_text())
    first, _, fewlabels = summary["sources"]
    assert first["pairs"] == 3 and "split seed 1" in first["label"]
    assert first["mean"] == pytest.approx({"short": 0.70, "auto": (0.80 + 0.70 + 0.70) / 3, "long": 0.726667},
                                          abs=1e-6)
    assert first["seconds"] == {"short": 30.0, "auto": 60.0, "long": 120.0}
    assert [(b["from"], round(100 * b["difference"], 6)) for b in first["bins"]] == [(0, 0.0), (400, -2.0),
                                                                                      (1000, 10.0)]
    assert fewlabels["pairs"] == 2 and fewlabels["mean"]["auto"] == fewlabels["mean"]["short"] == 0.5
    report = (out / "r.md").read_text()
    assert "| Large | 2000 | +10.00 | +10.00 |" in report
    # both sources of thirds pooled by size: two pairs of one dataset per bin, no dataset-level se from one dataset
    assert [(b["from"], b["pairs"], b["datasets"], round(100 * b["gain"], 6), b["se_pairs"], b["se_datasets"])
            for b in summary["pooled_thirds"]] == [(0, 2, 1, 0.0, 0.0, None), (400, 2, 1, -2.0, 0.0, None),
                                                   (1000, 2, 1, 10.0, 0.0, None)]
    assert "| 1000- | 2 | 1 | +10.00 | 0.00 | - |" in report
    with pytest.raises(SystemExit, match="no rows of \\['steps4000'\\]"):
        main(["--thirds", f"{thirds}:default:steps4000", "--out", str(out)])
    with pytest.raises(SystemExit, match="FILE:SHORT:LONG"):
        main(["--thirds", str(thirds), "--out", str(out)])
    with pytest.raises(SystemExit, match="nothing to read"):
        main(["--out", str(out)])
