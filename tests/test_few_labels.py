"""The few-labels benchmark at k = 1 and 2 on bundled data, with tiny published models: every arm completes."""

import json

import numpy as np
import pytest

from tszoo.datasets import load_ucr


def _archive(root, names=("ArrowHead", "ItalyPowerDemand")):
    """Datasets bundled with aeon in the UCR layout, test splits cut to 45 series, and a protocol file."""
    for name in names:
        folder = root / "UCRArchive_2018" / name
        folder.mkdir(parents=True)
        for split, cut in (("TRAIN", None), ("TEST", 45)):
            X, y = load_ucr(name, split.lower())
            rows = ["\t".join([str(label), *[f"{v:.6f}" for v in x]]) for x, label in zip(X[:cut], y[:cut])]
            (folder / f"{name}_{split}.tsv").write_text("\n".join(rows) + "\n")
    (root / "splits.json").write_text(json.dumps({"targets": list(names)}))
    return root / "UCRArchive_2018"


def test_every_arm_completes_at_one_and_two_labels_per_class(tmp_path, tiny_models):
    from benchmarks import common, few_labels

    import time

    archive, out = _archive(tmp_path), tmp_path / "out"
    began = time.time()
    argv = ["--archive", str(archive), "--timenet", str(tiny_models["timenet"]), "--convtimenet",
            str(tiny_models["convtimenet"]), "--ks", "1,2", "--draws", "2", "--arms", ",".join(few_labels.ARMS),
            "--out", str(out)]
    k1 = [a if a != "1,2" else "1" for a in argv]
    few_labels.main([*k1, "--workers", "2"])  # k = 1: two worker processes, each taking the datasets as it goes
    assert not (out / "claims").exists()  # the workers' claims are cleared once they are done
    # then k = 2 in this process, one dataset after the other (models cached across them), keeping the scores
    few_labels.main([*argv, "--save-scores"])
    elapsed = time.time() - began
    rows = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines()]
    # the two workers' rows carry their launcher's mark; the second invocation's rows another
    assert len({r["launch"] for r in rows if r["k"] == 1}) == 1 and len({r["launch"] for r in rows}) == 2
    assert all(began <= r["started_at"] <= r["finished_at"] <= began + elapsed for r in rows)
    assert sorted((r["dataset"], r["k"], r["draw"], r["arm"]) for r in rows) == sorted(
        (n, k, d, a) for n in ("ArrowHead", "ItalyPowerDemand") for k in (1, 2) for d in range(2)
        for a in few_labels.ARMS)
    assert all(0.0 <= r["accuracy"] <= 1.0 and r["n_scored"] == 45 for r in rows)
    rows = [r for r in rows if r["dataset"] == "ArrowHead"]
    assert {r["n_train"] for r in rows if r["k"] == 1} == {3}  # one series of each of ArrowHead's 3 classes
    by = {(r["k"], r["draw"], r["arm"]): r for r in rows}
    # the default is the full fine-tuning at every size: its row is that arm's, seed for seed
    assert by[(1, 0, "ctn_default")]["same_as"] == "ctn_finetuned"
    assert by[(1, 0, "ctn_default")]["accuracy"] == by[(1, 0, "ctn_finetuned")]["accuracy"]
    assert any("cross-validate" in w for w in by[(1, 0, "tnc")]["warnings"])  # said, not raised
    # draws differ from each other and are a pure function of (dataset, k, draw)
    y = load_ucr("ArrowHead", "train", root=archive)[1]
    assert not np.array_equal(few_labels.draw(y, 2, "ArrowHead", 0), few_labels.draw(y, 2, "ArrowHead", 1))
    np.testing.assert_array_equal(few_labels.draw(y, 2, "ArrowHead", 1), few_labels.draw(y, 2, "ArrowHead", 1))
    # ctn_frozen, computed from embeddings made once, is ConvTimeNetClassifier(finetune="head", batchnorm="frozen")
    from tszoo.estimators import ConvTimeNetClassifier

    X = load_ucr("ArrowHead", "train", root=archive)[0]
    Xt, yt = load_ucr("ArrowHead", "test", root=archive)
    taken = few_labels.draw(y, 2, "ArrowHead", 1)
    head = ConvTimeNetClassifier(model=str(tiny_models["convtimenet"]), finetune="head", batchnorm="frozen",
                                 random_state=1, inputs="series").fit(X[taken], y[taken])  # the series' embeddings
    assert abs(head.score(Xt, yt) - by[(2, 1, "ctn_frozen")]["accuracy"]) < 1e-9
    # dtw, from distances computed once per dataset, is aeon's 1-NN DTW fitted on each draw
    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

    for k, d in ((1, 0), (2, 1)):
        t = few_labels.draw(y, k, "ArrowHead", d)
        knn = KNeighborsTimeSeriesClassifier(n_neighbors=1, distance="dtw").fit(X[t][:, None, :], y[t])
        assert abs(np.mean(knn.predict(Xt[:, None, :]) == yt) - by[(k, d, "dtw")]["accuracy"]) < 1e-9
    # the kept scores are the ones the rows were scored with: their argmax gives each row's accuracy
    for arm in ("ctn_finetuned", "scratch", "minirocket"):
        kept = np.load(out / "scores" / f"ArrowHead_k2_d1_{arm}.npz")
        assert kept["scores"].shape == (45, 3) and list(kept["truth"]) == list(yt)
        right = np.mean(kept["classes"][np.argmax(kept["scores"], axis=1)] == yt)
        assert abs(right - by[(2, 1, arm)]["accuracy"]) < 1e-9
    assert not list((out / "scores").glob("*_k1_*"))  # k = 1 ran without --save-scores
    # the combination with MiniRocket, from those scores: its two parts are the rows' arms; with two classes the
    # standardised scores are +-1, so the models agree or tie, and a tie goes to ConvTimeNet: it is ConvTimeNet
    from benchmarks import few_labels_combination as combination

    combination.main([str(out)])
    scored = combination.score_rows(out)
    assert sorted((r["dataset"], r["k"], r["draw"]) for r in scored) == [
        (n, 2, d) for n in ("ArrowHead", "ItalyPowerDemand") for d in (0, 1)]
    every = {(r["dataset"], r["k"], r["draw"], r["arm"]): r["accuracy"] for r in
             (json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines())}
    for r in scored:
        for arm in ("ctn_finetuned", "minirocket"):
            assert abs(r[arm] - every[(r["dataset"], 2, r["draw"], arm)]) < 1e-9
        if r["dataset"] == "ItalyPowerDemand":
            assert r["combination"] == r["ctn_finetuned"]
    assert json.loads((out / "combination" / "summary.json").read_text())["k2"]["datasets"] == 2
    # with more classes the standardised profiles are added: neither model's scale counts (MiniRocket's decision
    # values times 100 or shifted predict the same), a class both models put first wins, and otherwise the sum
    # decides (a flat ConvTimeNet profile yields to MiniRocket's sharp one)
    rng = np.random.default_rng(0)
    p, d = rng.dirichlet(np.ones(4), size=300), rng.normal(size=(300, 4))
    chosen = combination.combine(p, d)
    np.testing.assert_array_equal(chosen, combination.combine(p, 100 * d + 3))
    agree = np.argmax(p, axis=1) == np.argmax(d, axis=1)
    assert agree.sum() > 30 and np.array_equal(chosen[agree], np.argmax(p, axis=1)[agree])
    assert 0 < np.sum(chosen[~agree] == np.argmax(p, axis=1)[~agree]) < np.sum(~agree)  # each model wins some
    assert combination.combine(np.array([[0.40, 0.35, 0.25]]), np.array([[-1.0, 1.0, -1.0]]))[0] == 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["datasets_done"] == 2 and set(summary["mean_accuracy"]) == set(few_labels.ARMS)
    # a combination with MiniRocket is reported beside the arms, never as tszoo's best arm
    assert summary["k1"]["best_tszoo_arm"] in few_labels.TSZOO_ARMS
    assert summary["invocations"] == 2 and 0 < summary["wall_clock_seconds"] <= elapsed
    assert (out / "few_labels.md").exists() and (out / "few_labels.png").stat().st_size > 0
    done = len((out / "rows.jsonl").read_text().splitlines())
    few_labels.main(argv)  # a rerun finds every row done and adds none
    assert len((out / "rows.jsonl").read_text().splitlines()) == done

    # every row says which machine made it; a copied row keeps its own record (here: DTW rows made before rows
    # had one) and is not stamped with the machine that copies it
    made = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines()]
    assert all(r["machine"] == common.machine() for r in made)
    (out / "rows.jsonl").write_text("".join(json.dumps({k: v for k, v in r.items() if k != "machine"}
                                                       if r["arm"] == "dtw" else r) + "\n" for r in made))
    # a rerun for other weights copies the weight-independent arms' rows and fits only the rest
    again = tmp_path / "again"
    few_labels.main([*k1[:-2], "--arms", "tnc,ctn_frozen,scratch,minirocket,dtw", "--out", str(again),
                     "--reuse-rows", str(out)])
    copied = [json.loads(x) for x in (again / "rows.jsonl").read_text().splitlines()]
    made_here = [r for r in copied if "reused_from" not in r]
    assert {r["arm"] for r in made_here} == {"ctn_frozen"} and len(made_here) == 4
    first = {(r["dataset"], r["k"], r["draw"], r["arm"]): r["accuracy"] for r in
             (json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines())}
    assert all(first[(r["dataset"], r["k"], r["draw"], r["arm"])] == r["accuracy"] for r in copied)
    assert json.loads((again / "summary.json").read_text())["rows_reused"] == 16  # tnc too: same timenet
    assert all(("machine" in r) == (r["arm"] != "dtw") for r in copied)
    assert json.loads((again / "summary.json").read_text())["machines"] == {
        common.machine_label(common.machine()): 16, "not recorded": 4}
    # scratch rows of another architecture, and TN-C rows of another TimeNet, are not copied: they are fitted again
    other = tmp_path / "other"
    other.mkdir()
    (other / "rows.jsonl").write_text("".join(
        json.dumps({**r, "convtimenet_builder": {"filters": 999}}) + "\n" for r in copied if r["arm"] == "scratch")
        + "".join(json.dumps({**r, "models": {**r["models"], "timenet": "timenet/999"}}) + "\n"
                  for r in copied if r["arm"] == "tnc" and r["draw"] == 0)
        # nor TN-C rows of the same TimeNet made with other defaults (2026-11-25 to 2026-12-07: last+mean of the
        # series, layers by cross-validation; such rows name only the pooling)
        + "".join(json.dumps({**{k: v for k, v in r.items() if k not in ("tnc_inputs", "tnc_layers")},
                              "tnc_pooling": "last+mean"}) + "\n"
                  for r in copied if r["arm"] == "tnc" and r["draw"] == 1))
    third = tmp_path / "third"
    few_labels.main([*k1[:-2], "--arms", "scratch,tnc", "--datasets", "ItalyPowerDemand", "--out", str(third),
                     "--reuse-rows", str(other)])
    rows3 = [json.loads(x) for x in (third / "rows.jsonl").read_text().splitlines()]
    assert len(rows3) == 4 and not any("reused_from" in r for r in rows3)
    assert [few_labels.tnc_defaults_of(r) for r in rows3 if r["arm"] == "tnc"] == [
        {"tnc_pooling": "last+mean+max", "tnc_inputs": "series+diff", "tnc_layers": "all"}] * 2
    # and a folder holding such rows is refused rather than mixed with today's (before 2026-11-25: nothing recorded,
    # the final states)
    (other / "rows.jsonl").write_text("".join(json.dumps(
        {k: v for k, v in r.items() if k not in ("tnc_pooling", "tnc_inputs", "tnc_layers")}) + "\n"
        for r in rows3 if r["arm"] == "tnc"))
    with pytest.raises(SystemExit, match=r"2 tnc rows made with TimeNetClassifier defaults \{'tnc_pooling': 'last', "
                                         r"'tnc_inputs': 'series', 'tnc_layers': 'auto'\}, not today's"):
        few_labels.main([*k1[:-2], "--arms", "tnc", "--datasets", "ItalyPowerDemand", "--out", str(other)])
    # nor scratch rows made with other ConvTimeNetClassifier defaults (an older recipe: another fit)
    older = tmp_path / "older"
    older.mkdir()
    (older / "rows.jsonl").write_text("".join(json.dumps({**r, "recipe": {**r["recipe"], "epochs": 7}}) + "\n"
                                              for r in copied if r["arm"] == "scratch"))
    fourth = tmp_path / "fourth"
    few_labels.main([*k1[:-2], "--arms", "scratch", "--datasets", "ItalyPowerDemand", "--draws", "1",
                     "--out", str(fourth), "--reuse-rows", str(older)])
    rows4 = [json.loads(x) for x in (fourth / "rows.jsonl").read_text().splitlines()]
    assert len(rows4) == 1 and "reused_from" not in rows4[0] and rows4[0]["recipe"] == few_labels.default_recipe()


