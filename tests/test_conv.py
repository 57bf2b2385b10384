"""Convolution and pooling beyond the op table (tests/op_records_conv.py): errors, the
layout helpers, ties in max pooling, windows that hold only padding, transposed
convolutions as gradients, and ``fnp.convolve``/``correlate`` against NumPy."""

import itertools

import numpy as np
import pytest
from op_records_conv import loop_conv, loop_reduce_window

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
from funcgrad.errors import ArgumentError, ShapeError, UnsupportedError
from funcgrad.testing import check_grads

# -- errors -----------------------------------------------------------------------------------
X4, W4 = np.ones((1, 4, 5, 5)), np.ones((6, 2, 3, 3))
W1 = np.ones((6, 4, 3, 3))  # one feature group

ERRORS = [
    ("feature counts", lambda: lax.conv(np.ones((1, 3, 5, 5)), np.ones((2, 2, 3, 3)), (1, 1), "VALID"),
     ShapeError, r"lhs has 3 features and rhs 2 input and 2 output features"),
    ("groups do not divide outputs",
     lambda: lax.conv_general_dilated(X4, np.ones((5, 2, 3, 3)), (1, 1), "VALID",
                                      feature_group_count=2), ShapeError, "divisible"),
    ("rank mismatch", lambda: lax.conv(np.ones((1, 1, 5)), np.ones((1, 1, 3, 3)), (1,), "VALID"),
     ShapeError, r"same number of dimensions.*\(1, 1, 5\) and \(1, 1, 3, 3\)"),
    ("rank too small", lambda: lax.conv(np.ones((1, 5)), np.ones((1, 5)), (), "VALID"),
     ShapeError, "at least 3"),
    ("bad padding string", lambda: lax.conv(X4, W1, (1, 1), "FULL"), ArgumentError,
     r"padding must be one of \('SAME', 'SAME_LOWER', 'VALID'\).*'FULL'"),
    ("padding pairs count", lambda: lax.conv(X4, W1, (1, 1), [(1, 1)]), ArgumentError,
     r"2 \(low, high\) integer pairs"),
    ("strides count", lambda: lax.conv(X4, W1, (1,), "VALID"), ArgumentError,
     r"window_strides must be 2 integers >= 1"),
    ("zero stride", lambda: lax.conv(X4, W1, (1, 0), "VALID"), ArgumentError,
     "window_strides"),
    ("dimension numbers letters",
     lambda: lax.conv_general_dilated(X4, W4, (1, 1), "VALID",
                                      dimension_numbers=("NCHW", "OIHX", "NCHW")), ArgumentError,
     "same spatial axes"),
    ("dimension numbers length",
     lambda: lax.conv_general_dilated(X4, W4, (1, 1), "VALID",
                                      dimension_numbers=("NCH", "OIH", "NCH")), ShapeError,
     r"has 3 axes"),
    ("dimension numbers type",
     lambda: lax.conv_general_dilated(X4, W4, (1, 1), "VALID", dimension_numbers="NCHW"),
     ArgumentError, "three strings"),
    ("groups type", lambda: lax.conv_general_dilated(X4, W4, (1, 1), "VALID", feature_group_count=2.0),
     ArgumentError, "feature_group_count must be an integer"),
    ("batch groups",
     lambda: lax.conv_general_dilated(X4, W4, (1, 1), "VALID", batch_group_count=2),
     UnsupportedError, "batch_group_count=2 is not supported"),
    ("string padding with lhs_dilation",
     lambda: lax.conv_general_dilated(X4, W1, (1, 1), "SAME", lhs_dilation=(2, 2)),
     ArgumentError, "conv_transpose"),
    ("reduce_window computation",
     lambda: lax.reduce_window(np.ones(4), 1.0, fnp.multiply, (2,), (1,), "VALID"),
     UnsupportedError, "lax.add, lax.max or lax.min"),
    ("reduce_window init", lambda: lax.reduce_window(np.ones(4), 0.0, lax.max, (2,), (1,), "VALID"),
     UnsupportedError, r"use its identity -inf"),
    ("reduce_window window rank",
     lambda: lax.reduce_window(np.ones((2, 4)), 0.0, lax.add, (2,), (1,), "VALID"),
     ArgumentError, r"window_dimensions must be 2 integers"),
    ("reduce_window padding", lambda: lax.reduce_window(np.ones(4), 0.0, lax.add, (2,), (1,), "same!"),
     ArgumentError, "padding must be one of"),
]


