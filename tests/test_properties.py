"""Property-based tests: random lengths, NaN patterns, dtypes, label types and shapes.

The only failures allowed are ValueError or TypeError with a message that names the problem; masking
invariance (alone versus padded in a batch) holds for any lengths.
"""

import concurrent.futures

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tszoo.validation import check_labels, check_series

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.function_scoped_fixture])

dtypes = st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.float16, np.bool_, np.complex64,
                          np.str_, object])
values = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32), st.integers(-5, 5),
                   st.just(np.nan), st.just(0.0))


@FAST
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6), elements=values),
       dtypes, st.sampled_from(["raise", "interpolate"]))
def test_any_array_is_accepted_or_refused_with_a_message(raw, dtype, missing):
    with np.errstate(all="ignore"):
        X = raw.astype(dtype)
    try:
        out = check_series(X, missing=missing)
    except (ValueError, TypeError) as exc:
        assert len(str(exc)) > 20  # a message that says something
        return
    assert out.dtype == np.float32 and out.ndim in (2, 3)
    assert not np.isinf(out).any()
    lengths = out.shape[-1] - np.argmax(~np.isnan(out[..., ::-1]).reshape(-1, out.shape[-1]), axis=1)
    rows = out.reshape(-1, out.shape[-1])
    for row, n in zip(rows, lengths):  # after validation, NaN is only padding at the end
        assert not np.isnan(row[:n]).any() or out.ndim == 3


@FAST
@given(st.lists(st.lists(st.floats(-1e3, 1e3, width=32), min_size=1, max_size=30), min_size=1, max_size=8))
def test_lists_of_any_lengths_pad_at_the_end_and_keep_values(rows):
    out = check_series([np.array(r, np.float32) for r in rows])
    assert out.shape == (len(rows), max(map(len, rows)))
    for i, r in enumerate(rows):
        np.testing.assert_array_equal(out[i, : len(r)], np.array(r, np.float32))
        assert np.isnan(out[i, len(r):]).all()


@FAST
@given(st.lists(st.floats(-10, 10, width=32), min_size=3, max_size=30), st.data())
def test_a_nan_inside_a_series_is_missing_not_padding(row, data):
    i = data.draw(st.integers(0, len(row) - 2))
    x = np.array([row], np.float32)
    x[0, i] = np.nan
    with pytest.raises(ValueError, match="missing values"):
        check_series(x)
    filled = check_series(x, missing="interpolate")
    assert not np.isnan(filled).any() and filled.shape == x.shape


@FAST
@given(st.one_of(hnp.arrays(np.float64, st.integers(0, 8), elements=st.one_of(st.integers(-3, 3), st.just(np.nan))),
                 hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=8), elements=st.integers(-3, 3)),
                 st.lists(st.one_of(st.integers(-3, 3), st.text(max_size=3), st.none()), max_size=8)),
       st.integers(0, 8))
def test_labels_are_accepted_or_refused_with_a_message(y, n):
    try:
        out = check_labels(y, n)
    except (ValueError, TypeError) as exc:
        assert len(str(exc)) > 20
        return
    assert len(out) == n


@pytest.fixture(scope="module")
def tiny_bodies(tiny_models):
    import tszoo

    return {name: tszoo.load(str(tiny_models[name])) for name in ("timenet", "convtimenet")}


@SLOW
@given(lengths=st.lists(st.integers(1, 60), min_size=1, max_size=5), seed=st.integers(0, 2 ** 16),
       which=st.sampled_from(["timenet", "convtimenet"]), zeros=st.integers(0, 3))
def test_masking_invariance_for_any_lengths(tiny_bodies, lengths, seed, which, zeros):
    from tszoo.inference import compiled

    model = tiny_bodies[which]
    call = compiled(model)
    rng = np.random.default_rng(seed)
    X = np.full((len(lengths), max(lengths), 1), np.nan, np.float32)
    for i, n in enumerate(lengths):
        X[i, :n, 0] = rng.normal(size=n)
        X[i, max(0, n - zeros): n, 0] = 0.0  # trailing real zeros are data
    batch = call(X)
    assert np.isfinite(batch).all()
    for i, n in enumerate(lengths):
        np.testing.assert_allclose(batch[i], call(X[i: i + 1, :n])[0], atol=1e-5)


def test_a_model_used_from_several_threads_gives_single_thread_results(tiny_bodies):
    from tszoo.inference import predict_batched

    rng = np.random.default_rng(0)
    inputs = []
    for _ in range(8):
        x = rng.normal(size=(6, 40, 1)).astype(np.float32)
        x[2, 25:] = np.nan
        inputs.append(x)
    for model in tiny_bodies.values():
        expected = [predict_batched(model, x) for x in inputs]
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            got = list(pool.map(lambda x: predict_batched(model, x), inputs * 3))
        for i, out in enumerate(got):
            np.testing.assert_array_equal(out, expected[i % len(inputs)])
