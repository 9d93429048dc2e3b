"""Faults cost nothing: a pretraining or fine-tuning process killed at a random point resumes to the same weights as an
uninterrupted run; a crash while publishing leaves no half-written version."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from archive import tiny_archive

EPOCHS = 6
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _train(archive, out, resume=False):
    cmd = [sys.executable, "-m", "builders.timenet", "train", "--archive", str(archive), "--out", str(out),
           "--units", "6", "--num-layers", "2", "--batch-size", "8", "--epochs", str(EPOCHS), "--quiet"]
    return cmd + (["--resume"] if resume else [])


def _weights(out):
    import h5py  # written by Keras' save_weights

    with h5py.File(out / "best.weights.h5") as f:
        arrays = []
        f.visititems(lambda name, obj: arrays.append((name, obj[()])) if hasattr(obj, "shape") else None)
    return dict(arrays)


def test_pretraining_killed_at_a_random_point_resumes_to_the_same_weights(tmp_path):
    archive = tiny_archive(tmp_path)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": REPO}
    straight = tmp_path / "straight"
    subprocess.run(_train(archive, straight), cwd=REPO, env=env, check=True, capture_output=True, timeout=600)

    crashed = tmp_path / "crashed"
    proc = subprocess.Popen(_train(archive, crashed), cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    # Kill somewhere after checkpoint k (1 to 3 of 6), at a random moment of the next epoch.
    rng = np.random.default_rng()
    k = int(rng.integers(1, 4))
    latest = crashed / "checkpoints" / "latest"
    deadline = time.time() + 300
    while time.time() < deadline and not (latest.exists() and latest.read_text() == f"ckpt-{k}.npz"):
        time.sleep(0.02)
    time.sleep(rng.uniform(0.0, 0.4))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len((crashed / "history.jsonl").read_text().splitlines())
    assert done < EPOCHS, "the run finished before it could be killed; the test proves nothing"
    subprocess.run(_train(archive, crashed, resume=True), cwd=REPO, env=env, check=True, capture_output=True,
                   timeout=600)

    history = [json.loads(x) for x in (crashed / "history.jsonl").read_text().splitlines()]
    # every epoch recorded once, whenever the kill came
    assert [h["epoch"] for h in history] == list(range(1, EPOCHS + 1))
    straight_history = [json.loads(x) for x in (straight / "history.jsonl").read_text().splitlines()]
    assert [h["loss"] for h in history] == [h["loss"] for h in straight_history]
    a, b = _weights(straight), _weights(crashed)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_a_crash_while_publishing_leaves_no_version(tmp_path, monkeypatch):
    import keras

    from tszoo.architectures.convtimenet import build_convtimenet
    from tszoo.publishing import publish_model

    body = build_convtimenet((3,), 2, 1, 2)
    calls = {"n": 0}
    original = keras.Model.save

    def crash(self, *args, **kwargs):
        calls["n"] += 1
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        publish_model(body, "m", root=tmp_path, architecture="convtimenet", builder={"function": "x", "arguments": {}})
    assert calls["n"] == 1
    assert not (tmp_path / "m" / "1").exists()
    assert not [p for p in (tmp_path / "m").iterdir()]  # no temporary folder left behind
    monkeypatch.setattr(keras.Model, "save", original)
    assert publish_model(body, "m", root=tmp_path, architecture="convtimenet",
                         builder={"function": "x", "arguments": {}}).name == "1"


def test_finetuning_killed_at_a_random_point_resumes_to_the_same_weights(tiny_models, tmp_path):
    import tszoo

    epochs = 10
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": REPO, "TSZOO_MODELS_DIR": str(tiny_models["root"])}

    def finetune(out):
        return [sys.executable, "-m", "tszoo", "--quiet", "finetune", "convtimenet", "--dataset", "GunPoint",
                "--epochs", str(epochs), "--out", str(out), "--checkpoint-dir", str(tmp_path / f"{out.name}_ckpt")]

    subprocess.run(finetune(tmp_path / "straight"), env=env, check=True, capture_output=True, timeout=600)
    crashed = tmp_path / "crashed"
    proc = subprocess.Popen(finetune(crashed), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rng = np.random.default_rng()
    k = int(rng.integers(1, 5))  # after the checkpoint of epoch k, at a random moment of the next one
    # the default fine-tunes two networks, on the series and on its first difference: killed inside the second
    state = tmp_path / "crashed_ckpt" / "member_0_diff" / "state.json"
    deadline = time.time() + 300
    while time.time() < deadline and not (state.exists() and json.loads(state.read_text())["epochs_done"] >= k):
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, 0.2))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert state.exists() and json.loads(state.read_text())["epochs_done"] < epochs, \
        "the fit finished before it could be killed; the test proves nothing"
    assert (tmp_path / "crashed_ckpt" / "member_0" / "finished.json").exists()  # the first network is kept
    assert not (crashed / "convtimenet-GunPoint").exists()  # nothing was published by the killed run
    subprocess.run(finetune(crashed), env=env, check=True, capture_output=True, timeout=600)

    a = tszoo.load(str(tmp_path / "straight" / "convtimenet-GunPoint" / "1")).get_weights()
    b = tszoo.load(str(crashed / "convtimenet-GunPoint" / "1")).get_weights()
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not state.exists() and not list((tmp_path / "crashed_ckpt").iterdir())  # the completed fit removed
    # its checkpoints
