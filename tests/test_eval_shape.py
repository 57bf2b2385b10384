"""``eval_shape`` and ``ShapeDtypeStruct``: output shapes and dtypes without computing."""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import ArgumentError, ConcretizationError, ShapeError

S = fg.ShapeDtypeStruct


def _structs_of(out):
    """What eval_shape must say, from a real output."""
    return fg.tree.map(lambda leaf: S(np.shape(leaf), np.asarray(leaf).dtype), out)


@pytest.mark.parametrize("f, args", [
    (lambda x, y: x @ y + 1.0, (np.ones((3, 4)), np.ones((4, 2)))),
    (lambda x: {"sum": fnp.sum(x, axis=0), "n": x.shape[0], "pair": (x.T, fnp.tanh(x))},
     (np.ones((5, 2), np.float32),)),
    (lambda x, y: fnp.concatenate([x, y.astype(np.float32)]), (np.ones(2, np.float32), np.ones(3))),
    (fg.grad(lambda x: fnp.sum(fnp.sin(x) ** 2)), (np.ones(4),)),
    (fg.vmap(lambda x: fnp.outer(x, x)), (np.ones((3, 2)),)),
    (lambda x: fnp.argmax(x, axis=1) > 0, (np.ones((2, 3)),)),
])
def test_matches_the_real_output(f, args):
    assert fg.eval_shape(f, *args) == _structs_of(f(*args))


def test_shape_dtype_struct_arguments_and_keywords():
    def f(a, *, b):
        return fnp.tanh(a @ b)
    out = fg.eval_shape(f, S((1000, 5000), np.float32), b=S((5000, 10), "float32"))
    assert out == S((1000, 10), np.float32)
    assert out.shape == (1000, 10) and out.dtype == np.float32 and out.ndim == 2 and out.size == 10000


def test_huge_shapes_cost_nothing():
    out = fg.eval_shape(lambda a, b: fnp.sum(a @ b, axis=0), S((10**6, 10**6), np.float64),
                        S((10**6, 3), np.float64))
    assert out == S((3,), np.float64)


def test_python_scalars_and_objects_with_shape_and_dtype():
    class Spec:
        shape, dtype = (2, 2), np.dtype(np.int32)
    assert fg.eval_shape(lambda x, n: x * n, Spec(), 3) == S((2, 2), np.int64)
    assert fg.eval_shape(lambda x, n: x * n, Spec(), np.int32(3)) == S((2, 2), np.int32)


def test_nothing_runs():
    calls = []
    out = fg.eval_shape(lambda x: (fg.debug.callback(calls.append, x), x + 1.0)[1], S((2,), "f8"))
    assert out == S((2,), np.float64) and calls == []


def test_errors():
    with pytest.raises(ArgumentError, match="leaf 0 of the arguments"):
        fg.eval_shape(lambda s: s, "not an array")
    with pytest.raises(ConcretizationError, match="bool"):
        fg.eval_shape(lambda x: x if x > 0 else -x, S((), "f8"))
    with pytest.raises(ShapeError):
        fg.eval_shape(lambda a, b: a @ b, S((2, 3), "f8"), S((2, 3), "f8"))


def test_struct_value_semantics():
    a = S([2, 3], "float32")
    assert a == S((2, 3), np.float32) and a != S((2, 3), np.float64) and a != (2, 3)
    assert hash(a) == hash(S((2, 3), np.float32))
    assert repr(a) == "ShapeDtypeStruct(shape=(2, 3), dtype=float32)"
    assert fg.tree.leaves({"a": a}) == [a]  # a leaf, not a container
    with pytest.raises(AttributeError, match="immutable"):
        a.shape = (1,)
