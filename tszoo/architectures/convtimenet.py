"""ConvTimeNet (Kashiparekh et al. 2019): a deep 1-D CNN whose every layer holds filters of several lengths.

Only the paper's abstract is known to us (see ../shared/papers/convtimenet_design_notes.md); the choices below are
ours, documented here and in the model card:

* input: NaN-padded ``(batch, time, 1)``, z-normalised per series inside the graph (``SeriesStandardization``);
* ``num_blocks`` blocks; in each, a 1x1 bottleneck convolution (from the second block on, as in InceptionTime),
  then ``filters`` filters of each length in ``kernel_sizes`` side by side ('same' padding, no bias),
  concatenated, batch normalisation over valid steps only, a residual connection (1x1 projection where the
  width changes) and ReLU;
* after every block the padded steps are set back to zero, so a series in a padded batch sees exactly the zero
  'same' padding it sees alone: outputs never depend on the rest of the batch;
* masked global average pooling over valid steps gives the embedding (``filters * len(kernel_sizes)`` numbers);
* for pretraining, one linear+softmax head per source dataset (:func:`build_multihead`).

Written against ``keras.ops`` and standard layers, so the same builder runs under TensorFlow and JAX.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from tszoo.layers import INPUT_NAME, MaskedGlobalAveragePooling, SeriesStandardization, ZeroPadding

DEFAULT_KERNEL_SIZES = (8, 16, 32, 64)


def build_convtimenet(kernel_sizes=DEFAULT_KERNEL_SIZES, filters: int = 32, num_blocks: int = 4,
                      bottleneck: int = 32, residual: bool = True, name: str = "convtimenet"):
    """Build ConvTimeNet's body: NaN-padded series ``(batch, time, 1)`` -> embedding.

    Args:
        kernel_sizes: filter lengths held side by side in every block (default 8, 16, 32, 64: up to 64, as the
            secondary notes on the paper report for its first layer). A single length gives the paper's
            single-length ablation.
        filters: filters per length; a block's width is ``filters * len(kernel_sizes)`` (default 128).
        num_blocks: number of multi-length blocks (default 4).
        bottleneck: channels of the 1x1 convolution in front of each block after the first (0: none).
        residual: add a residual connection around each block.
        name: the model's name.

    Returns:
        A ``keras.Model`` named ``name`` with output ``embedding`` of size ``filters * len(kernel_sizes)``.
    """
    kernel_sizes = tuple(int(k) for k in kernel_sizes)
    if not kernel_sizes or min(kernel_sizes) < 1 or filters < 1 or num_blocks < 1 or bottleneck < 0:
        raise ValueError(f"need at least one kernel size >= 1, filters >= 1, num_blocks >= 1, bottleneck >= 0; "
                         f"got kernel_sizes={kernel_sizes}, filters={filters}, num_blocks={num_blocks}, "
                         f"bottleneck={bottleneck}")
    width = filters * len(kernel_sizes)
    series = keras.Input((None, 1), name=INPUT_NAME)
    x, mask = SeriesStandardization(name="standardize")(series)
    for block in range(1, num_blocks + 1):
        p = f"block{block}"
        shortcut = x
        h = x
        if bottleneck and x.shape[-1] > bottleneck:
            h = layers.Conv1D(bottleneck, 1, use_bias=False, name=f"{p}_bottleneck")(h)
        branches = [layers.Conv1D(filters, k, padding="same", use_bias=False, name=f"{p}_conv{k}")(h)
                    for k in kernel_sizes]
        h = layers.Concatenate(name=f"{p}_concat")(branches) if len(branches) > 1 else branches[0]
        h = layers.BatchNormalization(name=f"{p}_bn")(h, mask=mask)
        if residual:
            if shortcut.shape[-1] != width:
                shortcut = layers.Conv1D(width, 1, use_bias=False, name=f"{p}_shortcut")(shortcut)
                shortcut = layers.BatchNormalization(name=f"{p}_shortcut_bn")(shortcut, mask=mask)
            h = layers.Add(name=f"{p}_add")([h, shortcut])
        h = layers.ReLU(name=f"{p}_relu")(h)
        x = ZeroPadding(name=f"{p}_zero_padding")(h, mask)
    embedding = MaskedGlobalAveragePooling(name="embedding")(x, mask)
    return keras.Model(series, embedding, name=name)


def build_multihead(body: keras.Model, heads: dict[str, int], name: str = "convtimenet_multihead"):
    """The pretraining model: ``body`` and one linear softmax head per source dataset.

    Returns a model whose output ``source_logits`` concatenates every head's logits, in the order of ``heads``;
    :func:`head_offsets` says which columns belong to which head. A batch comes from one dataset and its loss is
    the cross-entropy of that dataset's head alone (:func:`multihead_loss`): a softmax over its own columns.
    """
    series = keras.Input((None, 1), name=INPUT_NAME)
    embedding = body(series)
    logits = [layers.Dense(n, name=f"head_{i:02d}")(embedding) for i, n in enumerate(heads.values())]
    out = layers.Concatenate(name="source_logits")(logits) if len(logits) > 1 else logits[0]
    return keras.Model(series, out, name=name)


def head_offsets(heads: dict[str, int]) -> list[int]:
    offsets, start = [], 0
    for n in heads.values():
        offsets.append(start)
        start += n
    return offsets


def multihead_loss(logits, labels, head_of_column, head):
    """Per-example cross-entropy of each example's own head: a softmax over that head's columns only.

    ``labels`` are global column indices (the head's offset plus the class index); ``head_of_column`` maps every
    column to its head; ``head`` gives each example's head (a vector, so a batch splits across replicas).
    """
    own = ops.equal(ops.expand_dims(head_of_column, 0), ops.expand_dims(head, 1))
    masked = ops.where(own, logits, ops.full_like(logits, -1e9))
    return keras.losses.sparse_categorical_crossentropy(labels, masked, from_logits=True)
