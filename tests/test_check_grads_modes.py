"""check_grads in forward and reverse mode, along random projections, and on complex inputs.

Each planted rule below is wrong in exactly one mode (its other rule is right), so
only the check of that mode can catch it; the tests show that the other mode alone
passes, and that ``check_grads`` with its defaults fails, naming the mode.  Every
expected value is a closed form derived in a comment.
"""

import re
import subprocess
import sys

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._core.primitive import Primitive
from funcgrad.errors import ArgumentError, GradientCheckError
from funcgrad.testing import _directions, check_grads


def _rand(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, shape).astype(dtype)


def _crand(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.5, 1.5, shape) + 1j * rng.uniform(-1.5, 1.5, shape)


def _sin(name, vjp_factor=1.0, jvp_factor=1.0, frozen_jvp=False):
    """sin with rules scaled by the given factors; ``frozen_jvp``: a JVP that is right but is
    not differentiable (cos of a stopped x), so only second derivatives through it are wrong."""
    p = Primitive(name, np.sin)
    p.defvjp(lambda g, ans, x: vjp_factor * g * fnp.cos(x))
    cos = (lambda x: fnp.cos(fg.stop_gradient(x))) if frozen_jvp else fnp.cos
    p.defjvp(lambda t, ans, x: jvp_factor * t * cos(x))
    return p.bind


sin_right = _sin("sin_right")
sin_jvp_doubled = _sin("sin_jvp_doubled", jvp_factor=2.0)  # VJP right, JVP off by 2x
sin_vjp_doubled = _sin("sin_vjp_doubled", vjp_factor=2.0)  # JVP right, VJP off by 2x
sin_jvp_frozen = _sin("sin_jvp_frozen", frozen_jvp=True)   # first derivatives right in both modes


def _values(message):
    """The mode and the analytic and numeric values printed in a GradientCheckError."""
    m = re.search(r"analytic \((\w+) mode\)\s+= (\S+)\n\s+numeric \(central differences\)\s+= (\S+)",
                  message)
    return m.group(1), float(m.group(2)), float(m.group(3))


def _failure(f, args, **kw):
    with pytest.raises(GradientCheckError) as info:
        check_grads(f, args, **kw)
    return str(info.value)


# -- the premise: a wrong JVP rule that reverse mode alone cannot see -----------------

def test_a_doubled_jvp_rule_is_invisible_to_reverse_mode_but_jacfwd_is_off_by_2():
    x = np.array([0.3, -0.8, 1.2])
    np.testing.assert_allclose(fg.jacfwd(sin_jvp_doubled)(x), 2 * np.diag(np.cos(x)), rtol=1e-14)
    np.testing.assert_allclose(fg.jacrev(sin_jvp_doubled)(x), np.diag(np.cos(x)), rtol=1e-14)
    # reverse over reverse never runs the JVP rule: the old check (reverse mode only) passes
    check_grads(sin_jvp_doubled, (x,), order=2, modes="rev")
    check_grads(sin_jvp_doubled, (x,), order=2, modes=("rev",), projections=2)


# -- planted wrong JVP / VJP rules, element by element and along projections ---------

@pytest.mark.parametrize("order", [1, 2])
def test_catches_a_doubled_jvp_rule_element_by_element(order):
    x = np.array([0.3, -0.8, 1.2])
    message = _failure(sin_jvp_doubled, (x,), order=order)
    assert "the order-1 derivative, mode fwd, disagrees" in message
    assert "at argument 0, element (0,):" in message
    assert "3 of 3 element(s) of this leaf disagree, 3 of 3 in all" in message
    mode, analytic, numeric = _values(message)
    # Both are u * d/dx0 sin(x0) = u cos(x0) for the same u; the JVP doubles it.
    assert mode == "forward"
    np.testing.assert_allclose(analytic / numeric, 2.0, rtol=1e-6)


@pytest.mark.parametrize("order", [1, 2])
def test_catches_a_doubled_jvp_rule_along_random_projections(order):
    x = _rand(50)
    message = _failure(sin_jvp_doubled, (x,), order=order, projections=3)
    assert "the order-1 derivative, mode fwd, disagrees" in message
    assert "at random direction 0 of 3:" in message
    assert "3 of 3 random direction(s) disagree" in message
    _, analytic, numeric = _values(message)
    # sin is elementwise, so the JVP along any d is 2 * sum(u cos(x) d): twice the difference.
    np.testing.assert_allclose(analytic / numeric, 2.0, rtol=1e-6)