@pytest.mark.parametrize("name, call, cls, match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_say_what_was_expected_and_received(name, call, cls, match):
    with pytest.raises(cls, match=match):
        call()


def test_unsupported_error_is_a_not_implemented_error():
    with pytest.raises(NotImplementedError):
        lax.conv_general_dilated(X4, W4, (1, 1), "VALID", batch_group_count=2)


# -- layout helpers ---------------------------------------------------------------------------
def test_dimension_numbers_are_axis_permutations_in_the_kernel_spatial_order():
    dn = lax.conv_dimension_numbers((1, 5, 6, 3), (2, 4, 3, 8), ("NHWC", "HWIO", "NHWC"))
    assert dn == lax.ConvDimensionNumbers((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
    # The kernel names W before H: every spec lists its spatial axes in that order.
    dn = lax.conv_dimension_numbers((1, 3, 5, 6), (8, 3, 4, 2), ("NCHW", "OIWH", "NHWC"))
    assert dn == lax.ConvDimensionNumbers((0, 1, 3, 2), (0, 1, 2, 3), (0, 3, 2, 1))
    assert lax.conv_dimension_numbers((1, 1, 1), (1, 1, 1), None) == ((0, 1, 2),) * 3
    assert lax.conv_dimension_numbers((), (), dn) is dn


@pytest.mark.parametrize("n, k, s", list(itertools.product(range(1, 7), range(1, 4), range(1, 4))))
def test_same_padding_gives_ceil_in_over_stride_outputs(n, k, s):
    (lo, hi), = lax.padtype_to_pads((n,), (k,), (s,), "SAME")
    (lo2, hi2), = lax.padtype_to_pads((n,), (k,), (s,), "SAME_LOWER")
    assert (lo2, hi2) == (hi, lo) and 0 <= hi - lo <= 1
    out = lax.conv(np.ones((1, 1, n)), np.ones((1, 1, k)), (s,), "SAME")
    assert out.shape == (1, 1, -(-n // s))
    np.testing.assert_array_equal(out, loop_conv(np.ones((1, 1, n)), np.ones((1, 1, k)), (s,),
                                                 [(lo, hi)]))


def test_a_window_larger_than_the_padded_input_gives_an_empty_result_and_gradients():
    x, w = np.ones((2, 1, 2)), np.ones((3, 1, 4))
    assert lax.conv(x, w, (1,), "VALID").shape == (2, 3, 0)
    gx, gw = fg.grad(lambda x, w: fnp.sum(lax.conv(x, w, (1,), "VALID")), argnums=(0, 1))(x, w)
    assert gx.shape == x.shape and gw.shape == w.shape and not gx.any() and not gw.any()


def test_preferred_element_type_computes_and_returns_in_that_dtype():
    x, w = np.ones((1, 1, 3), np.float32), np.ones((1, 1, 2), np.float32)
    out = lax.conv_general_dilated(x, w, (1,), "VALID", preferred_element_type=np.float64)
    assert out.dtype == np.float64
    assert lax.conv(x, w, (1,), "VALID").dtype == np.float32
    g = fg.grad(lambda x: fnp.sum(lax.conv_general_dilated(x, w, (1,), "VALID",
                                                           preferred_element_type=np.float64)))(x)
    assert g.dtype == np.float32


def test_integer_convolution_stays_integer():
    x, w = np.arange(5).reshape(1, 1, 5), np.array([[[1, -1]]])
    out = lax.conv(x, w, (1,), "VALID")
    assert out.dtype == np.result_type(x, w)
    np.testing.assert_array_equal(out, [[[-1, -1, -1, -1]]])


# -- transposed convolution -------------------------------------------------------------------
@pytest.mark.parametrize("n, k, s", [(6, 3, 2), (8, 4, 2), (9, 3, 3), (5, 2, 1)])
def test_conv_transpose_with_a_transposed_kernel_is_the_gradient_of_a_same_convolution(n, k, s):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, n, 3)), rng.standard_normal((k, 3, 4))  # NHC, HIO
    dn = ("NHC", "HIO", "NHC")
    y, pull = fg.vjp(lambda x: lax.conv_general_dilated(x, w, (s,), "SAME", dimension_numbers=dn), x)
    g = rng.standard_normal(y.shape)
    expected, = pull(g)
    got = lax.conv_transpose(g, w, (s,), "SAME", dimension_numbers=dn, transpose_kernel=True)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_conv_transpose_shapes_follow_jax():
    x = np.ones((1, 4, 4, 2))  # NHWC
    w = np.ones((3, 3, 2, 5))  # HWIO
    assert lax.conv_transpose(x, w, (2, 2), "SAME").shape == (1, 8, 8, 5)
    assert lax.conv_transpose(x, w, (2, 2), "VALID").shape == (1, 9, 9, 5)
    assert lax.conv_transpose(x, w, (1, 1), [(0, 0), (1, 1)]).shape == (1, 2, 4, 5)


# -- pooling ------------------------------------------------------------------------------------
def test_max_pool_sends_a_tied_window_gradient_to_its_first_maximum():
    x = np.array([1.0, 3.0, 3.0, 2.0])
    # windows [1, 3], [3, 3], [3, 2]: the first maximum of each is x[1], x[1], x[2]
    g = fg.grad(lambda x: fnp.sum(lax.reduce_window(x, -np.inf, lax.max, (2,), (1,), "VALID")))(x)
    np.testing.assert_array_equal(g, [0.0, 2.0, 1.0, 0.0])
    g = fg.grad(lambda x: fnp.sum(lax.reduce_window(x, np.inf, lax.min, (2,), (1,), "VALID")))(
        np.array([2.0, 1.0, 1.0]))
    np.testing.assert_array_equal(g, [0.0, 2.0, 0.0])
    _, t = fg.jvp(lambda x: lax.reduce_window(x, -np.inf, lax.max, (2,), (1,), "VALID"), (x,),
                  (np.array([10.0, 20.0, 30.0, 40.0]),))
    np.testing.assert_array_equal(t, [20.0, 20.0, 30.0])


def test_a_window_of_only_padding_is_the_identity_with_a_zero_gradient():
    x = np.array([1.0, -2.0])
    def f(x):
        return lax.reduce_window(x, -np.inf, lax.max, (1,), (1,), [(1, 0)])

    np.testing.assert_array_equal(f(x), [-np.inf, 1.0, -2.0])
    g = fg.grad(lambda x: fnp.sum(fnp.where(np.isfinite(f(x)), f(x), 0.0)))(x)
    np.testing.assert_array_equal(g, [1.0, 1.0])


def test_integer_max_pool_pads_with_the_dtype_minimum():
    x = np.array([[3, -7, 5]], np.int32)
    out = lax.reduce_window(x, np.iinfo(np.int32).min, lax.max, (1, 2), (1, 1), "SAME")
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [[3, 5, 5]])


def test_average_pool_second_derivative_through_a_smooth_function():
    rng = np.random.default_rng(1)
    x = rng.uniform(0.5, 2.0, (1, 2, 4, 4))

    def f(x):
        avg = lax.reduce_window(x, 0.0, lax.add, (1, 1, 2, 2), (1, 1, 2, 2), "VALID") / 4.0
        return fnp.sum(fnp.sin(avg) * avg)

    check_grads(f, (x,), order=2)


def test_small_cnn_jit_grad_equals_eager_grad_on_both_backends():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 6, 1))
    params = (rng.standard_normal((3, 3, 1, 4)), rng.standard_normal((2, 2, 4, 2)))
    dn = ("NHWC", "HWIO", "NHWC")

    def loss(params, x):
        w1, w2 = params
        h = fnp.tanh(lax.conv_general_dilated(x, w1, (1, 1), "SAME", dimension_numbers=dn))
        h = lax.reduce_window(h, -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        h = lax.conv_general_dilated(h, w2, (1, 1), "VALID", dimension_numbers=dn,
                                     rhs_dilation=(1, 1))
        return fnp.mean(h ** 2)

    expected = fg.grad(loss)(params, x)
    for backend in ("numpy", "numba"):
        got = fg.jit(fg.grad(loss), backend=backend)(params, x)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)
    check_grads(loss, (params, x), order=1)
    per_example = fg.vmap(fg.grad(loss), in_axes=(None, 0))(params, x[:, None])
    for g, e in zip(per_example, expected):
        np.testing.assert_allclose(g.mean(axis=0), e, rtol=1e-10, atol=1e-12)


