"""debug.print inside lax bodies and branches: it prints the forward values once per step
under every transformation, also when the loop's results are unused, and the backward pass
(which re-runs the body to recompute its values) does not print again."""

import numpy as np
import pytest

import funcgrad as fg
from funcgrad import lax

XS = np.array([2.0, 3.0])


def scan_product(x):
    def body(c, xi):
        fg.debug.print("c={c}", c=c)
        return c * xi, None

    return lax.scan(body, x, XS)[0]


def cond_square(x):
    def yes(v):
        fg.debug.print("yes {v}", v=v)
        return v * v

    return lax.cond(x > 0, yes, lambda v: -v, x)


def unused(f):
    def g(x):
        f(x)
        return x

    return g


@pytest.mark.parametrize("transform", [lambda f: f, fg.jit, fg.grad, lambda f: fg.jit(fg.grad(f)),
                                       lambda f: fg.grad(fg.jit(f)), lambda f: fg.jit(unused(f))],
                         ids=["eager", "jit", "grad", "jit-grad", "grad-jit", "jit-unused"])
def test_scan_body_prints_each_step_once(transform, capsys):
    transform(scan_product)(1.0)
    assert capsys.readouterr().out.split() == ["c=1.0", "c=2.0"]


@pytest.mark.parametrize("transform", [lambda f: f, fg.jit, fg.grad, lambda f: fg.jit(fg.grad(f)),
                                       lambda f: fg.jit(unused(f))],
                         ids=["eager", "jit", "grad", "jit-grad", "jit-unused"])
def test_cond_branch_prints_once(transform, capsys):
    transform(cond_square)(1.5)
    assert capsys.readouterr().out.strip() == "yes 1.5"


def test_the_gradient_is_unchanged_by_the_print():
    assert fg.grad(scan_product)(1.0) == 6.0
    assert fg.grad(cond_square)(1.5) == 3.0
