"""``scan_pair_p``: a scan and a second scan that reads its stacked ys, as one operation.

A reverse-mode derivative of a scan is a forward scan that saves residuals and a reverse
scan that reads them (:mod:`funcgrad.ops.control_scan_vjp`).  The optimiser pass
:func:`funcgrad.optimize.scan_pair.pair_scans` puts such a pair into one node so that a
backend can run both loops in one kernel call, the residuals never handed back to
Python (the Numba backend: :mod:`funcgrad.backends._numba_pair`).  The node exists
only in optimised graphs, which are run and never transformed: it has no
derivative or batching rules.

Operands: the first scan's operands, then the second scan's operands that do not come
from the first.  Params: the first scan's ``body``, ``num_consts``, ``num_carry`` and
``reverse``; the second's as ``body2``, ``num_consts2``, ``num_carry2``, ``reverse2``; the
common ``length``; ``num_first`` (how many operands are the first scan's); ``sources``
(per operand of the second scan: ``k >= 0`` is operand ``k`` of the pair, ``-1 - r`` is
result ``r`` of the first scan); ``keep`` (the first scan's results that others read).
Results: the first scan's results in ``keep``, then every result of the second scan.

Examples:
    >>> import numpy as np
    >>> from funcgrad._core.subgraph import trace_closed
    >>> f, _ = trace_closed(lambda c, x: [c + x, c * x], [((), np.float64)] * 2)
    >>> g, _ = trace_closed(lambda c, y: [c + y], [((), np.float64)] * 2)
    >>> scan_pair_p.impl(np.array(0.0), np.arange(1.0, 4.0), np.array(0.0), body=f,
    ...     num_consts=0, num_carry=1, reverse=False, body2=g, num_consts2=0, num_carry2=1,
    ...     reverse2=True, length=3, num_first=2, sources=(2, -2), keep=(0,))
    Results(np.float64(6.0), np.float64(11.0))
"""

from __future__ import annotations

from funcgrad._core.primitive import Primitive
from funcgrad.ops.control_scan import _scan_results, scan_p
from funcgrad.ops.results import Results, define_results


def _first_params(p: dict) -> dict:
    return {"body": p["body"], "num_consts": p["num_consts"], "num_carry": p["num_carry"],
            "length": p["length"], "reverse": p["reverse"], "unroll": 1}


def _second_params(p: dict) -> dict:
    return {"body": p["body2"], "num_consts": p["num_consts2"], "num_carry": p["num_carry2"],
            "length": p["length"], "reverse": p["reverse2"], "unroll": 1}


def second_operands(operands, first, sources) -> list:
    """The second scan's operands: the pair's operands and the first scan's results ``first``."""
    return [first[-1 - s] if s < 0 else operands[s] for s in sources]


def _pair_impl(*operands, **params):
    first = scan_p.impl(*operands[:params["num_first"]], **_first_params(params))
    second = scan_p.impl(*second_operands(operands, first, params["sources"]),
                         **_second_params(params))
    return Results([first[r] for r in params["keep"]] + list(second))


def _pair_results(*avals, **params):
    first = _scan_results(**_first_params(params))
    return [first[r] for r in params["keep"]] + _scan_results(**_second_params(params))


#: ``scan_pair(*first_operands, *other_operands, body, ..., sources, keep)``: see above.
scan_pair_p = define_results(Primitive("scan_pair", _pair_impl), _pair_results)
