"""Debugging tools: ``config``, ``debug_nans``, ``disable_jit`` and ``debug.print``/``callback``.

Every line number an error message must name is computed from this file's own source with
``inspect`` (``_line_of``), never typed in.
"""

import importlib
import inspect

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._core.primitive import Primitive
from funcgrad.errors import ArgumentError, ConfigError, NonFiniteError
from funcgrad.ops import elementwise as ew
from funcgrad.transforms.jvp import JVPTrace

grad_module = importlib.import_module("funcgrad.transforms.grad")  # (the package exports grad())
jit_module = importlib.import_module("funcgrad.transforms.jit")
HERE = __file__


def _line_of(fn, marker: str) -> int:
    """The line of this file holding ``marker`` inside the source of ``fn``."""
    lines, start = inspect.getsourcelines(fn)
    hits = [start + i for i, text in enumerate(lines) if marker in text]
    assert len(hits) == 1, (marker, hits)
    return hits[0]


@pytest.fixture
def nans():
    with fg.debug_nans():
        yield
    assert not fg.config.debug_nans


def _assert_names(err, primitive: str, line: int):
    assert isinstance(err, FloatingPointError)
    assert err.primitive == primitive
    assert err.where == (HERE, line)
    assert f"{HERE}:{line}" in str(err)
    assert primitive in str(err)


# -- config ------------------------------------------------------------------------------
def test_config_update_and_read():
    assert fg.config.read("debug_nans") is False and fg.config.debug_nans is False
    fg.config.update("debug_nans", True)
    try:
        assert fg.config.read("debug_nans") is True and fg.config.debug_nans is True
    finally:
        fg.config.update("debug_nans", False)
    assert fg.config.debug_nans is False
    fg.config.update("disable_jit", True)
    try:
        assert fg.config.read("disable_jit") is True
    finally:
        fg.config.update("disable_jit", False)


def test_config_unknown_name_lists_the_options():
    with pytest.raises(ConfigError, match="'debug_nans', 'disable_jit'") as info:
        fg.config.update("debug_nan", True)
    assert isinstance(info.value, AttributeError)
    with pytest.raises(ConfigError, match="no 'jax_' prefix"):
        fg.config.read("jax_debug_nans")
    with pytest.raises(AttributeError, match="unknown option 'debug_infs'"):
        fg.config.debug_infs  # noqa: B018
    with pytest.raises(ArgumentError, match="expected True or False, got 'yes'"):
        fg.config.update("debug_nans", "yes")


def test_off_means_the_originals_are_in_place():
    log_impl = ew.log_p.impl
    with fg.debug_nans():
        assert ew.log_p.impl is not log_impl
        assert grad_module.run_backward_pass is not grad_module.backward_pass
        assert jit_module.Jitted.__call__ is not jit_module.compiled_call
    assert ew.log_p.impl is log_impl
    assert grad_module.run_backward_pass is grad_module.backward_pass
    assert jit_module.Jitted.__call__ is jit_module.compiled_call
    assert JVPTrace.process is not None and Primitive.__init__.__name__ == "__init__"
    with np.errstate(invalid="ignore"):
        assert np.isnan(fnp.log(np.array(-1.0)))  # off: no check


# -- debug_nans: forward ---------------------------------------------------------------------
def test_eager_forward_nan(nans):
    def f():
        return fnp.log(np.array([1.0, -1.0]))  # <- log
    with pytest.raises(NonFiniteError) as info, np.errstate(invalid="ignore"):
        f()
    _assert_names(info.value, "log", _line_of(f, "<- log"))
    assert info.value.kind == "NaN" and "f64[2]" in str(info.value)


def test_eager_forward_inf_counts(nans):
    def f(x):
        return fnp.log(x)  # <- log
    with pytest.raises(NonFiniteError, match=r"-inf") as info, np.errstate(divide="ignore"):
        f(np.zeros(2))
    _assert_names(info.value, "log", _line_of(f, "<- log"))


