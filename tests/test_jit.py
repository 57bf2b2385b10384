"""``jit``: equality with eager evaluation for every op in the table, the signature
cache and its retrace reasons, static arguments, errors, thread safety, and
composition with the other transformations.
"""

import threading
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from op_table import DIFFERENTIABLE, RECORDS, scalarize

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad.errors import ArgumentError, ConcretizationError, TracerLeakError
from funcgrad.transforms.jit import RetraceWarning

by_name = {"ids": lambda r: r.name}


def assert_same(got, expected, rec, rtol=1e-12, atol=1e-12):
    assert tree.structure(got) == tree.structure(expected), rec
    for g, e in zip(tree.leaves(got), tree.leaves(expected)):
        g, e = np.asarray(g), np.asarray(e)
        assert g.shape == e.shape and g.dtype == e.dtype, (rec, g.dtype, g.shape, e.dtype, e.shape)
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=str(rec))


@pytest.mark.parametrize("rec", RECORDS, **by_name)
@settings(max_examples=5)
@given(data=__import__("hypothesis").strategies.data())
def test_jit_values_equal_eager(rec, data):
    args = data.draw(rec.args(np.float64), label="args")
    expected = rec.fun(*args)
    assert_same(fg.jit(rec.fun, backend="numpy")(*args), expected, rec.name)
    assert_same(fg.jit(rec.fun)(*args), expected, rec.name, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("rec", DIFFERENTIABLE, **by_name)
@settings(max_examples=5)
@given(data=__import__("hypothesis").strategies.data())
def test_jit_of_grad_and_grad_of_jit_equal_eager_grad(rec, data):
    args = data.draw(rec.args(np.float64), label="args")
    loss = scalarize(rec.fun, rec.fun(*args))
    argnums = rec.diff_argnums
    expected = fg.grad(loss, argnums=argnums)(*args)
    assert_same(fg.jit(fg.grad(loss, argnums=argnums), backend="numpy")(*args), expected,
                rec.name, rtol=1e-10, atol=1e-12)
    assert_same(fg.grad(fg.jit(loss, backend="numpy"), argnums=argnums)(*args), expected,
                rec.name, rtol=1e-10, atol=1e-12)


def test_cache_counts_hits_misses_and_says_why_it_retraced():
    def f(x, y):
        return fnp.sum(fnp.asarray(x)) * fnp.sum(y)

    jf = fg.jit(f, backend="numpy")
    jf(np.ones(3), np.ones(3))
    jf(np.ones(3), np.ones(3))
    jf(np.ones(3), np.ones(3) * 2)           # same signature, new values: a hit
    jf(np.ones(3), np.ones(4))
    info = jf.cache_info()
    assert (info.hits, info.misses, info.size) == (2, 2, 2)
    assert info.retraces == ("argument 1 ('y') changed shape from (3,) to (4,)",)
    jf(np.ones(3, np.float32), np.ones(4))
    assert jf.cache_info().retraces[-1] == (
        "argument 0 ('x') changed dtype from float64 to float32")
    jf([np.ones(3)], np.ones(4))
    assert "argument structure changed" in jf.cache_info().retraces[-1]


def test_static_argnums_and_argnames_are_part_of_the_signature():
    def f(x, n, *, mode="sum"):
        y = x
        for _ in range(n):             # Python control flow on a static value
            y = y * 2.0
        return fnp.sum(y) if mode == "sum" else fnp.max(y)

    jf = fg.jit(f, static_argnums=1, static_argnames="mode", backend="numpy")
    x = np.array([1.0, 3.0])
    assert jf(x, 2) == 16.0
    assert jf(x, 3) == 32.0
    assert jf(x, 3, mode="max") == 24.0
    assert jf(x, 3, mode="max") == 24.0
    info = jf.cache_info()
    assert (info.hits, info.misses) == (1, 3)
    assert info.retraces == ("static argument 1 ('n') changed from 2 to 3",
                             "static argument 'mode' changed from 'sum' to 'max'")


def test_unhashable_static_argument_is_a_clear_error():
    jf = fg.jit(lambda x, opts: x, static_argnums=1)
    with pytest.raises(ArgumentError, match="static argument 1 .*'opts'.* hashable, got list"):
        jf(np.ones(2), [1, 2])


def test_retrace_warning_names_the_argument_that_keeps_changing():
    jf = fg.jit(lambda x: fnp.sum(x), backend="numpy", warn_after=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(1, 6):
            jf(np.ones(n))
    retrace = [w for w in caught if issubclass(w.category, RetraceWarning)]
    assert len(retrace) == 1
    assert "traced 4 times" in str(retrace[0].message)
    assert "argument 0 ('x') changed shape" in str(retrace[0].message)


def test_control_flow_on_traced_values_is_a_concretization_error_with_the_fix():
    def f(x):
        if fnp.sum(x) > 0:      # the offending line
            return x
        return -x

    line = f.__code__.co_firstlineno + 1
    with pytest.raises(ConcretizationError) as info:
        fg.jit(f)(np.ones(2))
    message = str(info.value)
    assert "bool()" in message
    assert f"test_jit.py:{line}" in message
    assert "where" in message and "static_argnums" in message


def test_tracer_leaking_out_of_jit_raises():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * 2.0

    fg.jit(f, backend="numpy")(np.ones(2))
    with pytest.raises(TracerLeakError):
        leaked[0] + 1.0


def test_concurrent_calls_trace_each_signature_once_and_agree():
    calls = []

    def f(x):
        calls.append(x.shape)          # runs at trace time only
        return fnp.tanh(x) * 2.0 + fnp.sum(x)

    jf = fg.jit(f, backend="numpy")
    inputs = [np.linspace(0, 1, 3 + (i % 2)) for i in range(40)]
    results = [None] * len(inputs)
    barrier = threading.Barrier(8)

    def worker(k):
        barrier.wait()
        for i in range(k, len(inputs), 8):
            results[i] = jf(inputs[i])

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for x, r in zip(inputs, results):
        np.testing.assert_allclose(r, np.tanh(x) * 2.0 + np.sum(x), rtol=1e-14)
    assert sorted(calls) == [(3,), (4,)]
    info = jf.cache_info()
    assert info.misses == 2 and info.hits == len(inputs) - 2


def test_jit_composes_with_vmap_jvp_and_grad():
    def f(x):
        return fnp.sum(fnp.sin(x) * x)

    x = np.linspace(-1, 1, 4)
    xs = np.stack([x, 2 * x])
    expected_grad = np.cos(x) * x + np.sin(x)
    np.testing.assert_allclose(fg.jit(fg.grad(f))(x), expected_grad, rtol=1e-13)
    np.testing.assert_allclose(fg.grad(fg.jit(f))(x), expected_grad, rtol=1e-13)
    np.testing.assert_allclose(fg.jit(fg.vmap(f))(xs), [f(x), f(2 * x)], rtol=1e-13)
    np.testing.assert_allclose(fg.vmap(fg.jit(f))(xs), [f(x), f(2 * x)], rtol=1e-13)
    v = np.ones(4)
    np.testing.assert_allclose(fg.jvp(fg.jit(f), (x,), (v,))[1], expected_grad @ v, rtol=1e-13)
    hvp = fg.jit(lambda x, v: fg.jvp(fg.grad(f), (x,), (v,))[1])(x, v)
    np.testing.assert_allclose(hvp, 2 * np.cos(x) - x * np.sin(x), rtol=1e-13)


def test_jit_closing_over_an_outer_tracer_is_differentiated():
    def outer(a):
        inner = fg.jit(lambda x: fnp.sum(x * a), backend="numpy")
        return inner(np.arange(3.0))

    np.testing.assert_allclose(fg.grad(outer)(2.0), 3.0)


def test_lower_shows_the_graph_that_runs():
    graph = fg.jit(lambda x: fnp.exp(x) + 1.0).lower(np.ones(3))
    assert "exp" in str(graph) and graph.outputs[0].shape == (3,)


# -- the call fast path (positional arrays and flat dicts of arrays) ----------------------------

def test_dict_arguments_take_the_fast_path_and_still_retrace_on_any_change():
    def f(p, x):
        return {k: fnp.sum(v * x[: v.shape[0]]) for k, v in p.items()}

    jf = fg.jit(f, backend="numpy")
    p = {"b": np.arange(3.0), "a": np.ones(2)}
    x = np.linspace(0.0, 1.0, 3)
    for _ in range(3):
        out = jf(p, x)
        assert out.keys() == {"a", "b"}
        for k in p:
            np.testing.assert_allclose(out[k], np.sum(p[k] * x[: p[k].shape[0]]), rtol=1e-15)
    assert (jf.cache_info().hits, jf.cache_info().misses) == (2, 1)
    # Every part of the key matters: a leaf's shape, its dtype, and the dict's keys.
    for p2 in ({"b": np.arange(2.0), "a": np.ones(2)},
               {"b": np.arange(3.0, dtype=np.float32), "a": np.ones(2)},
               {"c": np.arange(3.0), "a": np.ones(2)}):
        out = jf(p2, x)
        for k in p2:
            np.testing.assert_allclose(out[k], np.sum(p2[k] * x[: p2[k].shape[0]]), rtol=1e-6)
    assert jf.cache_info().misses == 4
    # Non-array leaves (a Python float, a nested list) take the general path, with the same results.
    p3 = {"b": [np.arange(3.0)], "a": np.ones(2)}
    jg = fg.jit(lambda p, s: fnp.sum(p["a"]) * s + fnp.sum(p["b"][0]), backend="numpy")
    assert jg(p3, 2.0) == jg(p3, 2.0) == 2.0 * 2.0 + 3.0
    assert jg.cache_info().hits == 1
