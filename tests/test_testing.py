"""Tests of funcgrad.testing: check_grads, numerical_grad and the hypothesis strategies.

check_grads must pass on correct derivatives and catch wrong ones: rules that
are off by a factor (the seed document's double-counted gradient), rules wrong
only on some elements, and rules whose first derivative is right but whose
second derivative is not.
"""

import doctest
import importlib
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.testing
from funcgrad import tree
from funcgrad._core.primitive import Primitive
from funcgrad.errors import (
    ArgumentError,
    DTypeError,
    GradientCheckError,
    NonScalarOutputError,
)
from funcgrad.testing import _check, check_grads, numerical_grad
from funcgrad.testing import strategies as fst


def _rand(*shape, dtype=np.float64, seed=0):
    """Values in [-1.5, 1.5]; a fresh generator per call, so a test's inputs never depend on
    which tests ran before it."""
    return np.random.default_rng(seed).uniform(-1.5, 1.5, shape).astype(dtype)


# -- deliberately broken primitives -------------------------------------------------

# The seed document's bug: a gradient that is accumulated more than once.
overcounted_p = Primitive("overcounted", lambda x, factor: x)
overcounted_p.defvjp(lambda g, ans, x, factor: factor * g)
overcounted_p.defjvp(lambda t, ans, x, factor: t)  # forward mode is right: only the VJP is planted

# sin whose derivative is doubled where x > 0 only: the first bad element is not the first.
sin_wrong_positive_p = Primitive("sin_wrong_positive", np.sin)
sin_wrong_positive_p.defvjp(lambda g, ans, x: g * fnp.cos(x) * fnp.where(x > 0, 2.0, 1.0))
sin_wrong_positive_p.defjvp(lambda t, ans, x: t * fnp.cos(x))

# sin whose first derivative is right but is not differentiable: its second derivative is 0.
sin_frozen_rule_p = Primitive("sin_frozen_rule", np.sin)
sin_frozen_rule_p.defvjp(lambda g, ans, x: g * fnp.cos(fg.stop_gradient(x)))
sin_frozen_rule_p.defjvp(lambda t, ans, x: t * fnp.cos(x))

# sin whose derivative is off by 0.1 %: a tolerance test.
sin_slightly_off_p = Primitive("sin_slightly_off", np.sin)
sin_slightly_off_p.defvjp(lambda g, ans, x: 1.001 * g * fnp.cos(x))
sin_slightly_off_p.defjvp(lambda t, ans, x: 1.001 * t * fnp.cos(x))


def overcounted(x, factor):
    return overcounted_p.bind(x, factor=factor)


def _values(message):
    """The analytic and numeric values printed in a GradientCheckError."""
    analytic = float(re.search(r"analytic \(reverse mode\)\s+= (\S+)", message).group(1))
    numeric = float(re.search(r"numeric \(central differences\)\s+= (\S+)", message).group(1))
    return analytic, numeric


# -- check_grads passes on correct derivatives --------------------------------------

def _dict_fn(p):
    return fnp.sum(fnp.tanh(p["w"] @ p["x"] + p["b"]) ** 2)


def _multi_output(x, y):
    return {"prod": x[:, None] * y, "norm": fnp.sqrt(fnp.sum(y ** 2)), "ints": fnp.argmax(x)}


CORRECT = [
    ("sin", fnp.sin, lambda dt: (_rand(3, dtype=dt),)),
    ("mul_broadcast", lambda x, y: x * y, lambda dt: (_rand(2, 3, dtype=dt), _rand(3, dtype=dt))),
    ("mul_0d", lambda x, y: x * fnp.exp(y), lambda dt: (_rand(2, 1, dtype=dt), _rand(dtype=dt))),
    ("matmul", lambda a, b: a @ b, lambda dt: (_rand(2, 3, dtype=dt), _rand(3, 2, dtype=dt))),
    ("pytree_dict", _dict_fn,
     lambda dt: ({"w": _rand(2, 3, dtype=dt), "x": _rand(3, dtype=dt), "b": _rand(2, dtype=dt)},)),
    ("nonscalar_pytree_output", _multi_output, lambda dt: (_rand(3, dtype=dt), _rand(2, dtype=dt))),
    ("list_arg", lambda xs: xs[0] * fnp.sin(xs[1]), lambda dt: ([_rand(2, dtype=dt),
                                                                  _rand(2, dtype=dt, seed=1)],)),
]


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,f,make_args", CORRECT, ids=[c[0] for c in CORRECT])
def test_check_grads_passes_on_correct_functions(name, f, make_args, dtype, order):
    assert check_grads(f, make_args(dtype), order=order) is None


