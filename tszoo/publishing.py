"""Writing a model as a versioned, verifiable folder ``<root>/<name>/<version>/`` with its model card.

Used for the zoo's published models (builders/) and for users' fine-tuned models (``tszoo finetune``).

Everything is written into a temporary folder beside the target and renamed into place in one step, so a crash
leaves no half-written version; an existing version is never overwritten.
"""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path

from tszoo.checkpointing import replace_atomically
from tszoo.layers import INPUT_NAME
from tszoo.registry import CARD, KERAS_FILE, README, _versions, file_hashes


def _yaml_scalar(value) -> str:
    return json.dumps(value)  # JSON strings and numbers are valid YAML scalars


def render_card(card: dict, sections: dict[str, str] | None = None) -> str:
    """README.md: YAML front matter in Hugging Face's model-card form, then the card in prose and tables."""
    classifier = card.get("task") == "classification"
    front = ["---", "library_name: keras", "license: apache-2.0",
             *([] if classifier else ["pipeline_tag: feature-extraction"]), "tags:", "  - time-series", "  - time-series-classification", "  - tszoo", f"  - {card['name']}",
             "datasets:"]
    front += [f"  - ucr/{d}" for d in card.get("training", {}).get("datasets", [])] or ["  - ucr"]
    metrics = card.get("metrics", {})
    scalar_metrics = {k: v for k, v in metrics.items() if isinstance(v, (int, float))}
    if scalar_metrics:
        front += ["model-index:", f"  - name: {card['name']}-v{card['version']}", "    results:",
                  "      - task:", "          type: time-series-classification", "        metrics:"]
        for k, v in scalar_metrics.items():
            front += [f"          - type: {k}", f"            value: {_yaml_scalar(v)}"]
    front.append("---")
    sig = card["signature"]
    lines = [
        f"# {card['name']} v{card['version']}", "", card.get("description", ""), "",
        "## Use", "", "```python", "import tszoo",
        f"model = tszoo.load({card['name']!r}, version={card['version']})  # verifies every file's sha256",
        ("probabilities = model.predict(series)  # float32 [batch, time, 1], shorter series NaN-padded at the end"
         if classifier else
         "embedding = model.predict(series)  # float32 [batch, time, 1], shorter series NaN-padded at the end"),
        "```", "",
        *([f"Classes, in the order of the probabilities: `{json.dumps(card.get('classes'))}`.", ""]
          if classifier else []),
        f"Architecture: `{card.get('architecture')}`; task: `{card.get('task', 'embedding')}`.", "",
        f"SavedModel signature `serving_default`: input `{sig['input']}` float32 `[batch, time, 1]` "
        f"(NaN-padded), output `{sig['output']}` float32 `[batch, {card.get('output_size')}]`. "
        "The model z-normalises each series over its valid points and masks the padding itself.", "",
        "## Architecture", "", f"- builder: `{card['builder']['function']}`",
        f"- arguments: `{json.dumps(card['builder']['arguments'])}`",
        f"- parameters: {card['parameters']:,}", f"- output size: {card.get('output_size')}", "",
    ]
    training = {k: v for k, v in card.get("training", {}).items() if k != "history"}
    if training:
        lines += ["## Training", "", "| setting | value |", "|---|---|"]
        lines += [f"| {k} | {json.dumps(v) if not isinstance(v, str) else v} |" for k, v in training.items()]
        lines.append("")
    if metrics:
        lines += ["## Metrics", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in metrics.items()]
        lines.append("")
    for title, body in (sections or {}).items():
        lines += [f"## {title}", "", body.strip(), ""]
    lines += ["## Versions", ""] + [f"- {k}: {v}" for k, v in card["software"].items()] + [
        "", f"Published {card['created']}. `tszoo.json` holds this card as data with the sha256 of every file."]
    return "\n".join(front) + "\n\n" + "\n".join(lines) + "\n"


def hardware() -> str:
    """What this process trains on, read from the machine: the accelerator if the backend sees one, else the CPU."""
    import os

    import keras

    cpu = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores"
    try:
        if keras.backend.backend() == "jax":
            import jax

            gpus = [d.device_kind for d in jax.devices() if d.platform != "cpu"]
        else:
            import tensorflow as tf

            gpus = [tf.config.experimental.get_device_details(d).get("device_name", d.name)
                    for d in tf.config.list_physical_devices("GPU")]
    except Exception:  # a backend that cannot list devices: report the CPU only
        gpus = []
    name = keras.backend.backend()
    return f"{', '.join(gpus)} ({name}); host {cpu}" if gpus else f"{cpu}, no GPU ({name})"


def software_versions() -> dict:
    import keras
    import numpy
    import tensorflow as tf

    import tszoo

    return {"tszoo": tszoo.__version__, "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": numpy.__version__, "python": platform.python_version()}


def publish_model(model, name: str, *, root, architecture: str, task: str = "embedding", classes=None,
                  version: int | None = None, description: str = "", builder: dict, training: dict | None = None,
                  metrics: dict | None = None, card_sections: dict | None = None, extra: dict | None = None) -> Path:
    """Write ``model`` as ``<root>/<name>/<version>/`` and return that path.

    The card says what the folder holds: ``architecture`` (``timenet`` or ``convtimenet``), ``task``
    (``embedding``: series -> embedding, or ``classification``: series -> probabilities over ``classes``, the
    labels in output order). ``version`` defaults to one more than the highest published; an existing version is
    an error.
    """
    from tszoo.export import write_savedmodel
    from tszoo.heads import OUTPUT_NAME
    from tszoo.registry import ARCHITECTURE_NAMES, TASKS

    if architecture not in ARCHITECTURE_NAMES:
        raise ValueError(f"architecture={architecture!r}; expected one of {ARCHITECTURE_NAMES}")
    if task not in TASKS:
        raise ValueError(f"task={task!r}; expected one of {TASKS}")
    if (task == "classification") != (classes is not None):
        raise ValueError("a classifier's card needs its classes (labels in output order), an embedding model's none")
    if classes is not None and len(classes) != int(model.output.shape[-1]):
        raise ValueError(f"{len(classes)} classes for a model with {model.output.shape[-1]} outputs")

    root = Path(root)
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"model name {name!r}: use letters, digits, '-' and '_'")
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    existing = _versions(folder)
    version = version if version is not None else (existing[-1] + 1 if existing else 1)
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"version={version!r}; expected a positive integer")
    target = folder / str(version)
    if target.exists():
        raise FileExistsError(f"{target} exists; a published version is never overwritten")

    def write(tmp: Path) -> None:
        output = OUTPUT_NAME if task == "classification" else "embedding"
        write_savedmodel(model, tmp, output=output)
        model.save(str(tmp / KERAS_FILE))
        card = {
            "name": name, "version": version, "description": description, "architecture": architecture,
            "task": task, **({"classes": [c.item() if hasattr(c, "item") else c for c in classes]}
                             if classes is not None else {}),
            "builder": builder,
            "signature": {"name": "serving_default", "input": INPUT_NAME, "output": output},
            "output_size": int(model.output.shape[-1]), "parameters": int(model.count_params()),
            "training": training or {}, "metrics": metrics or {}, **(extra or {}),
            "software": software_versions(), "platform": f"{platform.system()} {platform.machine()}",
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        (tmp / README).write_text(render_card(card, card_sections))
        card["files"] = file_hashes(tmp)
        (tmp / CARD).write_text(json.dumps(card, indent=2, default=str) + "\n")

    replace_atomically(target, write)  # fails rather than replace if the target appeared meanwhile
    return target