def test_an_arm_with_changed_settings_is_that_estimator_and_bad_settings_are_refused(tmp_path, tiny_models):
    import pytest

    from benchmarks import few_labels
    from tszoo.estimators import ConvTimeNetClassifier

    assert few_labels.parse_arm("ctn_finetuned@max_steps=3@learning_rate=0.002@batchnorm=frozen") == (
        "ctn_finetuned", {"max_steps": 3, "learning_rate": 0.002, "batchnorm": "frozen"})
    for bad, said in (("ctn_finetuned@nosuch=1", "not PARAM=VALUE"), ("ctn_finetuned@max_steps", "not PARAM=VALUE"),
                      ("minirocket@max_steps=3", "only"), ("ctn_tuned", "unknown arm")):
        with pytest.raises(ValueError, match=said):
            few_labels.parse_arm(bad)
    archive, out = _archive(tmp_path, ("ItalyPowerDemand",)), tmp_path / "out"
    argv = ["--archive", str(archive), "--timenet", str(tiny_models["timenet"]), "--convtimenet",
            str(tiny_models["convtimenet"]), "--ks", "2", "--draws", "1", "--out", str(out)]
    # scoring on undrawn training series needs some left: ItalyPowerDemand has 67 (34 and 33 per class)
    assert few_labels.scorable(["ItalyPowerDemand"], archive, [1, 10], 2) == ["ItalyPowerDemand"]
    assert few_labels.scorable(["ItalyPowerDemand"], archive, [1, 40], 2) == []
    with pytest.raises(SystemExit, match="not PARAM=VALUE"):
        few_labels.main([*argv, "--arms", "ctn_finetuned,ctn_finetuned@epoch=3"])
    assert not out.exists()  # refused before anything ran
    few_labels.main([*argv, "--arms", "ctn_finetuned,ctn_finetuned@max_steps=3"])
    rows = {r["arm"]: r for r in (json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines())}
    assert set(rows) == {"ctn_finetuned", "ctn_finetuned@max_steps=3"}
    X, y = load_ucr("ItalyPowerDemand", "train", root=archive)
    Xt, yt = load_ucr("ItalyPowerDemand", "test", root=archive)
    taken = few_labels.draw(y, 2, "ItalyPowerDemand", 0)
    short = ConvTimeNetClassifier(model=str(tiny_models["convtimenet"]), finetune="full", max_steps=3,
                                  random_state=0).fit(X[taken], y[taken])
    assert short.score(Xt, yt) == rows["ctn_finetuned@max_steps=3"]["accuracy"]
    assert 1 <= len(short.history_["loss"]) <= 3  # at most 3 steps, so at most 3 epochs
    # every ConvTimeNetClassifier row says which defaults it ran with; a folder holding rows made with other
    # defaults is refused before anything runs (the arm's name would mean two fits), its report still remade
    assert rows["ctn_finetuned"]["recipe"] == few_labels.default_recipe()
    assert rows["ctn_finetuned"]["recipe"]["epochs"] == ConvTimeNetClassifier().epochs
    lines = (out / "rows.jsonl").read_text().splitlines()
    changed = [json.dumps({**json.loads(x), "recipe": {**json.loads(x)["recipe"], "epochs": 7}}) for x in lines]
    (out / "rows.jsonl").write_text("\n".join(changed) + "\n")
    with pytest.raises(SystemExit, match=r"2 rows of ConvTimeNetClassifier arms made with other default") as said:
        few_labels.main([*argv, "--arms", "ctn_finetuned,ctn_finetuned@max_steps=3"])
    assert f"'epochs': '7 -> {ConvTimeNetClassifier().epochs}'" in str(said.value)
    assert (out / "rows.jsonl").read_text().splitlines() == changed  # nothing lost or added
    few_labels.main([*argv, "--arms", "ctn_finetuned,ctn_finetuned@max_steps=3", "--report-only"])
    assert json.loads((out / "summary.json").read_text())["datasets_done"] == 1
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["mean_accuracy"]) == set(rows)


