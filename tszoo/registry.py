"""Finding, verifying and loading published models.

A published version is a folder ``<root>/<name>/<version>/`` (integer versions; the highest is the default), in
TF Serving's layout:

* ``saved_model.pb``, ``variables/``, ...: the SavedModel TF Serving loads (signature ``serving_default``,
  input ``series``, output ``embedding`` or ``probabilities``);
* ``model.keras``: the Keras-native model that :func:`load` returns;
* ``README.md``: the model card (YAML front matter in Hugging Face's form);
* ``tszoo.json``: the card as data, with the sha256 of every other file. :func:`load` checks them all and
  refuses a changed or missing file, naming it.

Roots searched, in order: the folders in ``$TSZOO_MODELS_DIR`` (separated by ``os.pathsep``), then the models
installed with tszoo.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

CARD = "tszoo.json"
README = "README.md"
KERAS_FILE = "model.keras"
MODELS_ENV = "TSZOO_MODELS_DIR"


ARCHITECTURE_NAMES = ("timenet", "convtimenet")
TASKS = ("embedding", "classification")


def architecture_of(card: dict) -> str:
    """Which architecture a card's model is: its ``architecture`` field; cards written before it existed (v1)
    are read from the builder they name."""
    if card.get("architecture"):
        return card["architecture"]
    function = card.get("builder", {}).get("function", "").rsplit(".", 1)[-1]
    known = {"build_timenet": "timenet", "TimeNetClassifier": "timenet", "build_convtimenet": "convtimenet",
             "ConvTimeNetClassifier": "convtimenet"}
    if function not in known:
        raise ValueError(f"model card of {card.get('name')!r} names no known architecture (builder {function!r}); "
                         f"expected one of {ARCHITECTURE_NAMES}")
    return known[function]


def task_of(card: dict) -> str:
    """``"embedding"`` (a body: series -> embedding) or ``"classification"`` (series -> class probabilities)."""
    if card.get("task"):
        return card["task"]
    return "classification" if card.get("signature", {}).get("output") == "probabilities" else "embedding"


class IntegrityError(ValueError):
    """A published model's files do not match the hashes its card records."""


def model_roots() -> list[Path]:
    roots = [Path(p).expanduser() for p in os.environ.get(MODELS_ENV, "").split(os.pathsep) if p]
    here = Path(__file__).resolve().parent
    # Installed wheel: tszoo/savedmodels; source checkout (editable install): <repo>/savedmodels.
    roots += [here / "savedmodels", here.parent / "savedmodels"]
    return [r for r in roots if r.is_dir()]


def _versions(folder: Path) -> list[int]:
    return sorted(int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit()
                  and (p / CARD).is_file())


def list_models() -> list[str]:
    """Names of the published models, from every root."""
    names = set()
    for root in model_roots():
        names.update(p.name for p in root.iterdir() if p.is_dir() and _versions(p))
    return sorted(names)


def versions(name: str) -> list[int]:
    """Published versions of ``name``, ascending (from the first root that has it)."""
    for root in model_roots():
        if (root / name).is_dir() and _versions(root / name):
            return _versions(root / name)
    return []


def resolve(name_or_path, version: int | None = None) -> Path:
    """The folder of a published version: a model name (and version), or a path to a version folder."""
    if isinstance(name_or_path, os.PathLike) or (isinstance(name_or_path, str) and
                                                 ("/" in name_or_path or os.sep in name_or_path)):
        path = Path(name_or_path).expanduser()
        if not (path / CARD).is_file():
            if path.is_dir() and _versions(path):
                return path / str(version if version is not None else _versions(path)[-1])
            raise FileNotFoundError(f"{path} is not a published model version: it has no {CARD}. Expected a "
                                    "folder written by tszoo's publish or export (<name>/<version>/)")
        return path
    if not isinstance(name_or_path, str):
        raise TypeError(f"expected a model name or a path, got {type(name_or_path).__name__}")
    for root in model_roots():
        folder = root / name_or_path
        if folder.is_dir() and _versions(folder):
            available = _versions(folder)
            chosen = available[-1] if version is None else int(version)
            if chosen not in available:
                raise ValueError(f"model {name_or_path!r} has no version {version}; available: {available}")
            return folder / str(chosen)
    raise ValueError(f"unknown model {name_or_path!r}; available: {', '.join(list_models()) or 'none'} "
                     f"(searched {', '.join(str(r) for r in model_roots()) or 'no model folders'})")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` except the card itself, by POSIX relative path."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): sha256(p)
            for p in sorted(folder.rglob("*")) if p.is_file() and p != folder / CARD}


def verify(folder) -> dict:
    """Check every file the card lists against its sha256; return the card. Raises :class:`IntegrityError`."""
    folder = Path(folder)
    card_path = folder / CARD
    try:
        card = json.loads(card_path.read_text())
    except FileNotFoundError as exc:
        raise IntegrityError(f"{card_path} is missing: not a published model version") from exc
    except json.JSONDecodeError as exc:
        raise IntegrityError(f"{card_path} is not valid JSON ({exc}); the model card was damaged") from exc
    files = card.get("files")
    if not isinstance(files, dict) or not files:
        raise IntegrityError(f"{card_path} lists no file hashes; cannot verify {folder}")
    for rel, expected in files.items():
        path = folder / rel
        if not path.is_file():
            raise IntegrityError(f"{path} is missing from published model {folder}; the card lists it")
        if sha256(path) != expected:
            raise IntegrityError(f"{path} has changed since {folder} was published (sha256 differs from the "
                                 "card's); reinstall or republish the model")
    return card


def info(name_or_path, version: int | None = None) -> dict:
    """The model card of a published version, as a dict (verified)."""
    folder = resolve(name_or_path, version)
    card = verify(folder)
    return {**card, "path": str(folder)}


def load(name_or_path, version: int | None = None, num_classes: int | None = None):
    """Load a published model as a ``keras.Model``, after checking its files' hashes.

    Args:
        name_or_path: a model name from :func:`list_models` or a path to a version folder (e.g. a fine-tuned
            model written by ``tszoo finetune``).
        version: the version; default the highest.
        num_classes: with it, the same body plus a new, trainable softmax head of ``num_classes`` outputs named
            ``probabilities``, ready to fine-tune.
    """
    import keras

    import tszoo.layers  # noqa: F401  registers the custom layers for deserialization

    folder = resolve(name_or_path, version)
    verify(folder)
    model = keras.saving.load_model(str(folder / KERAS_FILE), compile=False)
    if num_classes is None:
        return model
    from tszoo.heads import classifier

    return classifier(model, num_classes)[0]