def test_forward_under_grad_vjp_jvp_vmap(nans):
    def f(x):
        y = x * 2.0
        return fnp.sum(fnp.sqrt(y - 3.0))  # <- sqrt
    line = _line_of(f, "<- sqrt")
    x = np.array([1.0, 2.0])
    with np.errstate(invalid="ignore"):
        for run in (lambda: fg.grad(f)(x), lambda: fg.vjp(f, x),
                    lambda: fg.jvp(f, (x,), (np.ones(2),)), lambda: fg.vmap(f)(x[:, None]),
                    lambda: fg.value_and_grad(f)(x)):
            with pytest.raises(NonFiniteError) as info:
                run()
            _assert_names(info.value, "sqrt", line)


def test_integer_and_bool_results_are_not_checked(nans):
    with np.errstate(divide="ignore"):
        assert fnp.floor_divide(np.array([1]), np.array([0])).tolist() == [0]
    assert fnp.isnan(np.array([np.nan])).tolist() == [True]  # a NaN input to a boolean op


def test_complex_results_are_checked_on_both_parts(nans):
    def f(z):
        return fnp.multiply(z, 2.0)  # <- multiply
    with pytest.raises(NonFiniteError, match="NaN") as info:
        f(np.array([1 + 1j, complex(1.0, np.nan)]))
    _assert_names(info.value, "multiply", _line_of(f, "<- multiply"))
    assert "c128[2]" in str(info.value)
    with pytest.raises(NonFiniteError, match=r"add\(c128\[1\], float 1.0\) produced -inf"):
        fnp.add(np.array([complex(1.0, -np.inf)]), 1.0)  # an infinite imaginary part
    np.testing.assert_allclose(f(np.array([1 + 2j])), [2 + 4j])


def test_debug_nans_false_inside_turns_it_off(nans):
    with fg.debug_nans(False), np.errstate(invalid="ignore"):
        assert np.isnan(fnp.log(np.array(-1.0)))
    assert fg.config.debug_nans
    with pytest.raises(NonFiniteError), np.errstate(invalid="ignore"):
        fnp.log(np.array(-1.0))


def test_debug_nans_as_a_decorator():
    @fg.debug_nans()
    def f(x):
        return fnp.log(x)
    with pytest.raises(NonFiniteError), np.errstate(invalid="ignore"):
        f(np.array(-1.0))
    assert not fg.config.debug_nans


def test_finite_programs_give_the_same_answers(nans):
    def f(x):
        return fnp.sum(fnp.tanh(x) ** 2 * fnp.exp(-x))
    x = np.linspace(-1, 1, 5)
    g = fg.grad(f)(x)
    with fg.debug_nans(False):
        np.testing.assert_array_equal(g, fg.grad(f)(x))
        np.testing.assert_array_equal(fg.jit(fg.grad(f))(x), g)
    np.testing.assert_allclose(fg.jit(fg.grad(f))(x), g, rtol=1e-12)


# -- debug_nans: backward ------------------------------------------------------------------
def test_backward_only_inf_names_the_vjp_and_the_forward_line(nans):
    def loss(x):
        return fnp.sum(fnp.sqrt(x))  # <- sqrt
    line = _line_of(loss, "<- sqrt")
    assert loss(np.zeros(3)) == 0.0  # the forward pass is finite
    with pytest.raises(NonFiniteError) as info:
        fg.grad(loss)(np.zeros(3))
    err = info.value
    assert err.forward == "sqrt" and err.forward_where == (HERE, line)
    assert "VJP of sqrt" in str(err) and "backward pass" in str(err)
    assert f"{HERE}:{line}" in str(err) and err.kind == "+inf"


