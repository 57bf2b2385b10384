"""``vmap``: in_axes/out_axes, nesting, errors, and composition with ``grad``.

The reference for every batched result is a Python loop over the batch that
calls the same function on plain NumPy slices.  The common ops (elementwise,
reductions, shape ops, indexing, matmul) must batch natively: the tests that
say so forbid the loop fallback.
"""

import importlib

import numpy as np
import pytest

import funcgrad.numpy as fnp
from funcgrad import grad, jvp, value_and_grad, vmap
from funcgrad.errors import ArgumentError, ShapeError

RNG = np.random.default_rng(2)
# The module, not the function that funcgrad.transforms re-exports under the same name.
vmap_module = importlib.import_module("funcgrad.transforms.vmap")


@pytest.fixture
def no_loop(monkeypatch):
    """Fail if any primitive falls back to the one-example-at-a-time loop."""
    def refuse(prim, values, dims, params, size):
        raise AssertionError(f"{prim.name} has no batching rule: vmap fell back to a loop")
    monkeypatch.setattr(vmap_module, "loop_rule", refuse)


def loop(f, args, in_axes, out_axis=0):
    """The reference: call ``f`` on each batch element (plain NumPy) and stack."""
    if not isinstance(in_axes, (tuple, list)):
        in_axes = (in_axes,) * len(args)
    size = next(np.shape(a)[ax] for a, ax in zip(args, in_axes) if ax is not None)
    outs = []
    for i in range(size):
        sliced = [a if ax is None else np.take(a, i, axis=ax) for a, ax in zip(args, in_axes)]
        outs.append(np.asarray(f(*sliced)))
    return np.stack(outs, axis=out_axis)


# -- in_axes and out_axes --------------------------------------------------------------

def batched(shape, ax, size=5):
    """A random array with per-example ``shape`` and a batch of ``size`` at axis ``ax`` (None: none)."""
    if ax is None:
        return RNG.normal(size=shape)
    shape = list(shape)
    shape.insert(ax % (len(shape) + 1), size)
    return RNG.normal(size=shape)


def _f(x, y):
    return fnp.sin(x) * fnp.sum(y ** 2) + x @ fnp.ones((x.shape[0], 2)) @ fnp.ones(2)


@pytest.mark.parametrize("in_axes", [0, 1, -1, -2, (0, None), (None, 1), (1, -2), (-1, None)],
                         ids=str)
def test_in_axes_ints_none_and_negative_match_a_loop(in_axes, no_loop):
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes, in_axes)
    x, y = batched((3,), axes[0]), batched((4,), axes[1])
    got = vmap(_f, in_axes=in_axes)(x, y)
    np.testing.assert_allclose(got, loop(_f, (x, y), axes), rtol=1e-13)


@pytest.mark.parametrize("out_axes", [0, 1, -1, 2, -3], ids=str)
def test_out_axes_put_the_batch_axis_where_asked(out_axes, no_loop):
    f = lambda x: fnp.outer(x, fnp.arange(3.0))        # (4,) -> (4, 3)
    xs = RNG.normal(size=(5, 4))
    got = vmap(f, out_axes=out_axes)(xs)
    expected = loop(f, (xs,), 0, out_axis=out_axes)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_pytree_in_axes_and_out_axes(no_loop):
    def f(p, scale):
        return {"u": p["a"] * scale + p["b"], "v": (fnp.sum(p["a"]), p["b"] * 2.0)}

    p = {"a": RNG.normal(size=(3, 6)), "b": RNG.normal(size=3)}   # a batched on axis 1
    scale = RNG.normal(size=(6, 3))                                 # batched on axis 0
    out = vmap(f, in_axes=({"a": 1, "b": None}, 0),
               out_axes={"u": 1, "v": (0, None)})(p, scale)
    assert out["u"].shape == (3, 6)
    for i in range(6):
        np.testing.assert_allclose(out["u"][:, i], p["a"][:, i] * scale[i] + p["b"], rtol=1e-15)
    np.testing.assert_allclose(out["v"][0], p["a"].sum(axis=0), rtol=1e-14)
    np.testing.assert_array_equal(out["v"][1], p["b"] * 2.0)     # unbatched, out_axes None