@pytest.mark.parametrize("projections", [None, 2])
@pytest.mark.parametrize("order", [1, 2])
def test_catches_a_doubled_vjp_rule_that_forward_mode_cannot_see(order, projections):
    x = _rand(4)
    check_grads(sin_vjp_doubled, (x,), order=order, modes="fwd", projections=projections)
    message = _failure(sin_vjp_doubled, (x,), order=order, projections=projections)
    assert "the order-1 derivative, mode rev, disagrees" in message
    mode, analytic, numeric = _values(message)
    assert mode == "reverse"
    np.testing.assert_allclose(analytic / numeric, 2.0, rtol=1e-6)


@pytest.mark.parametrize("projections", [None, 2])
def test_catches_a_jvp_rule_that_is_only_wrong_at_second_order(projections):
    # Its JVP t * cos(x) is right, but cos of a stopped x has no derivative: jvp(f, x, t1) is
    # t1 * cos(x) with derivative -u2 * t1 * sin(x) in truth, and 0 through the frozen rule.
    x = np.array([0.4, -1.1, 2.0])
    check_grads(sin_jvp_frozen, (x,), order=1, projections=projections)
    check_grads(sin_jvp_frozen, (x,), order=2, modes="rev", projections=projections)
    message = _failure(sin_jvp_frozen, (x,), order=2, projections=projections)
    # rev over rev and fwd over rev differentiate the (right) VJP rule and pass; reverse mode
    # over the forward-mode derivative is the first check that differentiates the JVP rule.
    assert "the order-2 derivative, mode rev over fwd, disagrees" in message
    assert "<u2, f2(x)>, f2(x) = jvp(f, x, t1)" in message
    _, analytic, numeric = _values(message)
    assert analytic == 0.0 and abs(numeric) > 1e-3


def test_order_2_checks_forward_over_reverse_too():
    # A VJP rule whose own JVP is wrong but whose own VJP is right: only jvp(vjp(...)) sees it.
    # cos_half has a right VJP (-g sin x) and a JVP rule doubled; sin's VJP rule uses it.
    cos_half = Primitive("cos_jvp_doubled", np.cos)
    cos_half.defvjp(lambda g, ans, x: -g * fnp.sin(x))
    cos_half.defjvp(lambda t, ans, x: -2.0 * t * fnp.sin(x))
    sin_p = Primitive("sin_with_that_cos", np.sin)
    sin_p.defvjp(lambda g, ans, x: g * cos_half.bind(x))
    sin_p.defjvp(lambda t, ans, x: t * fnp.cos(x))
    x = np.array([0.4, -1.1])
    check_grads(sin_p.bind, (x,), order=2, modes="rev")
    message = _failure(sin_p.bind, (x,), order=2)
    assert "the order-2 derivative, mode fwd over rev, disagrees" in message
    assert "f2(x) = vjp(f, x)(u1)" in message
    _, analytic, numeric = _values(message)
    # d/dx (u1 cos x) along the element is -u1 sin(x) times u2; the JVP rule doubles it
    np.testing.assert_allclose(analytic / numeric, 2.0, rtol=1e-5)


# -- correct functions pass in both modes ---------------------------------------------

CORRECT = [
    ("sin_times_x", lambda x: fnp.sin(x) * x, lambda: (_rand(3),)),
    ("matmul_tanh", lambda a, b: fnp.tanh(a @ b), lambda: (_rand(2, 3), _rand(3, 2, seed=1))),
    ("broadcast", lambda x, y: fnp.exp(x) * y, lambda: (_rand(2, 1), _rand(3, seed=1))),
    ("pytree", lambda p: {"s": fnp.sum(p["w"] ** 2), "v": fnp.sin(p["b"]) * p["w"][0]},
     lambda: ({"w": _rand(2, 3), "b": _rand(3, seed=2)},)),
    ("complex_exp", lambda z: fnp.exp(z) * (0.5 - 2j), lambda: (_crand(3),)),
    ("complex_product", lambda z, w: z * w + z * z, lambda: (_crand(2), _crand(2, seed=1))),
    ("real_to_complex", lambda x: fnp.exp(x * (1 + 2j)), lambda: (_rand(3),)),
    ("float32", lambda x: fnp.tanh(x) * x, lambda: (_rand(3, dtype=np.float32),)),
    ("float16", lambda x: fnp.sin(x) * 2.0, lambda: (_rand(3, dtype=np.float16),)),
]


@pytest.mark.parametrize("projections", [None, 3])
@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("name,f,make_args", CORRECT, ids=[c[0] for c in CORRECT])
def test_correct_functions_pass_in_both_modes(name, f, make_args, order, projections):
    assert check_grads(f, make_args(), order=order, projections=projections) is None


@pytest.mark.parametrize("modes", ["rev", "fwd", ("fwd", "rev")])
def test_each_mode_alone_passes_on_a_correct_function(modes):
    check_grads(lambda x: fnp.sin(x) * fnp.cos(x), (_rand(3),), order=3, modes=modes)