def test_backward_only_nan_of_a_norm_at_zero(nans):
    # d/dx sqrt(sum(x**2)) at 0: sqrt's VJP gives inf, then the VJP of x**2 would multiply it
    # by x == 0 (NaN).  The first non-finite cotangent is sqrt's.
    def norm(x):
        sq = fnp.sum(x ** 2)
        return fnp.sqrt(sq)  # <- sqrt
    with pytest.raises(NonFiniteError) as info:
        fg.grad(norm)(np.zeros(2))
    assert info.value.forward == "sqrt"
    assert info.value.forward_where == (HERE, _line_of(norm, "<- sqrt"))


def test_masked_derivative_rules_do_not_raise(nans):
    # where(x > 0, sqrt(x), 0) at 0: sqrt's rule computes 0.5 / 0 = inf internally and masks
    # it under the zero cotangent.  Only rule results are checked, so this is finite.
    def f(x):
        return fnp.sum(fnp.where(x > 0, fnp.sqrt(x), 0.0))  # <- sqrt
    np.testing.assert_array_equal(fg.grad(f)(np.array([0.0, 4.0])), [0.0, 0.25])
    # Forward mode meets sqrt's infinite tangent before the where drops it: a real infinity.
    with pytest.raises(NonFiniteError, match="tangent") as info:
        fg.jvp(f, (np.array([0.0, 4.0]),), (np.ones(2),))
    _assert_names(info.value, "sqrt", _line_of(f, "<- sqrt"))


def test_second_order_backward(nans):
    def f(x):
        return fnp.sum(x ** 1.5)
    # f'' = 0.75 x**-0.5: infinite at 0, where f' = 1.5 x**0.5 is finite.
    np.testing.assert_allclose(fg.grad(f)(np.array([0.0, 4.0])), [0.0, 3.0])

    def df(x):
        return fnp.sum(fg.grad(f)(x))  # <- inner grad
    with pytest.raises(NonFiniteError) as info, np.errstate(divide="ignore"):
        fg.grad(df)(np.array([0.0, 4.0]))
    # The outer backward pass differentiates the inner backward pass's operations, which
    # the user's code made on the line that called the inner grad.
    assert info.value.forward == "power"
    assert info.value.forward_where == (HERE, _line_of(df, "<- inner grad"))


# -- debug_nans: jit ----------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["numpy", None])
def test_jit_forward_nan_is_located_by_rerunning(nans, backend):
    def f(x):
        y = fnp.exp(x)
        return fnp.log(y - 2.0) * 3.0  # <- log
    jf = fg.jit(f, backend=backend)
    np.testing.assert_allclose(jf(np.array([2.0])), 3 * np.log(np.exp(2.0) - 2.0))
    with pytest.raises(NonFiniteError) as info, np.errstate(invalid="ignore"):
        jf(np.array([0.0]))
    _assert_names(info.value, "log", _line_of(f, "<- log"))
    assert "jit(f)" in str(info.value) and "op by op" in str(info.value)


def test_jit_compiled_before_turning_it_on_checks_outputs():
    def f(x):
        return fnp.log(x)  # <- log
    jf = fg.jit(f, backend="numpy")
    with np.errstate(invalid="ignore"):
        assert np.isnan(jf(np.array(-1.0)))  # off: compiled, unchecked
        with fg.debug_nans(), pytest.raises(NonFiniteError,
                                            match="returned NaN in output leaf 0") as info:
            jf(np.array(-1.0))
        assert np.isnan(jf(np.array(-1.0)))  # off again
    _assert_names(info.value, "log", _line_of(f, "<- log"))
    assert jf.cache_info().misses == 1


def test_jit_backward_only_inf(nans):
    def loss(x):
        return fnp.sum(fnp.sqrt(x))  # <- sqrt
    with pytest.raises(NonFiniteError) as info:
        fg.jit(fg.grad(loss))(np.zeros(3))
    assert info.value.forward == "sqrt"
    assert info.value.forward_where == (HERE, _line_of(loss, "<- sqrt"))