def test_check_grads_third_order():
    check_grads(lambda x: fnp.sin(x) * x ** 2, (_rand(3),), order=3)


def test_check_grads_holds_non_differentiated_arguments_fixed():
    x = _rand(3)
    n = np.array([1, 2, 3])
    check_grads(lambda x, n: x * n, (x, n), argnums=0)
    check_grads(lambda x, n: x * n, (x, n), argnums=(0,))


def test_check_grads_accepts_python_float_and_read_only_arrays():
    x = _rand(2, 2)
    x.flags.writeable = False
    check_grads(lambda x, s: fnp.sin(x) * s, (x, 1.5))


def test_check_grads_does_not_mutate_inputs():
    p = {"w": _rand(2, 3), "x": _rand(3), "b": _rand(2)}
    before = {k: v.copy() for k, v in p.items()}
    check_grads(_dict_fn, (p,))
    with pytest.raises(GradientCheckError):
        check_grads(lambda p: sin_wrong_positive_p.bind(p["w"]), (p,))
    for k, v in p.items():
        np.testing.assert_array_equal(v, before[k])


# -- check_grads catches wrong derivatives ------------------------------------------

def test_catches_doubled_derivative_and_names_first_bad_element():
    x = np.array([-1.0, -0.5, 0.3, 2.0, 0.7])
    with pytest.raises(GradientCheckError) as info:
        check_grads(lambda x: sin_wrong_positive_p.bind(x), (x,), order=1)
    message = str(info.value)
    assert "order-1" in message
    assert "at argument 0, element (2,)" in message  # the first x > 0
    assert "3 of 5 element(s)" in message
    analytic, numeric = _values(message)
    # Both values are u * d sin(x[2]) for the same cotangent u: the analytic one twice the true one.
    u = numeric / np.cos(x[2])
    np.testing.assert_allclose(analytic, 2 * u * np.cos(x[2]), rtol=1e-8)
    np.testing.assert_allclose(analytic / numeric, 2.0, rtol=1e-6)


def test_names_the_leaf_of_a_pytree_argument():
    p = {"b": _rand(2), "w": np.abs(_rand(2, 3)) + 0.1}
    with pytest.raises(GradientCheckError) as info:
        check_grads(lambda b, p: fnp.sum(b) + fnp.sum(sin_wrong_positive_p.bind(p["w"])),
                    (p["b"], p), order=1)
    message = str(info.value)
    assert "argument 1, leaf 1 of PyTreeDef({'b': *, 'w': *}), element (0, 0)" in message
    assert "6 of 6 element(s) of this leaf disagree, 6 of 10 in all" in message


def test_catches_a_bug_in_one_output_of_a_pytree_output():
    x = np.array([0.4, 0.9])
    f = lambda x: {"good": fnp.cos(x), "bad": sin_wrong_positive_p.bind(x) * 3.0}
    with pytest.raises(GradientCheckError) as info:
        check_grads(f, (x,), order=1)
    assert "element (0,)" in str(info.value)


def test_catches_a_wrong_custom_vjp_rule():
    # softplus'(x) is 1 / (1 + exp(-x)); this rule has the sign wrong.
    def softplus(x):
        return fnp.log1p(fnp.exp(x))

    wrong, right = fg.custom_vjp(softplus), fg.custom_vjp(softplus)
    wrong.defvjp(lambda x: (softplus(x), x), lambda x, g: (g / (1 + fnp.exp(x)),))
    right.defvjp(lambda x: (softplus(x), x), lambda x, g: (g / (1 + fnp.exp(-x)),))
    x = np.array([-1.0, 0.5, 2.0])
    check_grads(right, (x,), modes="rev")  # a custom_vjp has no forward mode, as in JAX
    with pytest.raises(ArgumentError, match=r"no JVP rule.*\n  To check reverse mode only, pass "
                       r"modes=\('rev',\)"):
        check_grads(right, (x,))
    with pytest.raises(GradientCheckError) as info:
        check_grads(wrong, (x,))  # reverse mode runs first and fails before forward mode is tried
    analytic, numeric = _values(str(info.value))
    # Same cotangent u on both sides: their ratio is sigmoid(-x) / sigmoid(x) = exp(-x) at x[0].
    np.testing.assert_allclose(analytic / numeric, np.exp(1.0), rtol=1e-6)


