"""benchmarks.finetune_step_cost: one row per shape, a step's cost and what a fit pays once, both measured."""


def test_the_step_cost_table_has_a_measured_row_per_shape(tiny_models):
    from benchmarks.finetune_step_cost import main

    lines = main(["--model", str(tiny_models["convtimenet"]), "--shapes", "8x2,16x4"])
    rows = [line.strip("|").split("|") for line in lines[2:]]
    assert [(int(r[0]), int(r[1])) for r in rows] == [(8, 2), (16, 4)]
    # both figures are measured numbers (a step's cost on a tiny network under a loaded CI can be within noise)
    assert all(abs(float(r[2])) < 1e4 and abs(float(r[3])) < 1e3 for r in rows)
