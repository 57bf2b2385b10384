"""The worked examples of 'Deep Learning from Scratch 3' (DeZero, seed 003), with funcgrad.

Run ``python examples/dezero_steps.py``.  DeZero builds a ``Variable`` and calls
``y.backward()``; funcgrad differentiates the plain function instead:
``fg.grad(f, argnums=(0, 1))(6.0, 3.0)`` returns the gradients that DeZero leaves
in ``x0.grad`` and ``x1.grad``.  Every number printed here is exact in float64.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import funcgrad as fg


def grads(f, *args: float) -> tuple[float, tuple[float, ...]]:
    """``(f(*args), gradient w.r.t. every argument)`` as Python floats."""
    value, g = fg.value_and_grad(f, argnums=tuple(range(len(args))))(*args)
    return float(value), tuple(float(gi) for gi in g)


# The document's four computational graphs: (key, formula, function, arguments).
DOCUMENT_GRAPHS = [
    ("add", "y = x0 + x1 at (6, 3)", lambda x0, x1: x0 + x1, (6.0, 3.0)),
    ("mul", "y = x0 * x1 at (6, 3)", lambda x0, x1: x0 * x1, (6.0, 3.0)),
    ("add_mul", "y = (x0 + x1) * x at (6, 3, 2)", lambda x0, x1, x: (x0 + x1) * x, (6.0, 3.0, 2.0)),
    ("sphere", "y = x0**2 + x1**2 at (6, 3)", lambda x0, x1: x0 ** 2 + x1 ** 2, (6.0, 3.0)),
]

# DeZero's overloaded operators with a Python scalar on either side, at x = 2.
SCALAR_OPERANDS = [
    ("3.0 * x + 1.0", lambda x: 3.0 * x + 1.0),
    ("2.0 - x", lambda x: 2.0 - x),
    ("x - 2.0", lambda x: x - 2.0),
    ("-x", lambda x: -x),
    ("1.0 / x", lambda x: 1.0 / x),
    ("x / 4.0", lambda x: x / 4.0),
    ("x ** 3", lambda x: x ** 3),
]


def used_twice(x: float) -> float:
    """A variable used three times: the gradients of its uses add up (DeZero's ``x.grad + gx``)."""
    return (x + x) + x


def generations(x: float) -> float:
    """``a = x**2; y = a**2 + a**2``: the branch where DeZero needs generation-ordered backward."""
    a = x ** 2
    return a ** 2 + a ** 2


def quartic(x: float) -> float:
    """``y = x**4 - 2 x**2``, minimised at x = 1 by Newton's method with its second derivative."""
    return x ** 4 - 2.0 * x ** 2


def newton_minimise(f, x: float, iterations: int) -> list[float]:
    """``x <- x - f'(x) / f''(x)``, with both derivatives from ``grad``; returns every iterate."""
    df = fg.grad(f)
    d2f = fg.grad(df)
    xs = [x]
    for _ in range(iterations):
        x = float(x - df(x) / d2f(x))
        xs.append(x)
    return xs


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--newton-steps", type=int, default=7,
                        help="Newton iterations on x**4 - 2x**2 (default 7)")
    args = parser.parse_args(argv)
    results: dict = {}

    print("The document's graphs (value, then each input's grad):")
    for key, formula, f, inputs in DOCUMENT_GRAPHS:
        value, g = grads(f, *inputs)
        results[key] = (value, g)
        print(f"  {key + ':':9s} {formula:32s} y = {value:5}  grads = {', '.join(map(str, g))}")

    print("\nPython scalars on either side, at x = 2:")
    results["scalar_operands"] = {}
    for expr, f in SCALAR_OPERANDS:
        value, (g,) = grads(f, 2.0)
        results["scalar_operands"][expr] = (value, g)
        print(f"  y = {expr:14s} y = {value:6}  dy/dx = {g}")

    print("\nGradients accumulate and run in generation order:")
    for key, formula, f, x in [("used_twice", "y = (x + x) + x at 3", used_twice, 3.0),
                               ("generations", "a = x**2; y = a**2 + a**2 at 2", generations, 2.0)]:
        value, (g,) = grads(f, x)
        results[key] = (value, g)
        print(f"  {formula:32s} y = {value:5}  dy/dx = {g}")

    print("\nHigher-order derivatives: y = x**4 - 2 x**2 at x = 2")
    d1, d2 = float(fg.grad(quartic)(2.0)), float(fg.grad(fg.grad(quartic))(2.0))
    d3 = float(fg.grad(fg.grad(fg.grad(quartic)))(2.0))
    results["quartic_derivatives"] = (d1, d2, d3)
    print(f"  dy/dx = {d1}, d2y/dx2 = {d2}, d3y/dx3 = {d3}")

    print("\nNewton's method on it from x = 2 (f'' from grad(grad(f))):")
    xs = newton_minimise(quartic, 2.0, args.newton_steps)
    results["newton"] = xs
    for i, x in enumerate(xs):
        print(f"  {i} {x!r}")

    print("\nThe traced graph of the sphere function:")
    print(fg.make_graph(lambda x0, x1: x0 ** 2 + x1 ** 2)(6.0, 3.0))
    return results


if __name__ == "__main__":
    main()
