"""Tests of ``funcgrad.tree.ravel_pytree``: JAX's dtype promotion, round trips with mixed
dtypes, ``unravel``'s checks, and grad/jit/vmap through ravel and unravel.

The promotion table and the example results marked so were generated with jax 0.10.2
(jax_enable_x64=True); gradients are checked against finite differences.
"""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad.errors import DTypeError, ShapeError
from funcgrad.testing import numerical_grad

DTYPES = ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
          "float16", "float32", "float64", "complex64", "complex128"]
# jnp.result_type(row, column) for the dtypes above, generated with jax 0.10.2
# (jax_enable_x64=True); ravel_pytree promotes its leaves' dtypes by these rules.
JAX_PROMOTION = """
bool uint8 uint16 uint32 uint64 int8 int16 int32 int64 float16 float32 float64 complex64 complex128
uint8 uint8 uint16 uint32 uint64 int16 int16 int32 int64 float16 float32 float64 complex64 complex128
uint16 uint16 uint16 uint32 uint64 int32 int32 int32 int64 float16 float32 float64 complex64 complex128
uint32 uint32 uint32 uint32 uint64 int64 int64 int64 int64 float16 float32 float64 complex64 complex128
uint64 uint64 uint64 uint64 uint64 float64 float64 float64 float64 float16 float32 float64 complex64 complex128
int8 int16 int32 int64 float64 int8 int16 int32 int64 float16 float32 float64 complex64 complex128
int16 int16 int32 int64 float64 int16 int16 int32 int64 float16 float32 float64 complex64 complex128
int32 int32 int32 int64 float64 int32 int32 int32 int64 float16 float32 float64 complex64 complex128
int64 int64 int64 int64 float64 int64 int64 int64 int64 float16 float32 float64 complex64 complex128
float16 float16 float16 float16 float16 float16 float16 float16 float16 float16 float32 float64 complex64 complex128
float32 float32 float32 float32 float32 float32 float32 float32 float32 float32 float32 float64 complex64 complex128
float64 float64 float64 float64 float64 float64 float64 float64 float64 float64 float64 float64 complex128 complex128
complex64 complex64 complex64 complex64 complex64 complex64 complex64 complex64 complex64 complex64 complex64 complex128 complex64 complex128
complex128 complex128 complex128 complex128 complex128 complex128 complex128 complex128 complex128 complex128 complex128 complex128 complex128 complex128
"""


def test_ravel_promotes_dtypes_as_jax():
    table = [row.split() for row in JAX_PROMOTION.strip().splitlines()]
    for a, row in zip(DTYPES, table):
        for b, expected in zip(DTYPES, row):
            flat, unravel = tree.ravel_pytree([np.ones(2, a), np.zeros(1, b)])
            assert flat.dtype == np.dtype(expected), (a, b)
            back = unravel(flat)
            assert [x.dtype for x in back] == [np.dtype(a), np.dtype(b)]


def test_ravel_round_trip_mixed_dtypes():
    t = {"a": np.array([1, 2, 3], np.int32), "b": np.array([[0.5, 1.5]], np.float16),
         "c": np.bool_(True), "d": None}
    flat, unravel = tree.ravel_pytree(t)
    # generated with jax 0.10.2 (jax_enable_x64=True): float16 [1, 2, 3, 0.5, 1.5, 1]
    assert flat.dtype == np.float16 and flat.tolist() == [1, 2, 3, 0.5, 1.5, 1]
    back = unravel(flat)
    assert tree.structure(back) == tree.structure(t)
    for key in "abc":
        assert back[key].dtype == np.asarray(t[key]).dtype
        np.testing.assert_array_equal(back[key], t[key])
    # casting back truncates as NumPy's astype (jax 0.10.2 gives a = [2, 5, 7] too)
    assert unravel(flat * np.float16(2.6))["a"].tolist() == [2, 5, 7]


def test_ravel_python_scalars_count_as_64_bit():
    flat, unravel = tree.ravel_pytree([1.0, np.float32(2.0), 3])
    assert flat.dtype == np.float64  # jax 0.10.2 (x64): float64
    back = unravel(flat)
    assert [b.dtype for b in back] == [np.float64, np.float32, np.int64]
    assert [b.shape for b in back] == [(), (), ()]


def test_ravel_single_dtype_unravel_keeps_the_given_dtype():
    flat, unravel = tree.ravel_pytree({"w": np.ones((2, 3), np.float32), "b": np.zeros(3, np.float32)})
    assert flat.dtype == np.float32 and flat.shape == (9,)
    back = unravel(np.arange(9.0))  # float64 in, float64 out (as JAX: dtype-polymorphic)
    assert back["b"].dtype == np.float64
    np.testing.assert_array_equal(back["b"], [0, 1, 2])
    np.testing.assert_array_equal(back["w"], np.arange(3, 9.0).reshape(2, 3))