# -- fnp.convolve and fnp.correlate -------------------------------------------------------------
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolve_and_correlate_match_numpy_for_every_length_pair(mode):
    rng = np.random.default_rng(3)
    for n, m in itertools.product(range(1, 7), repeat=2):
        a, v = rng.standard_normal(n), rng.standard_normal(m)
        np.testing.assert_allclose(fnp.convolve(a, v, mode), np.convolve(a, v, mode),
                                   rtol=1e-12, atol=1e-12, err_msg=f"convolve {n} {m}")
        np.testing.assert_allclose(fnp.correlate(a, v, mode), np.correlate(a, v, mode),
                                   rtol=1e-12, atol=1e-12, err_msg=f"correlate {n} {m}")
        za, zv = a + 1j * rng.standard_normal(n), v - 1j * rng.standard_normal(m)
        np.testing.assert_allclose(fnp.correlate(za, zv, mode), np.correlate(za, zv, mode),
                                   rtol=1e-12, atol=1e-12, err_msg=f"complex correlate {n} {m}")


def test_convolve_keeps_numpy_dtypes():
    for a, v in (([1, 2, 3], [0, 1]), (np.ones(3, np.float32), np.ones(2, np.float32)),
                 ([1, 2, 3], [0.5])):
        got, expected = fnp.convolve(a, v), np.convolve(a, v)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def test_correlate_with_the_longer_kernel_differentiates_in_both():
    rng = np.random.default_rng(4)
    a, v = rng.standard_normal(3), rng.standard_normal(5)
    for mode in ("full", "same", "valid"):
        check_grads(lambda a, v, mode=mode: fnp.correlate(a, v, mode), (a, v), order=2)
        check_grads(lambda a, v, mode=mode: fnp.convolve(a, v, mode), (a, v), order=1)