# -- cost: projections do not grow with the input size --------------------------------

def _calls(n, **kw):
    count = [0]

    def f(x):
        count[0] += 1
        return fnp.tanh(x) * x

    check_grads(f, (_rand(n),), **kw)
    return count[0]


def test_calls_of_f_with_projections_do_not_grow_with_n():
    # order 1: one vjp (1 call), then per direction 2 differences + 1 jvp: 1 + 3k.
    assert [_calls(n, order=1, projections=3) for n in (1, 10, 1000)] == [10, 10, 10]
    # order 2: that again for each of the two derivative functions (each call of one calls f once).
    assert [_calls(n, order=2, projections=3) for n in (1, 10, 1000)] == [30, 30, 30]


def test_calls_of_f_element_by_element():
    # The old check (reverse mode only): 1 + 2n calls, 201 at n = 100 and 402 at order 2.
    assert _calls(100, order=1, modes="rev") == 201
    assert _calls(100, order=2, modes="rev") == 402
    # Forward mode adds one jvp per element, sharing the differences: 1 + 3n.
    assert _calls(100, order=1) == 301


# -- complex inputs and JAX's convention ----------------------------------------------

# |z|^2 with right rules in JAX's convention: its JVP is 2 Re(conj(z) t), and for a real
# cotangent g its VJP is g (d/dx - i d/dy)|z|^2 = g (2x - 2iy) = 2 g conj(z).
abs2_p = Primitive("abs2", lambda z: (z * np.conj(z)).real)
abs2_p.defjvp(lambda t, ans, z: 2 * fnp.real(fnp.conj(z) * t))
abs2_p.defvjp(lambda g, ans, z: 2 * g * fnp.conj(z))
# The same with the conjugate missing from the VJP, 2 g z: grad(|z|^2)(1+1j) = 2+2j, not 2-2j.
abs2_wrong_p = Primitive("abs2_wrong", lambda z: (z * np.conj(z)).real)
abs2_wrong_p.defjvp(lambda t, ans, z: 2 * fnp.real(fnp.conj(z) * t))
abs2_wrong_p.defvjp(lambda g, ans, z: 2 * g * z)


@pytest.mark.parametrize("projections", [None, 2])
def test_complex_input_with_the_jax_convention_passes(projections):
    z = _crand(3)
    np.testing.assert_allclose(fg.grad(lambda z: fnp.sum(abs2_p.bind(z)))(z), 2 * np.conj(z))
    check_grads(abs2_p.bind, (z,), order=2, projections=projections)


def test_complex_rule_without_the_conjugate_fails_at_the_imaginary_part():
    z = np.array([0.7 + 1.0j, -0.4 + 0.3j])
    check_grads(abs2_wrong_p.bind, (z,), order=1, modes="fwd")  # its JVP is right
    message = _failure(abs2_wrong_p.bind, (z,), order=1)
    assert "mode rev, disagrees with finite differences at argument 0, element (0,), imaginary part:" \
        in message
    assert "2 of 4 real/imaginary part(s) of this leaf disagree" in message
    assert "<u, y> means Re(sum(u * y))" in message
    _, analytic, numeric = _values(message)
    # Along i e_0: the true derivative is u d|z0|^2/dy0 = 2 u y0; the rule gives
    # Re(2 u z0 i) = -2 u y0.
    np.testing.assert_allclose(analytic, -numeric, rtol=1e-6)
    u = numeric / (2 * z[0].imag)
    np.testing.assert_allclose(analytic, -2 * u * z[0].imag, rtol=1e-6)


def test_complex_rule_without_the_conjugate_fails_along_projections():
    message = _failure(abs2_wrong_p.bind, (_crand(20),), order=1, projections=2)
    assert "mode rev, disagrees with finite differences at random direction 0 of 2" in message


def test_complex_output_of_a_real_input_pairs_with_a_complex_cotangent():
    # f(x) = c x for complex c: JAX's VJP of a real input is Re(u c). A rule that drops the
    # real part's partner (takes Re(u) Re(c)) is caught.
    c = 0.5 - 2.0j
    right = Primitive("times_c", lambda x: c * x)
    right.defjvp(lambda t, ans, x: c * t)
    right.defvjp(lambda g, ans, x: fnp.real(g * c))
    wrong = Primitive("times_c_wrong", lambda x: c * x)
    wrong.defjvp(lambda t, ans, x: c * t)
    wrong.defvjp(lambda g, ans, x: fnp.real(g) * c.real)
    x = _rand(3)
    check_grads(right.bind, (x,), order=1)
    message = _failure(wrong.bind, (x,), order=1)
    assert "mode rev" in message and "argument 0, element (0,):" in message


# -- the report -----------------------------------------------------------------------