def test_catches_second_order_bug_only_at_order_2():
    x = np.array([0.4, -1.1, 2.0])
    f = lambda x: sin_frozen_rule_p.bind(x)
    check_grads(f, (x,), order=1)
    with pytest.raises(GradientCheckError) as info:
        check_grads(f, (x,), order=2)
    message = str(info.value)
    assert "order-2 derivative" in message and "element (0,)" in message
    analytic, numeric = _values(message)
    assert analytic == 0.0  # the frozen rule has no derivative
    # The true second derivative of <u1, sin x> along <u2, .> is -u1 u2 sin(x): far from 0.
    assert abs(numeric) > 1e-3
    assert "3 of 3 element(s)" in message


def test_failure_is_deterministic():
    x = _rand(4)
    messages = []
    for _ in range(2):
        with pytest.raises(GradientCheckError) as info:
            check_grads(lambda x: sin_frozen_rule_p.bind(x), (x,))
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_tolerances_follow_dtype_and_can_be_set():
    x = np.array([0.2, 0.9])
    f = lambda x: sin_slightly_off_p.bind(x)
    with pytest.raises(GradientCheckError):
        check_grads(f, (x,), order=1)  # 1e-3 relative error > rtol 1e-5 in float64
    check_grads(f, (x,), order=1, rtol=1e-2)
    check_grads(f, (x.astype(np.float32),), order=1)  # within float32's rtol 2e-2
    with pytest.raises(GradientCheckError) as info:
        check_grads(f, (x,), order=1, rtol=1e-4, atol=0.0)
    assert "atol=0 + rtol=0.0001" in str(info.value)


def test_eps_is_configurable():
    x = np.array([0.3, 1.1])
    check_grads(fnp.exp, (x,), order=1, eps=1e-4)
    # A step this large makes the central difference of exp wrong by eps**2 / 6 relative.
    with pytest.raises(GradientCheckError):
        check_grads(fnp.exp, (x,), order=1, eps=0.5)


# The seed document 001 trains ((data @ w0 @ w1 - target)**2).sum(0) with SGD (lr 0.1)
# and prints 1.11374267, 0.62255894, 0.3880155, ...  Its backward pass counted w0's
# gradient twice and w1's 1.5 times; correct gradients give 1.11374267, 0.8024816, ...
DATA = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
TARGET = np.array([[0], [1], [0], [1]], dtype=np.float64)


def _seed_weights():
    rs = np.random.RandomState(42)
    rs.randint(0, 100000), rs.randint(0, 100000)  # the origin's node-id draws
    w0 = rs.rand(2, 3)
    rs.randint(0, 100000)
    return w0, rs.rand(3, 1)


def _seed_loss(w0, w1):
    return fnp.sum((DATA @ w0 @ w1 - TARGET) ** 2)


def _seed_loss_overcounted(w0, w1):
    return fnp.sum((DATA @ overcounted(w0, 2.0) @ overcounted(w1, 1.5) - TARGET) ** 2)


def _train(loss, steps=3):
    w0, w1 = _seed_weights()
    losses = []
    for _ in range(steps):
        value, (g0, g1) = fg.value_and_grad(loss, argnums=(0, 1))(w0, w1)
        losses.append(float(value))
        w0, w1 = w0 - 0.1 * g0, w1 - 0.1 * g1
    return losses


def test_seed_document_table_bug_is_caught():
    # The overcounted gradient reproduces the document's (wrong) table ...
    np.testing.assert_allclose(_train(_seed_loss_overcounted),
                               [1.11374267, 0.62255894, 0.3880155], atol=5e-9)
    np.testing.assert_allclose(_train(_seed_loss), [1.11374267, 0.8024816, 0.6186114], atol=5e-8)
    # ... and check_grads catches it, naming the first weight, while the true loss passes.
    w0, w1 = _seed_weights()
    check_grads(_seed_loss, (w0, w1))
    with pytest.raises(GradientCheckError) as info:
        check_grads(_seed_loss_overcounted, (w0, w1))
    message = str(info.value)
    assert "order-1" in message and "argument 0, element (0, 0)" in message
    analytic, numeric = _values(message)
    np.testing.assert_allclose(analytic / numeric, 2.0, rtol=1e-6)
    with pytest.raises(GradientCheckError) as info:
        check_grads(_seed_loss_overcounted, (w0, w1), argnums=1)
    analytic, numeric = _values(str(info.value))
    np.testing.assert_allclose(analytic / numeric, 1.5, rtol=1e-6)


# -- bad input ----------------------------------------------------------------------

def test_non_float_leaf_is_a_dtype_error_naming_the_leaf():
    with pytest.raises(DTypeError, match=r"argument 1, leaf 0 of PyTreeDef\(\[\*, \*\]\) has dtype int64"):
        check_grads(lambda x, ys: x * ys[0] * ys[1], (np.ones(2), [np.arange(2), np.ones(2)]))
    with pytest.raises(DTypeError, match="argument 0 has dtype bool"):  # complex is accepted now
        check_grads(lambda z: z * 2, (np.ones(2, bool),))
    with pytest.raises(DTypeError, match="argument 0 is a builtins.str"):
        check_grads(lambda z: z, ("abc",))


