"""Both builders: they build, train a few steps and lose loss; masking invariance; trailing real zeros."""

import keras
import numpy as np
import pytest
from conftest import ragged_batch

from tszoo.heads import classifier
from tszoo.architectures.convtimenet import (build_convtimenet, build_multihead, head_offsets,
                                        multihead_loss)
from tszoo.architectures.timenet import build_timenet, reconstruction_loss
from tszoo.layers import reversed_target, standardize_series


def small_timenet():
    return build_timenet(units=8, num_layers=3, dropout=0.4)


def small_ctn(**kw):
    return build_convtimenet(**{"kernel_sizes": (3, 5, 8), "filters": 4, "num_blocks": 2, "bottleneck": 4, **kw})


def test_standardization_ignores_padding_and_keeps_zeros(rng):
    X = ragged_batch(rng, [10, 6], trailing_zeros=2)
    values, mask = standardize_series(X)
    values, mask = np.asarray(values), np.asarray(mask)
    assert mask.sum(axis=1).tolist() == [10, 6]
    assert np.all(values[1, 6:] == 0.0)
    np.testing.assert_allclose(values[1, :6, 0].mean(), 0.0, atol=1e-6)
    np.testing.assert_allclose(values[1, :6, 0].std(), 1.0, atol=1e-5)


def test_reversed_target_reverses_each_series_over_its_own_length(rng):
    X = ragged_batch(rng, [5, 3])
    target, valid = (np.asarray(t) for t in reversed_target(X))
    values, _ = standardize_series(X)
    np.testing.assert_allclose(target[1, :3], np.asarray(values)[1, 2::-1, 0], atol=1e-6)
    assert valid.sum(axis=1).tolist() == [5, 3]


def test_timenet_embedding_size_and_paper_defaults():
    autoencoder, encoder = build_timenet()
    assert encoder.output.shape[-1] == 180
    assert [l.units for l in encoder.layers if isinstance(l, keras.layers.GRU)] == [60, 60, 60]
    grus = [l for l in autoencoder.layers + encoder.layers if isinstance(l, keras.layers.GRU)]
    assert all(l.recurrent_dropout == 0 for l in grus)
    # dropout between layers only: never on the series itself, nor on the decoder's step input
    assert {l.name: l.dropout for l in grus} == {"encoder_gru_1": 0.0, "encoder_gru_2": 0.4, "encoder_gru_3": 0.4,
                                                 "decoder_gru_1": 0.0, "decoder_gru_2": 0.4, "decoder_gru_3": 0.4}


def test_timenet_never_drops_a_training_series_whole(rng):
    """Keras draws one dropout mask per sequence: on a one-channel input that would zero whole series. The
    first layer sees every series intact in training mode, exactly as at inference."""
    _, encoder = build_timenet(units=8, num_layers=3, dropout=0.4)
    X = ragged_batch(rng, [20] * 64)
    train = np.asarray(encoder(X, training=True))
    infer = np.asarray(encoder(X, training=False))
    np.testing.assert_allclose(train[:, :8], infer[:, :8], atol=1e-6)  # layer 1's state: no dropout
    assert not np.allclose(train[:, 8:], infer[:, 8:])  # later layers: dropout between layers is on


def test_timenet_trains_and_loses_loss(rng):
    keras.utils.set_random_seed(0)
    autoencoder, _ = build_timenet(units=16, num_layers=2, dropout=0.0)
    autoencoder.compile(keras.optimizers.Adam(0.01), loss=reconstruction_loss)
    lengths = [30, 25, 20, 30, 18, 27, 30, 22]
    X = np.full((8, 30, 1), np.nan, np.float32)
    for i, n in enumerate(lengths):  # smooth series: white noise cannot be reconstructed from an embedding
        X[i, :n, 0] = np.sin(np.linspace(0, rng.uniform(1, 3), n) + rng.uniform(0, 3))
    before = autoencoder.evaluate(X, X, verbose=0)
    autoencoder.fit(X, X, epochs=25, batch_size=8, verbose=0)
    after = autoencoder.evaluate(X, X, verbose=0)
    assert after < 0.7 * before


@pytest.mark.parametrize("which", ["timenet", "convtimenet"])
def test_masking_invariance_alone_versus_padded(rng, which):
    model = small_timenet()[1] if which == "timenet" else small_ctn()
    X = ragged_batch(rng, [40, 13, 27, 40])
    batch = model.predict(X, verbose=0)
    for i, n in enumerate([40, 13, 27, 40]):
        alone = model.predict(X[i:i + 1, :n], verbose=0)
        np.testing.assert_allclose(batch[i], alone[0], atol=1e-5)


@pytest.mark.parametrize("which", ["timenet", "convtimenet"])
def test_trailing_real_zeros_are_not_padding(rng, which):
    model = small_timenet()[1] if which == "timenet" else small_ctn()
    x = ragged_batch(rng, [30], trailing_zeros=5)
    with_zeros = model.predict(x, verbose=0)
    cut = model.predict(x[:, :25], verbose=0)
    assert np.abs(with_zeros - cut).max() > 1e-4  # zeros changed the embedding: they were read as data
    padded = x.copy()
    padded[:, 25:] = np.nan
    np.testing.assert_allclose(model.predict(padded, verbose=0), cut, atol=1e-5)


def test_convtimenet_multi_length_blocks_and_single_length_ablation():
    body = small_ctn()
    convs = [l for l in body.layers if l.name.startswith("block1_conv")]
    assert sorted(l.kernel_size[0] for l in convs) == [3, 5, 8]
    assert body.output.shape[-1] == 12
    single = small_ctn(kernel_sizes=(5,), filters=12)
    assert single.output.shape[-1] == 12
    assert any(isinstance(l, keras.layers.Add) for l in body.layers)


def test_convtimenet_multihead_and_finetune_heads_train(rng):
    keras.utils.set_random_seed(0)
    body = small_ctn()
    heads = {"a": 2, "b": 3}
    model = build_multihead(body, heads)
    assert model.output.shape[-1] == 5 and head_offsets(heads) == [0, 2]
    x = ragged_batch(rng, [20] * 6)
    logits = model(x)
    columns = np.array([0, 0, 1, 1, 1])
    loss = multihead_loss(logits, np.array([2, 3, 4, 2, 3, 4]), columns, np.ones(6, 'int32'))
    assert loss.shape == (6,) and np.isfinite(np.asarray(loss)).all()
    clf, _, _ = classifier(body, 2)
    clf.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    y = np.array([0, 1, 0, 1, 0, 1])
    x[y == 1, :, 0] += np.linspace(0, 3, 20)
    before = clf.evaluate(x, y, verbose=0)
    clf.fit(x, y, epochs=15, verbose=0)
    assert clf.evaluate(x, y, verbose=0) < before


def test_builders_refuse_bad_arguments():
    with pytest.raises(ValueError, match="units"):
        build_timenet(units=0)
    with pytest.raises(ValueError, match="kernel"):
        build_convtimenet(kernel_sizes=())