def test_in_axes_for_tuple_and_list_arguments():
    f = lambda pair, w: pair[0] * w[0] + pair[1] * w[1]
    a, b = RNG.normal(size=(4, 2)), RNG.normal(size=2)
    w = [np.array(3.0), RNG.normal(size=(2, 4))]
    got = vmap(f, in_axes=((0, None), [None, 1]))((a, b), w)
    expected = np.stack([a[i] * 3.0 + b * w[1][:, i] for i in range(4)])
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_unbatched_output_is_broadcast_over_the_batch():
    c = np.array([1.0, 2.0])
    got = vmap(lambda x: c)(np.ones(3))
    np.testing.assert_array_equal(got, np.tile(c, (3, 1)))
    got = vmap(lambda x, y: y * 2.0, in_axes=(0, None))(np.ones(3), c)
    np.testing.assert_array_equal(got, np.tile(c * 2.0, (3, 1)))


def test_out_axes_none_returns_an_unbatched_output_as_is():
    c = np.array([1.0, 2.0])
    out, batched = vmap(lambda x, y: (y + 1.0, x * 2.0), in_axes=(0, None),
                        out_axes=(None, 0))(np.arange(3.0), c)
    np.testing.assert_array_equal(out, c + 1.0)
    np.testing.assert_array_equal(batched, np.arange(3.0) * 2.0)


def test_python_scalars_and_closures(no_loop):
    c = np.array([0.5, -1.0, 2.0])
    xs = RNG.normal(size=(4, 3))
    got = vmap(lambda x, s: fnp.tanh(x * s + c) + 1.0, in_axes=(0, None))(xs, 2.5)
    np.testing.assert_allclose(got, np.tanh(xs * 2.5 + c) + 1.0, rtol=1e-15)
    # a Python scalar batched argument is a 0-d array per example
    got = vmap(lambda x: x * 2.0 + 1)(np.arange(4.0))
    np.testing.assert_array_equal(got, np.arange(4.0) * 2.0 + 1)


def test_integer_and_boolean_operands_batch_too():
    xs = np.arange(12).reshape(4, 3)
    got = vmap(lambda x: fnp.where(x % 2 == 0, x, -x))(xs)
    np.testing.assert_array_equal(got, np.where(xs % 2 == 0, xs, -xs))


# -- the common ops batch natively (no loop) -------------------------------------------

NATIVE = {
    "elementwise": (lambda x, y: fnp.exp(x) * y - fnp.maximum(x, y), (0, 0)),
    "broadcasting with unbatched": (lambda x, y: x[:, None] + y, (0, None)),
    "sum axis": (lambda x, y: fnp.sum(x * y, axis=0), (1, 1)),
    "mean keepdims": (lambda x, y: x - fnp.mean(x, axis=-1, keepdims=True), (0, None)),
    "max": (lambda x, y: fnp.max(x, axis=1) + fnp.min(y), (2, 0)),
    "matmul both batched": (lambda x, y: x @ y, (0, 2)),
    "matmul one batched": (lambda x, y: x @ y, (None, 0)),
    "matvec": (lambda x, y: x @ y[:, 0], (0, 0)),
    "reshape and transpose": (lambda x, y: fnp.reshape(x.T, (-1,)) * 2.0, (1, None)),
    "slicing": (lambda x, y: x[1:, ::2] + x[0, 0], (0, None)),
    "concatenate": (lambda x, y: fnp.concatenate([x, y], axis=0), (0, None)),
    "stack": (lambda x, y: fnp.stack([x, x * 2.0]), (1, None)),
}