def test_ravel_empty_tree():
    flat, unravel = tree.ravel_pytree({"a": None, "b": []})
    assert flat.dtype == np.float32 and flat.shape == (0,)  # JAX's convention
    assert unravel(flat) == {"a": None, "b": []}


def test_unravel_and_ravel_errors():
    _, unravel = tree.ravel_pytree({"a": np.ones(2, np.int32), "b": np.ones(3)})
    with pytest.raises(ShapeError, match=r"shape \(5,\).*got shape \(4,\)"):
        unravel(np.ones(4))
    with pytest.raises(ShapeError, match=r"got shape \(5, 1\)"):
        unravel(np.ones((5, 1)))
    with pytest.raises(DTypeError, match="dtype float64.*got float32"):
        unravel(np.ones(5, np.float32))
    with pytest.raises(ShapeError):
        tree.ravel_pytree([])[1](np.ones(1))
    with pytest.raises(DTypeError, match=r"the leaf at \['x'\]\[1\] is str"):
        tree.ravel_pytree({"x": [1.0, "text"]})
    with pytest.raises(DTypeError, match="object"):
        tree.ravel_pytree([np.array([None])])


def test_unravel_is_hashable_and_equal_for_equal_layouts():
    _, u1 = tree.ravel_pytree({"a": np.ones(2), "b": 1.0})
    _, u2 = tree.ravel_pytree({"a": np.zeros(2), "b": 5.0})
    _, u3 = tree.ravel_pytree({"a": np.zeros(3), "b": 5.0})
    assert u1 == u2 and hash(u1) == hash(u2) and u1 != u3


def _loss_through_ravel(params):
    flat, unravel = tree.ravel_pytree(params)
    p = unravel(fnp.sin(flat) * flat)
    return fnp.sum(p["w"] @ p["v"]) + p["s"] ** 2


def _params():
    rng = np.random.default_rng(0)
    return {"w": rng.normal(size=(2, 3)), "v": rng.normal(size=3), "s": np.float64(0.7)}


def test_grad_through_ravel_and_unravel_matches_finite_differences():
    params = _params()
    g = fg.grad(_loss_through_ravel)(params)
    expected = numerical_grad(_loss_through_ravel, (params,))[0]
    assert tree.structure(g) == tree.structure(params)
    for key in params:
        np.testing.assert_allclose(g[key], expected[key], rtol=1e-6, atol=1e-8)


def test_grad_wrt_the_flat_vector_and_mixed_dtypes():
    t = {"w": np.array([0.5, -1.0], np.float32), "n": np.array([2], np.int32)}
    flat, unravel = tree.ravel_pytree(t)
    assert flat.dtype == np.float32

    def f(v):
        p = unravel(v)
        return fnp.sum(p["w"] ** 3)

    g = fg.grad(f)(flat.astype(np.float32))
    expected = numerical_grad(f, (flat.astype(np.float32),))[0]
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, expected, rtol=1e-2, atol=1e-3)
    # leaves in sorted key order: n, then w
    np.testing.assert_allclose(g[1:], 3 * t["w"] ** 2, rtol=1e-6)
    assert g[0] == 0.0  # the integer leaf carries no derivative
    np.testing.assert_array_equal(fg.jit(fg.grad(f))(flat), g)
    looped = np.stack([fg.grad(f)(v) for v in (flat, 2 * flat)])
    np.testing.assert_array_equal(fg.vmap(fg.grad(f))(np.stack([flat, 2 * flat])), looped)
    assert fg.jit(unravel)(flat)["n"].dtype == np.int32


def test_ravel_under_jit_and_vmap():
    params = _params()
    eager = _loss_through_ravel(params)
    np.testing.assert_allclose(fg.jit(_loss_through_ravel)(params), eager, rtol=1e-12)
    np.testing.assert_allclose(fg.jit(fg.grad(_loss_through_ravel))(params)["w"],
                               fg.grad(_loss_through_ravel)(params)["w"], rtol=1e-12)
    flat, unravel = tree.ravel_pytree(params)
    batch = np.stack([flat, 2 * flat, -flat])
    batched = fg.vmap(unravel)(batch)
    for i in range(3):
        one = unravel(batch[i])
        for key in params:
            np.testing.assert_allclose(batched[key][i], one[key], rtol=1e-15)
    raveled = fg.vmap(lambda p: tree.ravel_pytree(p)[0])(batched)
    np.testing.assert_allclose(raveled, batch, rtol=1e-15)
    # unravel as a static argument of jit
    f = fg.jit(lambda v, u: fnp.sum(u(v)["v"]), static_argnums=1)
    np.testing.assert_allclose(f(flat, unravel), np.sum(params["v"]), rtol=1e-12)
