"""Pictures: functions returning matplotlib figures, used by the command line (``--plots DIR``) and notebooks."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _figure(nrows=1, ncols=1, figsize=None, **kwargs):
    """A figure not managed by pyplot: no GUI backend involved, shown inline by notebooks, freed when dropped."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def training_curves(history: dict, title: str = "training"):
    """Loss (and accuracy, where recorded) per epoch from a Keras-style history dict."""
    from matplotlib.ticker import MaxNLocator

    fig, axes = _figure(1, 2, figsize=(10, 3.6))
    epochs = np.arange(1, len(history["loss"]) + 1)
    for key, ax in (("loss", axes[0]), ("accuracy", axes[1])):
        for prefix, style in (("", "-"), ("val_", "--")):
            if prefix + key in history:
                ax.plot(epochs, history[prefix + key], style, label=(prefix or "train_") + key)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true, y_pred, labels=None, title: str = "confusion matrix"):
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = _figure(figsize=(5, 4.5))
    ConfusionMatrixDisplay.from_predictions(y_true, y_pred, labels=labels, ax=ax, colorbar=False, cmap="Blues")
    accuracy = float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))
    ax.set_title(f"{title} (accuracy {accuracy:.3f})")
    fig.tight_layout()
    return fig


def embedding_tsne(embeddings, labels, title: str = "t-SNE of embeddings", random_state: int = 0):
    """2-D t-SNE of embeddings, one colour per class (the TimeNet paper's Fig. 2)."""
    from sklearn.manifold import TSNE

    E = np.asarray(embeddings, np.float64)
    perplexity = float(min(30, max(2, (len(E) - 1) // 3)))
    points = TSNE(2, perplexity=perplexity, init="pca", random_state=random_state).fit_transform(E)
    fig, ax = _figure(figsize=(6, 5.5))
    labels = np.asarray(labels)
    for cls in np.unique(labels):
        sel = labels == cls
        ax.scatter(points[sel, 0], points[sel, 1], s=10, alpha=0.8, label=str(cls))
    ax.set_title(f"{title}\n{len(E)} series, {len(np.unique(labels))} classes")
    ax.set_xticks([])
    ax.set_yticks([])
    if len(np.unique(labels)) <= 15:
        ax.legend(title="class", fontsize=8, markerscale=2, loc="best")
    fig.tight_layout()
    return fig


def occlusion_sensitivity(model, series, target=None, window: int | None = None, stride: int | None = None):
    """How much the probability of ``target`` drops when a window of the series is occluded.

    Occluding replaces the window with the series' mean (an uninformative value after z-normalisation). Returns
    ``(sensitivity per time step, target index)``: the mean drop over the windows covering each step.
    """
    from tszoo.inference import predict_batched

    x = np.asarray(series, np.float32).ravel()
    n = int(np.sum(~np.isnan(x)))
    x = x[:n]
    window = window or max(4, n // 10)
    stride = stride or max(1, window // 4)
    base = predict_batched(model, x[None, :, None])[0]
    target = int(np.argmax(base)) if target is None else int(target)
    starts = list(range(0, max(1, n - window + 1), stride))
    occluded = np.repeat(x[None, :], len(starts), axis=0)
    for row, start in enumerate(starts):
        occluded[row, start: start + window] = x.mean()
    drops = base[target] - predict_batched(model, occluded[..., None])[:, target]
    total, count = np.zeros(n), np.zeros(n)
    for drop, start in zip(drops, starts):
        total[start: start + window] += drop
        count[start: start + window] += 1
    return total / np.maximum(count, 1), target


def occlusion_map(model, series, target=None, classes=None, title: str = "occlusion sensitivity", **kwargs):
    """The series coloured by occlusion sensitivity: where occluding it lowers the predicted class most."""
    sensitivity, target = occlusion_sensitivity(model, series, target, **kwargs)
    x = np.asarray(series, np.float32).ravel()[: len(sensitivity)]
    fig, axes = _figure(2, 1, figsize=(9, 4.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    t = np.arange(len(x))
    points = axes[0].scatter(t, x, c=sensitivity, cmap="coolwarm", s=12,
                             vmin=-np.abs(sensitivity).max(), vmax=np.abs(sensitivity).max())
    axes[0].plot(t, x, color="0.6", lw=0.8, zorder=0)
    label = classes[target] if classes is not None else target
    axes[0].set_title(f"{title}: class {label}")
    fig.colorbar(points, ax=axes, label="drop in probability when occluded")
    axes[1].fill_between(t, sensitivity, color="tab:red", alpha=0.6)
    axes[1].set_xlabel("time step")
    axes[1].set_ylabel("drop")
    return fig


def first_layer_filters(body, max_filters: int = 8, title: str = "first-layer filters"):
    """The first block's convolution filters, one column per filter length."""
    convs = sorted((l for l in body.layers if l.name.startswith("block1_conv")), key=lambda l: l.kernel_size[0])
    if not convs:
        raise ValueError(f"{body.name} has no block1_conv layers: not a ConvTimeNet body")
    fig, axes = _figure(max_filters, len(convs), figsize=(2.6 * len(convs), 1.1 * max_filters), squeeze=False)
    for col, conv in enumerate(convs):
        kernel = np.asarray(conv.kernel)[:, 0, :]  # (length, filters)
        for row in range(max_filters):
            ax = axes[row, col]
            if row < kernel.shape[1]:
                ax.plot(kernel[:, row], lw=1.2)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0, col].set_title(f"length {conv.kernel_size[0]}")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def save_finetune_plots(clf, X_test, y_test, folder) -> list[Path]:
    """Training curves and the test confusion matrix of a fitted :class:`ConvTimeNetClassifier`."""
    folder = Path(folder)
    return [save(training_curves(clf.history_, "fine-tuning"), folder / "training_curves.png"),
            save(confusion_matrix(y_test, clf.predict(X_test), labels=clf.classes_), folder / "confusion_matrix.png")]
