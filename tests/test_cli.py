"""The tszoo command, run in-process against tiny published models."""

import numpy as np
import pytest

import tszoo
from tszoo.cli import main
from tszoo.datasets import load_ucr
from tszoo.registry import MODELS_ENV


@pytest.fixture
def models_env(tiny_models, monkeypatch):
    monkeypatch.setenv(MODELS_ENV, str(tiny_models["root"]))
    return tiny_models


def test_list_and_info(models_env, capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "timenet" in out and "convtimenet" in out
    assert main(["info", "timenet", "--json"]) == 0
    assert '"model.keras"' in capsys.readouterr().out  # the card with its file hashes


def test_finetune_saves_a_loadable_model_and_prints_accuracy(models_env, tmp_path, capsys):
    # in bfloat16 arithmetic (README's main job runs the default float32): the saved model is a float32 network
    # that gives the printed accuracy
    assert main(["--quiet", "finetune", "convtimenet", "--dataset", "GunPoint", "--epochs", "2", "--precision",
                 "mixed_bfloat16", "--out", str(tmp_path), "--plots", str(tmp_path / "plots")]) == 0
    out = capsys.readouterr().out
    assert "test accuracy on GunPoint:" in out
    accuracy = float(out.split("test accuracy on GunPoint:")[1].split()[0])
    model = tszoo.load(str(tmp_path / "convtimenet-GunPoint" / "1"))
    card = tszoo.info(str(tmp_path / "convtimenet-GunPoint" / "1"))
    assert card["classes"] == [1, 2] and card["signature"]["output"] == "probabilities"
    assert card["builder"]["arguments"]["precision"] == "mixed_bfloat16"
    assert {layer.compute_dtype for layer in model._flatten_layers()} == {"float32"}
    Xt, yt = load_ucr("GunPoint", "test")
    proba = model.predict(Xt[..., None], verbose=0)
    assert abs(np.mean(np.array([1, 2])[proba.argmax(1)] == yt) - accuracy) < 1e-3
    assert (tmp_path / "plots" / "confusion_matrix.png").stat().st_size > 1000


def test_csv_with_named_label_column_and_embed(models_env, tmp_path, capsys):
    X, y = load_ucr("ItalyPowerDemand", "train")
    header = "label," + ",".join(f"t{i}" for i in range(X.shape[1]))
    for name, rows in (("train", slice(0, 40)), ("test", slice(40, 67))):
        lines = [header] + [",".join([str(lab), *map(str, row)]) for lab, row in zip(y[rows], X[rows])]
        (tmp_path / f"{name}.csv").write_text("\n".join(lines) + "\n")
    assert main(["evaluate", "timenet", "--train", str(tmp_path / "train.csv"), "--test",
                 str(tmp_path / "test.csv"), "--label-column", "label"]) == 0
    assert "test accuracy" in capsys.readouterr().out
    np.save(tmp_path / "x.npy", X[:7])
    assert main(["embed", "timenet", "--data", str(tmp_path / "x.npy"), "--out", str(tmp_path / "e.npy")]) == 0
    assert np.load(tmp_path / "e.npy").shape == (7, 24)


@pytest.mark.parametrize("argv, message", [
    (["finetune", "convtimenet", "--train", "missing.csv", "--test", "missing.csv"], "missing.csv: no such file"),
    (["finetune", "convtimenet"], "give --dataset NAME"),
    (["info", "nosuchmodel"], "unknown model 'nosuchmodel'"),
    (["finetune", "timenet", "--dataset", "GunPoint"], "not fine-tuned"),
])
def test_bad_input_is_one_line_and_nonzero(models_env, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and "Traceback" not in err[0]


def test_bad_csv_names_the_file(models_env, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("label,a,b\n1,0.5,x\n2,0.1,0.2\n")
    assert main(["evaluate", "timenet", "--train", str(bad), "--test", str(bad), "--label-column", "label"]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "non-numeric" in err


def test_readme_main_job_on_the_published_model(tmp_path, capsys, monkeypatch):
    """The README's second command, on the published ConvTimeNet: a fine-tuned GunPoint model, accuracy >= 0.95."""
    monkeypatch.delenv(MODELS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert "convtimenet" in tszoo.list_models()
    assert main(["--quiet", "finetune", "convtimenet", "--dataset", "GunPoint"]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("test accuracy on GunPoint:")[1].split()[0])
    assert accuracy >= 0.95
    assert tszoo.load(str(tmp_path / "finetuned" / "convtimenet-GunPoint" / "1")).output.shape[-1] == 2


def test_plot_commands_write_pngs(models_env, tmp_path, capsys):
    from PIL import Image

    assert main(["plot", "filters", "convtimenet", "--out", str(tmp_path / "filters.png")]) == 0
    assert main(["plot", "tsne", "timenet", "--dataset", "ItalyPowerDemand", "--max-series", "60",
                 "--out", str(tmp_path / "tsne.png")]) == 0
    assert main(["--quiet", "finetune", "convtimenet", "--dataset", "ItalyPowerDemand", "--epochs", "1",
                 "--out", str(tmp_path / "ft")]) == 0
    assert main(["plot", "occlusion", str(tmp_path / "ft" / "convtimenet-ItalyPowerDemand" / "1"),
                 "--dataset", "ItalyPowerDemand", "--index", "2", "--out", str(tmp_path / "occ.png")]) == 0
    for name in ("filters.png", "tsne.png", "occ.png"):
        width, height = Image.open(tmp_path / name).size
        assert width > 300 and height > 300
    assert main(["plot", "occlusion", "convtimenet", "--dataset", "GunPoint", "--out", str(tmp_path / "x.png")]) == 2
    assert "needs a classifier" in capsys.readouterr().err