def test_projection_failure_names_the_leaf_that_disagrees():
    p = {"a": _rand(4), "b": _rand(5, seed=1)}
    f = lambda p: fnp.sum(fnp.sin(p["a"])) * 2.0 + fnp.sum(sin_vjp_doubled(p["b"]))
    message = _failure(f, (p,), order=1, projections=2)
    assert "at random direction 0 of 2:" in message
    assert ("Restricted to one leaf at a time, this direction first disagrees at argument 0, "
            "leaf 1 of PyTreeDef({'a': *, 'b': *})") in message
    assert "eps=1e-06 (float64)" in message


def test_report_gives_the_tolerance_and_the_probe():
    message = _failure(sin_jvp_doubled, (np.array([0.2, 0.5]),), order=1, rtol=1e-4, atol=0.0)
    assert "> tolerance" in message and "(atol=0 + rtol=0.0001 * max(|analytic|, |numeric|)" in message
    assert "Each value is the derivative of <u1, f(x)> with respect to that element" in message
    assert "eps=1e-06, input dtype float64" in message


def test_seed_changes_the_random_draws_and_the_same_seed_repeats_them():
    x = _rand(6)
    a = _failure(sin_jvp_doubled, (x,), order=1, projections=2, seed=1)
    b = _failure(sin_jvp_doubled, (x,), order=1, projections=2, seed=1)
    c = _failure(sin_jvp_doubled, (x,), order=1, projections=2, seed=2)
    assert a == b
    assert _values(a)[1] != _values(c)[1]


def test_forward_mode_of_a_function_without_a_jvp_rule_says_how_to_skip_it():
    no_jvp = Primitive("sin_no_jvp", np.sin)
    no_jvp.defvjp(lambda g, ans, x: g * fnp.cos(x))
    check_grads(no_jvp.bind, (_rand(2),), modes="rev")
    with pytest.raises(ArgumentError, match=r"order-1 check in forward mode \('fwd'\).*"
                       r"'sin_no_jvp' is not defined\n  To check reverse mode only, pass "
                       r"modes=\('rev',\)"):
        check_grads(no_jvp.bind, (_rand(2),))


@pytest.mark.parametrize("modes", ["bwd", (), ("rev", "rev"), ["fwd", 1], None])
def test_bad_modes_are_argument_errors(modes):
    with pytest.raises(ArgumentError, match="modes"):
        check_grads(fnp.sin, (np.ones(2),), modes=modes)


@pytest.mark.parametrize("projections", [0, -1, 2.0, True, "3"])
def test_bad_projections_are_argument_errors(projections):
    with pytest.raises(ArgumentError, match="projections must be None"):
        check_grads(fnp.sin, (np.ones(2),), projections=projections)


def test_bad_seed_is_an_argument_error():
    with pytest.raises(ArgumentError, match="seed must be an int"):
        check_grads(fnp.sin, (np.ones(2),), seed=1.5)


# -- reduced precision ----------------------------------------------------------------

def test_bfloat16_defaults_and_a_doubled_rule_is_still_caught():
    import ml_dtypes

    bf16 = np.dtype(ml_dtypes.bfloat16)
    assert _directions.defaults(bf16) == (1e-1, 1e-1, 5e-2)
    assert _directions.defaults(np.float16) == (1e-2, 1e-1, 1e-2)
    assert _directions.machine_eps(bf16) == 2.0 ** -7
    x = np.array([0.3, -0.9, 1.1]).astype(bf16)
    check_grads(lambda x: fnp.sin(x) * 2.0, (x,), order=1)
    check_grads(lambda x: fnp.sin(x) * 2.0, (x,), order=1, projections=2)
    # A scalar loss: the rounding term of the tolerance (8 bfloat16 ulps of every output that
    # enters a difference) would hide even a factor 2 behind a sum over many outputs.
    message = _failure(lambda x: fnp.sum(sin_vjp_doubled(x)), (x,), order=1)
    assert "input dtype bfloat16" in message
    _, analytic, numeric = _values(message)
    np.testing.assert_allclose(analytic / numeric, 2.0, rtol=0.1)


def test_import_funcgrad_testing_does_not_import_ml_dtypes():
    code = "import sys, funcgrad.testing; print('ml_dtypes' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]


def test_numerical_grad_of_a_complex_leaf_follows_the_jax_convention():
    # L = sum |z|^2 = sum x^2 + y^2: dL/dx - i dL/dy = 2x - 2iy = 2 conj(z)
    from funcgrad.testing import numerical_grad

    z = _crand(3)
    (g,) = numerical_grad(lambda z: np.sum(np.abs(z) ** 2), (z,))
    assert g.dtype == np.complex128
    np.testing.assert_allclose(g, 2 * np.conj(z), rtol=1e-8)