@pytest.mark.parametrize("window, outputs", [((2, 2), 20), ((4, 3), 9)],
                         ids=["window-major", "output-major"])
def test_im2col_in_blocks_of_examples_equals_the_loop(monkeypatch, window, outputs):
    from funcgrad.ops import _conv_kernels as conv_module

    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((5, 4, 5, 4)), rng.standard_normal((6, 2) + window)
    expected = loop_conv(x, w, (1, 1), [(1, 0), (0, 1)], groups=2)
    per_example = 4 * int(np.prod(window)) * outputs  # features * window * outputs
    for block in (1, 2 * per_example, 10**9):  # one example, two, all at a time
        monkeypatch.setattr(conv_module, "COLS_BLOCK", block)
        got = lax.conv_general_dilated(x, w, (1, 1), [(1, 0), (0, 1)], feature_group_count=2)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("strides, rhs_dilation, groups", [((1, 1), (1, 1), 1), ((2, 1), (1, 2), 1),
                                                           ((1, 2), (2, 1), 2)])
def test_kernel_first_strategy_for_few_output_features_equals_the_loop(monkeypatch, strides,
                                                                       rhs_dilation, groups):
    from funcgrad.ops import _conv_kernels as conv_module

    calls = []
    original = conv_module._kernel_first
    monkeypatch.setattr(conv_module, "_kernel_first", lambda *a: calls.append(1) or original(*a))
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((3, 32, 6, 7)), rng.standard_normal((groups, 32 // groups, 3, 2))
    pads = [(1, 2), (0, 1)]
    expected = loop_conv(x, w, strides, pads, rhs_dilation=rhs_dilation, groups=groups)
    for block in (1, 10**9):  # one example at a time, then all
        monkeypatch.setattr(conv_module, "COLS_BLOCK", block)
        got = lax.conv_general_dilated(x, w, strides, pads, rhs_dilation=rhs_dilation,
                                       feature_group_count=groups)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert len(calls) == 2


@pytest.mark.parametrize("strides, rhs_dilation, lhs_dilation, pads", [
    ((1, 1), (1, 1), (1, 1), [(1, 1), (1, 1)]),
    ((2, 1), (1, 2), (1, 1), [(2, 0), (-1, 1)]),
    ((1, 2), (2, 1), (2, 1), [(1, 2), (0, 1)]),
])
@pytest.mark.parametrize("channels_last_memory", [False, True])
def test_channels_last_im2col_equals_the_loop(monkeypatch, strides, rhs_dilation, lhs_dilation,
                                              pads, channels_last_memory):
    from funcgrad.ops import _conv_kernels as conv_module

    calls = []
    original = conv_module._channels_last
    monkeypatch.setattr(conv_module, "_channels_last",
                        lambda *a: calls.append(1) or original(*a))
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 7, 6, 9))                   # (N, H, W, C) in memory
    x = np.moveaxis(x, -1, 1) if channels_last_memory else np.ascontiguousarray(
        np.moveaxis(x, -1, 1))                               # (N, C, H, W) either way
    w = rng.standard_normal((5, 9, 3, 2))
    expected = loop_conv(x, w, strides, pads, lhs_dilation, rhs_dilation)
    per_example = 9 * 6 * int(np.prod(expected.shape[2:]))  # features * window * outputs
    for block in (1, 2 * per_example, 10**9):  # one example at a time, two (3 = 2 + 1), all
        monkeypatch.setattr(conv_module, "CHANNELS_LAST_BLOCK", block)
        got = lax.conv_general_dilated(x, w, strides, pads, lhs_dilation, rhs_dilation)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert len(calls) == 3