def test_the_seconds_column_counts_only_the_reported_k_and_draws():
    """A folder can hold rows of other k or draws (an earlier run's): the table's times are those of its own rows."""
    from benchmarks.few_labels import summarise

    rows = [{"dataset": n, "k": k, "draw": d, "arm": a, "accuracy": 0.5, "seconds": seconds}
            for n in ("A", "B") for a in ("ctn_finetuned", "minirocket")
            for k, d, seconds in ((1, 0, 1.0), (5, 0, 2.0), (2, 0, 100.0), (1, 1, 1000.0))]
    for r in rows:  # two invocations: the reported rows in the first (10 s), the others in the second (500 s)
        reported = r["k"] in (1, 5) and r["draw"] == 0
        r.update(launch="one" if reported else "two", started_at=0.0 if reported else 1000.0,
                 finished_at=10.0 if reported else 1500.0)
    _, _, summary = summarise(rows, ["A", "B"], ["ctn_finetuned", "minirocket"], [1, 5], 1, {}, score_on="rest")
    assert summary["seconds"] == {"ctn_finetuned": 6.0, "minirocket": 6.0}
    assert (summary["wall_clock_seconds"], summary["invocations"]) == (10.0, 1)


def test_a_variant_is_paired_with_its_arm_by_dataset():
    from benchmarks.few_labels import summarise

    accuracy = {("A", "ctn_finetuned"): 0.5, ("B", "ctn_finetuned"): 0.7, ("C", "ctn_finetuned"): 0.6,
                ("A", "ctn_finetuned@l2sp=0.01"): 0.6, ("B", "ctn_finetuned@l2sp=0.01"): 0.7,
                ("C", "ctn_finetuned@l2sp=0.01"): 0.5}
    rows = [{"dataset": n, "k": 1, "draw": 0, "arm": a, "accuracy": v, "seconds": 1.0}
            for (n, a), v in accuracy.items()]
    text, _, summary = summarise(rows, ["A", "B", "C"], ["ctn_finetuned", "ctn_finetuned@l2sp=0.01"], [1], 1, {},
                                 score_on="rest")
    found = summary["variants_against_their_arm"]["ctn_finetuned@l2sp=0.01"]["1"]
    assert (found["ahead"], found["ties"], found["behind"]) == (1, 1, 1)
    assert found["difference"] == pytest.approx(0.0) and found["se"] == pytest.approx(0.1 / np.sqrt(3))
    assert "ctn_finetuned@l2sp=0.01 against ctn_finetuned: k = 1 +0.00 (se 5.77; 1 / 1 / 1)" in text