def test_bad_arguments_are_argument_errors():
    with pytest.raises(ArgumentError, match=r"wrap a single argument as \(x,\)"):
        check_grads(fnp.sin, np.ones(2))
    with pytest.raises(ArgumentError, match="order must be a positive int"):
        check_grads(fnp.sin, (np.ones(2),), order=0)
    with pytest.raises(ArgumentError, match="out of range"):
        check_grads(fnp.sin, (np.ones(2),), argnums=1)
    with pytest.raises(ArgumentError, match="names an argument twice"):
        check_grads(lambda x, y: x * y, (np.ones(2), np.ones(2)), argnums=(0, 0))
    with pytest.raises(ArgumentError, match="eps=1e-20 is too small"):
        check_grads(fnp.sin, (np.ones(2),), eps=1e-20)


def test_function_without_float_output_is_a_dtype_error():
    with pytest.raises(DTypeError, match="no floating-point output"):
        check_grads(lambda x: fnp.argmax(x), (np.ones(3),))


# -- numerical_grad -----------------------------------------------------------------

def test_numerical_grad_matches_closed_form_with_pytree_structure():
    p = {"w": _rand(2, 3), "b": _rand(3)}
    x = _rand(2)
    grads = numerical_grad(lambda p, x: fnp.sum(fnp.sin(x @ p["w"] + p["b"])), (p, x))
    pre = x @ p["w"] + p["b"]
    assert tree.structure(grads) == tree.structure((p, x))
    np.testing.assert_allclose(grads[0]["b"], np.cos(pre), rtol=1e-8)
    np.testing.assert_allclose(grads[0]["w"], np.outer(x, np.cos(pre)), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(grads[1], p["w"] @ np.cos(pre), rtol=1e-8, atol=1e-10)


def test_numerical_grad_keeps_dtype_and_agrees_with_grad():
    x = _rand(4, dtype=np.float32)
    (g,) = numerical_grad(lambda x: fnp.sum(fnp.tanh(x)), (x,))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, fg.grad(lambda x: fnp.sum(fnp.tanh(x)))(x), rtol=1e-2)


def test_numerical_grad_needs_a_scalar():
    with pytest.raises(NonScalarOutputError, match=r"float64\[3\]"):
        numerical_grad(fnp.sin, (np.ones(3),))


# -- the package: lazy strategies, no import-time cost -------------------------------

