"""What pretraining (``builders.training``) and fine-tuning (``tszoo.finetuning``) share to survive a kill: files
and folders replaced atomically, and one backend-neutral checkpoint of a model and its optimizer."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk (a rename is durable only once both are)."""
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if path.is_dir() else 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # a platform that cannot open folders (Windows): nothing more to do
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_atomically(path, write) -> None:
    """``write(temporary_path)``, then rename it onto ``path``: a kill mid-write leaves the previous file (or
    folder) intact and never a torn one.

    Works for a file or a folder that ``write`` creates. The temporary is ``partial-<name>`` beside ``path``, so it
    keeps the suffix that writers such as ``save_weights`` (``.weights.h5``) and ``np.savez`` (``.npz``) check. The
    new content is flushed to disk before the rename, and the parent folder after it.
    """
    path = Path(path)
    partial = path.with_name(f"partial-{path.name}")
    _remove(partial)
    try:
        write(partial)
        if partial.is_dir():
            for child in partial.rglob("*"):
                if child.is_file():
                    _fsync(child)
        _fsync(partial)
        if partial.is_dir():
            # A folder is never put over an existing one; os.rename refuses a non-empty target itself.
            if path.exists():
                raise FileExistsError(f"{path} already exists; it is never overwritten")
            os.rename(partial, path)
        else:
            os.replace(partial, path)
    except BaseException:
        _remove(partial)  # a failed write leaves nothing behind
        raise
    _fsync(path.parent)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


class Checkpoint:
    """Model variables (weights, statistics, dropout seed states), optimizer variables and a small JSON state, in
    one ``ckpt-<n>.npz``; ``latest`` names the newest and is replaced atomically after it is written.

    Plain arrays, so a checkpoint written under one Keras backend restores under another. The newest
    ``max_to_keep`` are kept, and with ``keep_every=N`` also every N-th (``ckpt-N``, ``ckpt-2N``, ...: candidates to
    choose among after the run).
    """

    def __init__(self, folder, model, optimizer, max_to_keep: int = 2, keep_every: int = 0):
        if int(keep_every) < 0:
            raise ValueError(f"keep_every={keep_every!r}; expected 0 (keep only the newest) or an integer >= 1")
        self.folder = Path(folder)
        self.model, self.optimizer, self.max_to_keep = model, optimizer, max_to_keep
        self.keep_every = int(keep_every)

    @property
    def latest(self) -> Path | None:
        pointer = self.folder / "latest"
        if not pointer.exists():
            return None
        path = self.folder / pointer.read_text().strip()
        return path if path.exists() else None

    def save(self, number: int, state: dict) -> Path:
        import keras

        self.folder.mkdir(parents=True, exist_ok=True)
        arrays = {f"model/{i:04d}": np.asarray(keras.ops.convert_to_numpy(v.value))
                  for i, v in enumerate(self.model.variables)}
        arrays |= {f"optimizer/{i:04d}": np.asarray(keras.ops.convert_to_numpy(v.value))
                   for i, v in enumerate(self.optimizer.variables)}
        arrays["state"] = np.frombuffer(json.dumps(state).encode(), np.uint8)
        path = self.folder / f"ckpt-{number}.npz"
        replace_atomically(path, lambda tmp: np.savez(tmp, **arrays))
        replace_atomically(self.folder / "latest", lambda tmp: tmp.write_text(path.name))
        kept = sorted(self.folder.glob("ckpt-*.npz"), key=lambda p: int(p.stem.split("-")[1]))
        for old in kept[: -self.max_to_keep]:
            if not (self.keep_every and int(old.stem.split("-")[1]) % self.keep_every == 0):
                old.unlink(missing_ok=True)
        return path

    def restore(self, path=None) -> dict:
        """Assign the checkpoint's values; returns its JSON state."""
        path = Path(path or self.latest)
        with np.load(path) as f:
            _assign(f, path, "model", self.model.variables)
            _assign(f, path, "optimizer", self.optimizer.variables)
            return json.loads(bytes(f["state"]).decode())


def _assign(f, path, prefix: str, variables) -> None:
    names = sorted(k for k in f.files if k.startswith(prefix + "/"))
    if len(names) != len(variables):
        raise ValueError(f"{path} holds {len(names)} {prefix} variables; this {prefix} has {len(variables)}: it was "
                         "made by another architecture or optimizer")
    for name, variable in zip(names, variables):
        value = f[name]
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"{path}: {name} has shape {value.shape}, {variable.path} expects "
                             f"{tuple(variable.shape)}")
        variable.assign(value)


def load_model_values(path, model) -> dict:
    """Assign a ``Checkpoint``'s model variables to ``model`` (its optimizer's are left out); returns its state."""
    with np.load(path) as f:
        _assign(f, path, "model", model.variables)
        return json.loads(bytes(f["state"]).decode())