def _pool_cases():
    """``(kind, window, strides, padding, window_dilation)`` rows for the running-``where`` path."""
    return [("max", (1, 2, 2, 1), (1, 2, 2, 1), "VALID", None),
            ("max", (1, 3, 3, 1), (1, 1, 2, 1), "SAME", None),
            ("min", (1, 2, 3, 1), (1, 1, 1, 1), [(0, 0), (1, -1), (-1, 2), (0, 0)], None),
            ("max", (1, 2, 2, 1), (1, 1, 1, 1), [(0, 0), (1, 0), (0, 1), (0, 0)], (1, 2, 3, 1))]


@pytest.mark.parametrize("kind, window, strides, padding, dilation", _pool_cases())
def test_running_where_pooling_equals_the_gather_path_with_ties_nans_and_infinities(
        monkeypatch, kind, window, strides, padding, dilation):
    """The running ``where`` over window offsets (windows up to SCAN_MAX_WINDOW elements) and
    the gather of each window (larger windows) agree on values, the first extreme's gradient
    (ties from small integers), NaN propagation and infinities; values match the loop."""
    from funcgrad.ops import pooling

    rng = np.random.default_rng(8)
    x = rng.integers(-3, 4, (2, 7, 8, 3)).astype(np.float64)   # many ties
    init, op = (-np.inf, lax.max) if kind == "max" else (np.inf, lax.min)
    pads = padding if isinstance(padding, str) else [tuple(p) for p in padding]

    def f(x):
        return lax.reduce_window(x, init, op, window, strides, pads, window_dilation=dilation)

    weights = rng.standard_normal(np.shape(f(x)))
    grad = fg.jit(fg.grad(lambda x: fnp.sum(f(x) * weights)))
    if dilation is None and not isinstance(padding, str):  # the loop reads explicit pads only
        np.testing.assert_array_equal(f(x), loop_reduce_window(x, kind, window, strides, pads))
    special = x.copy()
    special[0, 1, 1, 0], special[1, 2, 3, 1], special[0, 5, 6, 2] = np.nan, np.inf, -np.inf
    special[1, 4, 4, 2] = special[1, 4, 5, 2] = np.nan
    scan_limit = pooling.SCAN_MAX_WINDOW
    for data in (x, special):
        results = []
        for limit in (scan_limit, 0):  # running where, then gather
            monkeypatch.setattr(pooling, "SCAN_MAX_WINDOW", limit)
            results.append((f(data), fg.grad(lambda x: fnp.sum(f(x) * weights))(data)))
        (v_scan, g_scan), (v_gather, g_gather) = results
        np.testing.assert_array_equal(v_scan, v_gather)
        np.testing.assert_array_equal(g_scan, g_gather)
    assert np.isnan(v_scan).any() and np.isinf(v_scan).any()
    monkeypatch.setattr(pooling, "SCAN_MAX_WINDOW", scan_limit)
    np.testing.assert_array_equal(grad(special), g_gather)  # jit (the Numba backend) too