def test_jit_nan_that_the_op_by_op_rerun_cannot_find(nans):
    # The traced program and the eager one differ (a Python value read at trace time), as a
    # compiled program can differ from the op-by-op one; the error says so, blaming nothing.
    scale = {"value": np.nan}

    def f(x):
        s = scale["value"]
        scale["value"] = 1.0
        return x * s
    with pytest.raises(NonFiniteError, match="gave finite values everywhere") as info:
        fg.jit(f, backend="numpy")(np.ones(2))
    assert info.value.primitive is None


def test_jit_inside_grad(nans):
    def f(x):
        return fnp.log(x)  # <- log
    with pytest.raises(NonFiniteError) as info, np.errstate(invalid="ignore"):
        fg.grad(lambda x: fnp.sum(fg.jit(f)(x)))(-np.ones(2))
    assert info.value.primitive == "log"


# -- disable_jit ------------------------------------------------------------------------------
def test_disable_jit_runs_python_eagerly(capsys):
    @fg.jit
    def f(x):
        print("inside", type(x).__name__)
        if float(fnp.sum(x)) > 0:  # Python control flow on a value: only without jit
            return x * 2.0
        return -x
    with fg.disable_jit():
        np.testing.assert_array_equal(f(np.ones(2)), [2.0, 2.0])
        np.testing.assert_array_equal(f(-np.ones(2)), [1.0, 1.0])
        with fg.disable_jit(False):
            assert fg.config.read("disable_jit") is False
        assert fg.config.read("disable_jit") is True
    assert capsys.readouterr().out == "inside ndarray\ninside ndarray\n"
    assert f.cache_info().misses == 0  # never traced
    assert fg.config.read("disable_jit") is False


def test_disable_jit_via_config_update():
    f = fg.jit(lambda x: x + 1.0)
    fg.config.update("disable_jit", True)
    try:
        np.testing.assert_array_equal(f(np.zeros(2)), [1.0, 1.0])
        assert f.cache_info().misses == 0
    finally:
        fg.config.update("disable_jit", False)
    f(np.zeros(2))
    assert f.cache_info().misses == 1


def test_disable_jit_with_debug_nans_locates_eagerly():
    def f(x):
        return fnp.arccos(x)  # <- arccos
    with fg.disable_jit(), fg.debug_nans(), pytest.raises(NonFiniteError) as info, \
            np.errstate(invalid="ignore"):
        fg.jit(f)(np.array(2.0))
    _assert_names(info.value, "arccos", _line_of(f, "<- arccos"))


# -- debug.print and debug.callback -------------------------------------------------------------
def _loss(x):
    y = fnp.sin(x)
    fg.debug.print("y = {y}", y=y)
    fg.debug.print("y = {y}", y=y)  # the same print twice prints twice (no CSE)
    fg.debug.print("sum {:.3f} at step {}", fnp.sum(x), 7)
    return fnp.sum(y * 2.0)


def _expected(x) -> str:
    y = np.sin(x)
    return f"y = {y}\ny = {y}\nsum {np.sum(x):.3f} at step 7\n"


def test_print_eager_and_under_grad(capsys):
    x = np.array([0.5, 1.0])
    _loss(x)
    assert capsys.readouterr().out == _expected(x)
    fg.grad(_loss)(x)
    assert capsys.readouterr().out == _expected(x)  # the forward values
    fg.jvp(_loss, (x,), (np.ones(2),))
    assert capsys.readouterr().out == _expected(x)


@pytest.mark.parametrize("backend", ["numpy", None])
def test_print_under_jit_runs_every_call_in_order(capsys, backend):
    f = fg.jit(_loss, backend=backend)
    for x in (np.array([0.5, 1.0]), np.array([2.0, 3.0]), np.array([0.5, 1.0])):
        np.testing.assert_allclose(f(x), 2 * np.sum(np.sin(x)))
        assert capsys.readouterr().out == _expected(x)
    assert f.cache_info().misses == 1
    g = fg.jit(fg.grad(_loss), backend=backend)
    x = np.array([0.25, 0.75])
    np.testing.assert_allclose(g(x), 2 * np.cos(x))
    assert capsys.readouterr().out == _expected(x)


