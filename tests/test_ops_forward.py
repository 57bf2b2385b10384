"""Forward values of every op in the op table against NumPy, and abstract evaluation.

Each record is run three ways: eagerly on plain arrays (straight to NumPy), traced
with values (inside ``vjp``), and traced abstractly (``make_graph``, shapes and
dtypes only).  Values must match NumPy's to the record's tolerance, with the same
shape and dtype.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import CREATION, FLOATS, RECORDS

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import tree

by_name = {"ids": lambda r: r.name}
EXAMPLES = settings.default.max_examples  # 25 in the ci profile, more in dev
dtypes = pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)


def assert_matches(got, expected, tol, what):
    got_leaves, expected_leaves = tree.leaves(got), tree.leaves(expected)
    assert len(got_leaves) == len(expected_leaves), (
        f"{what}: {len(got_leaves)} outputs, NumPy gives {len(expected_leaves)}")
    for i, (g, e) in enumerate(zip(got_leaves, expected_leaves)):
        g, e = np.asarray(g), np.asarray(e)
        assert (g.shape, g.dtype) == (e.shape, e.dtype), (
            f"{what} output {i}: {g.dtype}{list(g.shape)}, NumPy gives {e.dtype}{list(e.shape)}")
        if e.dtype.kind in "fc":
            rtol, atol = tol[e.dtype]
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=f"{what} output {i}")
        else:
            np.testing.assert_array_equal(g, e, err_msg=f"{what} output {i}")


@dtypes
@pytest.mark.parametrize("rec", RECORDS, **by_name)
@settings(max_examples=max(3, EXAMPLES // 3))
@given(data=st.data())
def test_forward_matches_numpy(rec, dtype, data):
    args = data.draw(rec.args(dtype), label="args")
    expected = rec.ref(*args)
    assert_matches(rec.fun(*args), expected, rec.tol, "eager")
    out, _ = fg.vjp(rec.fun, *args)
    assert_matches(out, expected, rec.tol, "traced")


@dtypes
@pytest.mark.parametrize("rec", RECORDS, **by_name)
@settings(max_examples=max(3, EXAMPLES // 5))
@given(data=st.data())
def test_abstract_eval_matches_concrete(rec, dtype, data):
    args = data.draw(rec.args(dtype), label="args")
    graph = fg.make_graph(rec.fun)(*args)
    expected = tree.leaves(rec.ref(*args))
    assert [(n.shape, n.dtype) for n in graph.outputs] == [
        (np.shape(e), np.asarray(e).dtype) for e in expected]


@dtypes
def test_like_functions_on_tracers_are_constants(dtype):
    x = np.linspace(-1.0, 1.0, 6, dtype=dtype).reshape(2, 3)

    def f(t):
        for like, fill in [(fnp.zeros_like, 0.0), (fnp.ones_like, 1.0)]:
            c = like(t)
            assert isinstance(c, np.ndarray) and (c.shape, c.dtype) == (t.shape, t.dtype)
            np.testing.assert_array_equal(c, np.full(x.shape, fill, dtype))
        assert fnp.asarray(t) is t
        return fnp.sum(t * fnp.ones_like(t)) + fnp.sum(fnp.zeros_like(t))

    g = fg.grad(f)(x)
    assert g.dtype == dtype
    np.testing.assert_array_equal(g, np.ones_like(x))


@pytest.mark.parametrize("name, fun, ref", CREATION, ids=[c[0] for c in CREATION])
def test_creation_matches_numpy(name, fun, ref):
    got, expected = fun(), ref()
    assert isinstance(got, np.ndarray)
    assert (got.shape, got.dtype) == (expected.shape, expected.dtype)
    np.testing.assert_array_equal(got, expected)