@pytest.mark.parametrize("strides, rhs_dilation, lhs_dilation, pads", [
    ((1, 1), (1, 1), (1, 1), [(0, 0), (0, 0)]),
    ((2, 1), (1, 1), (1, 1), [(2, 0), (-1, 1)]),
    ((1, 2), (2, 1), (2, 1), [(1, 2), (0, 1)]),
])
@pytest.mark.parametrize("batch_innermost", [True, False])
def test_batch_last_kernel_gradient_strategy_equals_the_loop(monkeypatch, strides, rhs_dilation,
                                                              lhs_dilation, pads, batch_innermost):
    """A big window and few outputs with the batch innermost in memory (the kernel gradient of
    an NHWC convolution): the windows with output and window swapped, a block of features at
    a time (one feature per block, then all)."""
    from funcgrad.ops import _conv_kernels as conv_module

    calls = []
    original = conv_module._batch_last
    monkeypatch.setattr(conv_module, "_batch_last", lambda *a: calls.append(1) or original(*a))
    rng = np.random.default_rng(9)
    x = np.moveaxis(rng.standard_normal((3, 12, 11, 10)), -1, 0)  # (10, 3, 12, 11): batch innermost
    x = x if batch_innermost else np.ascontiguousarray(x)          # or the last axis innermost
    w = rng.standard_normal((4, 3, 10, 9))                         # a 10x9 window, 9 to 16 outputs
    expected = loop_conv(x, w, strides, pads, lhs_dilation, rhs_dilation)
    for block in (1, 10**9):
        monkeypatch.setattr(conv_module, "CHANNELS_LAST_BLOCK", block)
        got = lax.conv_general_dilated(x, w, strides, pads, lhs_dilation, rhs_dilation)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert len(calls) == 2
    monkeypatch.setattr(conv_module, "BATCH_LAST_MIN_BATCH", 10**9)  # the im2col it replaces
    np.testing.assert_allclose(lax.conv_general_dilated(x, w, strides, pads, lhs_dilation,
                                                        rhs_dilation), expected, rtol=1e-12)
    assert len(calls) == 2


def test_nhwc_conv_kernel_gradient_under_jit_equals_finite_differences():
    """The layout the layers use: a kernel gradient whose input has the batch innermost."""
    rng = np.random.default_rng(10)
    x, w = rng.standard_normal((9, 7, 6, 8)), rng.standard_normal((3, 3, 8, 10))

    def loss(w):
        y = lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                     dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return fnp.sum(fnp.tanh(y))

    check_grads(loss, (w,), order=1, modes=("rev",))
    np.testing.assert_allclose(fg.jit(fg.grad(loss))(w), fg.grad(loss)(w), rtol=1e-12)


def test_tiled_max_pool_picks_the_first_maximum_of_each_tile():
    """Windows that tile the operand (stride = window, channels last) pick their element by a
    select and a sum; a maximum of ``-0.0`` comes back as ``0.0`` (equal, sign not kept)."""
    x = np.array([[-0.0, -1.0], [-2.0, -3.0], [5.0, 5.0], [-np.inf, 2.0], [7.0, 1.0]])
    x = np.concatenate([x[None, :, :, None], 2 * x[None, :, :, None]], axis=-1)  # (1, 5, 2, 2)
    pool = fg.jit(lambda x: lax.reduce_window(x, -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1),
                                              "VALID"))
    np.testing.assert_array_equal(pool(x)[0, :, 0, :], [[0.0, 0.0], [5.0, 10.0]])
    g = fg.grad(lambda x: fnp.sum(pool(x) * np.array([1.0, 3.0])))(x)  # the tie: first 5
    np.testing.assert_array_equal(g[0, :, :, 0], [[1, 0], [0, 0], [1, 0], [0, 0], [0, 0]])
    np.testing.assert_array_equal(g[0, :, :, 1], [[3, 0], [0, 0], [3, 0], [0, 0], [0, 0]])
