"""The benchmark rows' shared bookkeeping: each finished row says which machine made it."""

import json
import os
from importlib import metadata

from benchmarks import common


def test_a_row_records_the_machine_that_made_it_and_a_copied_row_keeps_its_own(tmp_path):
    here = common.machine()
    assert here["cpus"] == len(os.sched_getaffinity(0)) and here["cpu"]
    assert here["versions"]["tensorflow"] == metadata.version("tensorflow")
    assert here["versions"]["keras"] == metadata.version("keras")
    assert set(here["isa"]) <= set(common.ISA_FLAGS)
    here["isa"].append("mutated")  # each call gives a fresh dict: the cached record cannot be changed by a caller
    assert "mutated" not in common.machine()["isa"]

    rows = common.Rows(tmp_path, key=("dataset", "arm"))
    rows.add({"dataset": "GunPoint", "arm": "a", "accuracy": 0.9})
    elsewhere = {**common.machine(), "cpu": "another CPU", "isa": []}
    rows.add({"dataset": "GunPoint", "arm": "b", "accuracy": 0.8, "machine": elsewhere})  # made elsewhere
    rows.add({"dataset": "GunPoint", "arm": "c", "accuracy": 0.7}, stamp=False)  # copied from a run without one
    again = [json.loads(x) for x in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert again == rows.rows
    assert again[0]["machine"] == common.machine()
    assert again[1]["machine"]["cpu"] == "another CPU"
    assert "machine" not in again[2]

    counts = common.machines(again)
    assert counts == {common.machine_label(common.machine()): 1, common.machine_label(elsewhere): 1,
                      "not recorded": 1}
    assert "none of avx2/avx512f" in common.machine_label(elsewhere) and "another CPU" in common.machine_label(elsewhere)
    lines = common.machines_lines(again)
    assert lines[1] == "Rows made on:" and "- not recorded: 1 rows" in lines