def test_a_dataset_is_claimed_by_one_worker_of_an_invocation(tmp_path):
    from benchmarks import few_labels

    assert few_labels.claim(tmp_path, "launch-1", "GunPoint")
    assert not few_labels.claim(tmp_path, "launch-1", "GunPoint")  # taken: the other worker moves on
    assert few_labels.claim(tmp_path, "launch-1", "ArrowHead")
    assert few_labels.claim(tmp_path, "launch-2", "GunPoint")  # a later invocation claims afresh



def test_rows_made_before_precision_existed_count_as_float32_rows_of_todays_recipe():
    from benchmarks.few_labels import LEGACY_RECIPE, default_recipe, recipe_of

    today = default_recipe()
    assert today["precision"] == "float32"
    # a row of 2026-12-05 records neither precision nor l2sp, label_smoothing and inputs (2026-12-07): it was a
    # float32 fit without either regulariser on the series alone, today's recipe but for the inputs
    before = {k: v for k, v in today.items() if k not in ("precision", "l2sp", "label_smoothing", "inputs")}
    assert today["inputs"] == "series+diff"
    assert recipe_of({"recipe": before}) == {**today, "inputs": "series"} != today
    assert recipe_of({"recipe": {**before, "inputs": "series+diff"}}) == today
    assert recipe_of({"recipe": {**before, "inputs": "series+diff", "l2sp": 0.01}}) != today
    assert recipe_of({"recipe": {**before, "precision": "mixed_bfloat16"}}) != today
    assert recipe_of({})["precision"] == "float32" and recipe_of({})["epochs"] == LEGACY_RECIPE["epochs"]


def test_rows_made_with_the_250_step_cap_on_small_data_are_fits_of_todays_automatic_cap():
    """max_steps became "auto" on 2026-12-07: 250 steps below 1,000 series, as before, so every few-labels row made
    with 250 is today's fit; on 1,000 series or more it is not, and a folder holding such a row is refused."""
    from benchmarks.few_labels import default_recipe, recipe_matches

    today = default_recipe()
    assert today["max_steps"] == "auto"
    old = {"recipe": {**today, "max_steps": 250}}
    assert recipe_matches({**old, "n_train": 600}, today)
    assert not recipe_matches({**old, "n_train": 1000}, today)
    assert not recipe_matches({"recipe": {**today, "max_steps": 100}, "n_train": 20}, today)
    assert not recipe_matches({"recipe": {**today, "epochs": 40}, "n_train": 20}, today)