def test_print_survives_the_optimiser():
    graph = fg.make_graph(_loss, optimize=True)(np.zeros(2))
    prints = [n for n in graph.nodes if n.name == "debug_callback"]
    assert len(prints) == 3 and len(graph.effects) == 3
    assert "debug_callback" in str(graph)


def test_print_of_constants_only_runs_at_run_time(capsys):
    f = fg.jit(lambda x: (fg.debug.print("hello {}", np.arange(2)), x + 1.0)[1])
    f(np.zeros(1))
    f(np.zeros(1))
    assert capsys.readouterr().out == "hello [0 1]\nhello [0 1]\n"


def test_print_under_vmap_prints_each_member(capsys):
    xs = np.array([[0.5, 1.0], [2.0, 3.0]])
    fg.vmap(_loss)(xs)
    eager = "".join(_expected(x) for x in xs)
    # Each print runs for every member before the next print (as JAX unrolls it).
    y = np.sin(xs)
    ordered = "".join(f"y = {r}\n" for r in y) * 2 + "".join(
        f"sum {np.sum(x):.3f} at step 7\n" for x in xs)
    out = capsys.readouterr().out
    assert out == ordered and sorted(out.splitlines()) == sorted(eager.splitlines())
    fg.jit(fg.vmap(_loss))(xs)
    assert capsys.readouterr().out == ordered


def test_callback_receives_numpy_values():
    seen = []
    f = fg.jit(lambda x, y: (fg.debug.callback(lambda a, b=None: seen.append((a, b)), x * 2.0,
                                               b={"y": y}), x)[1])
    f(np.ones(2), np.array(3.0))
    (a, b), = seen
    assert type(a) is np.ndarray and a.tolist() == [2.0, 2.0]
    assert type(b["y"]) is np.ndarray and b["y"] == 3.0


def test_op_table_callback_row_runs_under_jit_of_grad():
    import op_records_debug
    from op_table import RECORDS

    rec = next(r for r in RECORDS if r.name == "debug.callback[between ops]")
    before = len(op_records_debug.SEEN)
    x = np.linspace(0.1, 0.3, 3)
    np.testing.assert_allclose(fg.jit(fg.grad(lambda v: fnp.sum(rec.fun(v))))(x),
                               np.sin(x) + x * np.cos(x))
    assert op_records_debug.SEEN[before:] == [(3,)]


def test_print_rejects_a_non_string_format():
    with pytest.raises(ArgumentError, match="format must be a str"):
        fg.debug.print(3, 4)


@pytest.mark.parametrize("wrap", [lambda f: f, lambda f: fg.jit(f, backend="numpy"), fg.jit])
def test_print_inside_a_loop_body_runs_every_iteration(capsys, wrap):
    from funcgrad import lax

    def f(x):
        def body(i, c):
            fg.debug.print("i={} c={}", i, c)
            return c * 2.0
        return lax.fori_loop(0, 3, body, x)
    assert wrap(f)(np.array(1.0)) == 8.0
    assert capsys.readouterr().out == "i=0 c=1.0\ni=1 c=2.0\ni=2 c=4.0\n"


def test_debug_nans_turns_on_beside_dead_weak_proxies():
    # Numba's CUDA simulator leaves weakref.proxy objects whose referents are gone;
    # switching debug_nans on walks every object and must not trip over them.
    import weakref

    class Referent:
        pass

    referent = Referent()
    proxy = weakref.proxy(referent)
    del referent
    try:
        fg.config.update("debug_nans", True)
        assert fg.config.read("debug_nans") is True
    finally:
        fg.config.update("debug_nans", False)
    assert proxy is not None