def _native_args(name, in_axes):
    x_shape, y_shape = {"matmul both batched": ((3, 4), (4, 2)),
                        "matmul one batched": ((3, 4), (4, 2)),
                        "matvec": ((3, 4), (4, 2)),
                        "broadcasting with unbatched": ((3,), (4,)),
                        "concatenate": ((3, 4), (2, 4))}.get(name, ((3, 4), (3, 4)))
    return batched(x_shape, in_axes[0]), batched(y_shape, in_axes[1])


@pytest.mark.parametrize("name", list(NATIVE))
def test_common_ops_batch_natively_and_match_a_loop(name, no_loop):
    f, in_axes = NATIVE[name]
    x, y = _native_args(name, in_axes)
    np.testing.assert_allclose(vmap(f, in_axes=in_axes)(x, y), loop(f, (x, y), in_axes),
                               rtol=1e-13)


def test_indexing_with_a_batched_index_array(no_loop):
    xs = RNG.normal(size=(4, 6))
    idx = np.array([[0, 5], [1, 1], [3, 2], [5, 0]])
    got = vmap(lambda x, i: x[i])(xs, idx)
    np.testing.assert_array_equal(got, np.take_along_axis(xs, idx, axis=1))
    # (a NumPy array cannot be indexed by a traced index: take does it)
    got = vmap(lambda x, i: fnp.take(x, i, axis=0), in_axes=(None, 0))(xs[0], idx)
    np.testing.assert_array_equal(got, xs[0][idx])


# -- nesting ---------------------------------------------------------------------------

def test_vmap_of_vmap_is_elementwise_over_two_axes():
    X = RNG.normal(size=(3, 4))
    f = lambda x: fnp.sin(x) * x
    np.testing.assert_allclose(vmap(vmap(f))(X), np.sin(X) * X, rtol=1e-15)
    np.testing.assert_allclose(vmap(vmap(f), in_axes=1)(X), (np.sin(X) * X).T, rtol=1e-15)