def _run(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return out


def test_import_funcgrad_does_not_import_testing_and_testing_does_not_import_hypothesis():
    out = _run("import sys, funcgrad; print('funcgrad.testing' in sys.modules); "
               "import funcgrad.testing; print('hypothesis' in sys.modules); "
               "funcgrad.testing.strategies; print('hypothesis' in sys.modules)")
    assert out.stdout.split() == ["False", "False", "True"]


def test_strategies_is_exported():
    assert funcgrad.testing.strategies is fst
    assert funcgrad.testing.programs is importlib.import_module("funcgrad.testing.programs")
    assert set(funcgrad.testing.__all__) == {"check_grads", "numerical_grad", "programs", "strategies"}
    with pytest.raises(AttributeError):
        _ = funcgrad.testing.no_such_name


@pytest.mark.parametrize("module", [funcgrad.testing, _check, fst])
def test_docstring_examples(module):
    failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0


# -- strategies ---------------------------------------------------------------------

@given(fst.broadcastable_shapes())
def test_broadcastable_shapes_broadcast(pair):
    a, b = pair
    assert len(pair) == 2 and all(isinstance(s, tuple) for s in pair)
    assert len(a) <= 3 and len(b) <= 3 and all(1 <= n <= 4 for n in a + b)
    np.broadcast_shapes(a, b)  # raises ValueError if they do not broadcast


def _exists(strategy, condition):
    """An example of ``strategy`` that meets ``condition``; NoSuchExample if there is none."""
    return find(strategy, condition, settings=settings(max_examples=1000, phases=[Phase.generate]))


def test_broadcastable_shapes_cover_the_corner_cases():
    pairs = fst.broadcastable_shapes()
    _exists(pairs, lambda p: () in p)                                  # 0-d
    _exists(pairs, lambda p: len(p[0]) != len(p[1]))                   # different ranks
    _exists(pairs, lambda p: len(p[0]) == len(p[1]) == 2               # a size-1 axis stretched
            and p[0][0] == 1 and p[1][0] > 1)
    _exists(pairs, lambda p: p[0] == p[1] and len(p[0]) >= 2)          # equal shapes


@given(fst.arrays(dtype=np.float32, elements=(-2, 3)))
def test_arrays_have_dtype_and_bounded_finite_values(a):
    assert isinstance(a, np.ndarray) and a.dtype == np.float32 and a.ndim <= 3
    assert np.isfinite(a).all() and (a >= -2).all() and (a <= 3).all()


@given(st.data())
def test_arrays_have_requested_shape(data):
    shape = data.draw(fst.shapes(min_dims=1, max_dims=2, max_side=3))
    assert 1 <= len(shape) <= 2 and all(1 <= n <= 3 for n in shape)
    a = data.draw(fst.arrays(shape))
    assert a.shape == shape and a.dtype == np.float64
    assert np.isfinite(a).all() and np.abs(a).max() <= 10
    b = data.draw(fst.arrays(4, elements=st.just(0.5)))
    np.testing.assert_array_equal(b, np.full(4, 0.5))


@given(fst.arrays(3, np.float32, (0.1, 1.1)), fst.arrays(3, np.float16, (-0.3, 0.7)))
def test_arrays_accept_bounds_the_dtype_cannot_represent(a, b):
    assert a.dtype == np.float32 and ((a >= 0.1) & (a <= 1.1)).all()
    assert b.dtype == np.float16 and ((b >= -0.3) & (b <= 0.7)).all()


def test_arrays_reject_bad_elements():
    with pytest.raises(TypeError, match="elements must be"):
        fst.arrays((2,), elements=[0, 1])
    with pytest.raises(TypeError, match="floating-point dtype"):
        fst.arrays((2,), dtype=np.int64)


@given(fst.array_pairs(dtype=np.float32))
def test_array_pairs_broadcast(pair):
    x, y = pair
    assert x.dtype == y.dtype == np.float32
    assert (x + y).shape == np.broadcast_shapes(x.shape, y.shape)


def _depth(t):
    if isinstance(t, dict):
        return 1 + max(_depth(c) for c in t.values())
    if isinstance(t, (list, tuple)):
        return 1 + max(_depth(c) for c in t)
    return 0


@given(fst.pytrees(max_depth=2))
def test_pytrees_flatten_with_funcgrad_tree(t):
    leaves, treedef = tree.flatten(t)
    assert leaves and all(isinstance(leaf, np.ndarray) and leaf.dtype == np.float64
                          for leaf in leaves)
    assert _depth(t) <= 2
    rebuilt = tree.unflatten(treedef, leaves)
    assert tree.structure(rebuilt) == treedef


def test_pytrees_reach_every_container_kind():
    for kind in (dict, list, tuple):
        t = _exists(fst.pytrees(), lambda t, kind=kind: isinstance(t, kind) and _depth(t) == 2)
        assert isinstance(t, kind)


# -- property tests that use both ---------------------------------------------------

@given(fst.array_pairs(max_side=3, elements=(-2, 2)))
def test_property_check_grads_broadcasting_function(pair):
    check_grads(lambda x, y: fnp.tanh(x) * y + fnp.sin(x * y), pair)


@given(fst.pytrees(leaves=fst.arrays(max_dims=1, max_side=2, elements=(-1, 1)), max_depth=2))
def test_property_check_grads_on_pytree_arguments(t):
    check_grads(lambda t: tree.map(lambda leaf: fnp.sin(leaf) * leaf, t), (t,))


@given(fst.arrays(max_dims=2, max_side=3, elements=(0.2, 1.2)))
def test_property_catches_the_bug_on_every_example(x):
    # Every element is positive (and cos(x) is far from 0), so the first element is bad.
    with pytest.raises(GradientCheckError, match=r"element \((0,|0, 0)?\):"):
        check_grads(lambda x: sin_wrong_positive_p.bind(x), (x,), order=1)


def test_tolerance_allows_for_rounding_of_large_outputs():
    # f = 1e8 + sin(x) loses ~1e-8 absolute to rounding in float64, far more than
    # atol + rtol * |cos(x)| after dividing by 2 * eps: the rounding term must allow it.
    x = np.array([0.3, -0.8])
    check_grads(lambda x: 1e8 + fnp.sin(x), (x,), order=1)
    # ... while a moderate offset leaves the check sharp enough to catch a doubled derivative.
    with pytest.raises(GradientCheckError):
        check_grads(lambda x: 1e3 + sin_wrong_positive_p.bind(x), (np.abs(x),), order=1)