def test_nested_vmap_builds_a_pairwise_distance_matrix(no_loop):
    X, Y = RNG.normal(size=(3, 2)), RNG.normal(size=(5, 2))
    dist = lambda a, b: fnp.sqrt(fnp.sum((a - b) ** 2))
    D = vmap(vmap(dist, in_axes=(None, 0)), in_axes=(0, None))(X, Y)
    expected = np.sqrt(((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1))
    np.testing.assert_allclose(D, expected, rtol=1e-14)


def test_triple_vmap_of_a_reduction():
    T = RNG.normal(size=(2, 3, 4, 5))
    got = vmap(vmap(vmap(lambda v: fnp.sum(v ** 2))))(T)
    np.testing.assert_allclose(got, (T ** 2).sum(-1), rtol=1e-14)


def test_inner_vmap_closes_over_outer_batched_value():
    xs, ys = RNG.normal(size=(3,)), RNG.normal(size=(4,))
    got = vmap(lambda x: vmap(lambda y: x * y + x)(ys))(xs)
    np.testing.assert_allclose(got, xs[:, None] * ys[None, :] + xs[:, None], rtol=1e-15)


# -- errors ----------------------------------------------------------------------------

def test_inconsistent_batch_sizes_name_the_sizes_and_shapes():
    with pytest.raises(ShapeError) as e:
        vmap(lambda a, b: a + b)(np.ones(3), np.ones((4, 2)))
    msg = str(e.value)
    assert "inconsistent" in msg and "3" in msg and "4" in msg
    assert "(3,)" in msg and "(4, 2)" in msg


def test_inconsistent_batch_sizes_along_chosen_axes():
    with pytest.raises(ShapeError) as e:
        vmap(lambda a, b: a + b, in_axes=(1, 0))(np.ones((2, 7)), np.ones((6, 2)))
    assert "7" in str(e.value) and "6" in str(e.value)


def test_in_axes_structure_mismatch():
    with pytest.raises(ArgumentError, match="one entry per positional argument"):
        vmap(lambda a, b: a + b, in_axes=(0,))(np.ones(3), np.ones(3))
    with pytest.raises(ArgumentError) as e:
        vmap(lambda p: p["a"], in_axes=({"a": 0, "c": 0},))({"a": np.ones(3), "b": np.ones(3)})
    assert "'c'" in str(e.value) and "'b'" in str(e.value)


def test_out_axes_none_with_a_batched_output_is_an_error():
    with pytest.raises(ArgumentError, match="out_axes=None"):
        vmap(lambda a: a * 2.0, out_axes=None)(np.ones(3))


def test_out_axes_structure_mismatch():
    with pytest.raises(ArgumentError, match="out_axes"):
        vmap(lambda a: (a, a * 2.0), out_axes=(0,))(np.ones(3))


def test_axes_out_of_range_and_nothing_batched():
    with pytest.raises(ArgumentError, match="out of range"):
        vmap(lambda a: a, in_axes=2)(np.ones(3))
    with pytest.raises(ArgumentError, match="out of range"):
        vmap(lambda a: a)(3.0)
    with pytest.raises(ArgumentError, match="out of range"):
        vmap(lambda a: a, out_axes=2)(np.ones(3))
    with pytest.raises(ArgumentError, match="batches no argument"):
        vmap(lambda a: a, in_axes=None)(np.ones(3))
    with pytest.raises(ArgumentError, match="in_axes"):
        vmap(lambda a: a, in_axes="rows")(np.ones(3))


def test_shape_errors_inside_a_vmapped_function_are_per_example_shapes():
    # each example is (3,) @ (4,): must fail even though the batch is 3 wide
    with pytest.raises(ShapeError):
        vmap(lambda a, b: a @ b, in_axes=(0, None))(np.ones((3, 3)), np.ones(4))


# -- per-example gradients and grad of vmap --------------------------------------------

def _mlp_params(rng):
    return {"W1": rng.normal(size=(3, 5)) / 2, "b1": rng.normal(size=5) / 4,
            "W2": rng.normal(size=(5, 2)) / 2, "b2": np.zeros(2)}


def _mlp_loss(params, x, y):
    h = fnp.tanh(x @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return fnp.mean((out - y) ** 2)


def test_per_example_gradients_of_an_mlp_equal_a_loop_of_grads(no_loop):
    params = _mlp_params(RNG)
    xs, ys = RNG.normal(size=(8, 3)), RNG.normal(size=(8, 2))
    per_example = vmap(grad(_mlp_loss), in_axes=(None, 0, 0))(params, xs, ys)
    assert set(per_example) == set(params)
    for k, v in params.items():
        assert per_example[k].shape == (8,) + v.shape
    for i in range(8):
        g = grad(_mlp_loss)(params, xs[i], ys[i])
        for k in params:
            np.testing.assert_allclose(per_example[k][i], g[k], rtol=1e-12, atol=1e-15)
    # their mean is the gradient of the batch-mean loss
    batch_loss = lambda p: fnp.mean(vmap(_mlp_loss, in_axes=(None, 0, 0))(p, xs, ys))
    g_batch = grad(batch_loss)(params)
    for k in params:
        np.testing.assert_allclose(per_example[k].mean(axis=0), g_batch[k], rtol=1e-12,
                                   atol=1e-15)


def test_per_example_value_and_grad_of_a_minibatch_loss(no_loop):
    # each "example" is itself a minibatch of 4 rows: the mean inside is a real reduction
    params = _mlp_params(RNG)
    xs, ys = RNG.normal(size=(3, 4, 3)), RNG.normal(size=(3, 4, 2))
    values, grads = vmap(value_and_grad(_mlp_loss), in_axes=(None, 0, 0))(params, xs, ys)
    for i in range(3):
        v, g = value_and_grad(_mlp_loss)(params, xs[i], ys[i])
        assert values[i] == pytest.approx(float(v), rel=1e-13)
        for k in params:
            np.testing.assert_allclose(grads[k][i], g[k], rtol=1e-12, atol=1e-15)


def test_grad_of_vmap():
    # L(w) = sum_i tanh(w . x_i)^2  ->  dL/dw = sum_i 2 tanh(w.x_i) (1 - tanh^2) x_i
    w, xs = RNG.normal(size=3), RNG.normal(size=(6, 3))
    L = lambda w: fnp.sum(vmap(lambda x: fnp.tanh(w @ x) ** 2)(xs))
    t = np.tanh(xs @ w)
    np.testing.assert_allclose(grad(L)(w), ((2 * t * (1 - t ** 2))[:, None] * xs).sum(0),
                               rtol=1e-13)


def test_grad_of_vmap_with_respect_to_the_batched_argument():
    xs = RNG.normal(size=(4, 3))
    g = grad(lambda xs: fnp.sum(vmap(lambda x: fnp.sum(fnp.sin(x)) ** 2)(xs)))(xs)
    np.testing.assert_allclose(g, 2 * np.sin(xs).sum(1, keepdims=True) * np.cos(xs), rtol=1e-13)


def test_vmap_of_grad_of_vmap():
    # per-row gradient of sum over columns of x_j^3 -> 3 x^2
    X = RNG.normal(size=(3, 4))
    g = vmap(grad(lambda row: fnp.sum(vmap(lambda v: v ** 3)(row))))(X)
    np.testing.assert_allclose(g, 3 * X ** 2, rtol=1e-14)


def test_vmap_of_jvp_and_grad_agree():
    # directional derivatives along e_i equal gradient components
    f = lambda x: fnp.sum(fnp.exp(x) * x)
    x = RNG.normal(size=4)
    cols = vmap(lambda t: jvp(f, (x,), (t,))[1])(np.eye(4))
    np.testing.assert_allclose(cols, grad(f)(x), rtol=1e-13)


def test_vmap_does_not_modify_its_arguments():
    xs = RNG.normal(size=(3, 2))
    xs0 = xs.copy()
    vmap(lambda x: fnp.sin(x) * 2.0)(xs)
    np.testing.assert_array_equal(xs, xs0)


def test_python_control_flow_on_a_batched_value_is_a_concretization_error():
    from funcgrad.errors import ConcretizationError

    x = np.array([[1.0, -2.0, 3.0], [-1.0, 2.0, -3.0]])
    with pytest.raises(ConcretizationError, match="varies over the batch"):
        vmap(lambda r: r * 2 if fnp.sum(r) > 0 else r)(x)
    with pytest.raises(ConcretizationError, match="varies over the batch"):
        vmap(lambda r: fnp.sum(r[r > 0]))(x)
    # One example is still a batch: no silent bool() of a size-1 batch.
    with pytest.raises(ConcretizationError):
        vmap(lambda r: r * 2 if fnp.sum(r) > 0 else r)(x[:1])


def test_keyword_arguments_are_batched_along_axis_0():
    out = vmap(lambda a, b=None: a * b)(np.ones((3, 2)), b=np.arange(3.0))
    np.testing.assert_array_equal(out, np.ones((3, 2)) * np.arange(3.0)[:, None])


def test_batch_size_error_names_the_arguments():
    with pytest.raises(ShapeError, match=r"argument 0 .* has 3 but argument 1 .* has 4"):
        vmap(lambda a, b: a["x"] + b["y"])({"x": np.ones(3)}, {"y": np.ones(4)})


def test_len_iteration_ndim_and_size_of_batched_values_are_per_example():
    xs = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(vmap(lambda x: sum(r for r in x))(xs), xs.sum(axis=1))
    np.testing.assert_array_equal(vmap(lambda x: x * (len(x) + x.ndim + x.size))(xs), xs * 5)
