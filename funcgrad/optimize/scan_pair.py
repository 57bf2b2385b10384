"""Pair a scan with the scan that reads its stacked ys: one ``scan_pair`` node for both.

The gradient of a loop is a forward scan that saves residuals and a reverse scan that
reads them; as one node, a backend runs both loops in one kernel call and keeps the
residuals to itself (see :mod:`funcgrad.ops.control_scan_pair`).  The pass also drops the
first scan's results that nothing reads (the final carry of a loop whose gradient only
is wanted, a ``fori_loop``'s stacked counter): the pair does not produce them.
"""

from __future__ import annotations

from collections.abc import Callable

from funcgrad._core.graph import Graph, Node, toposort
from funcgrad.ops.control_scan import scan_p
from funcgrad.ops.control_scan_pair import scan_pair_p
from funcgrad.ops.results import result_p
from funcgrad.optimize._rewrite import make_node, rewrite

#: Pairs joined per call at most (each join walks the graph once).
MAX_PAIRS = 64


def pair_scans(graph: Graph) -> Graph:
    """``graph`` with each scan that reads another scan's stacked ys joined to it.

    A pair is joined when both scans have the same length and no effects (``debug.print``),
    the second reads the first only through the first's stacked ys (as its own xs) and
    reads nothing else that depends on the first.

    Examples:
        >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
        >>> step = lambda i, x: fnp.sin(x)
        >>> f = fg.grad(lambda x: fnp.sum(fg.lax.fori_loop(0, 5, step, x)))
        >>> g = pair_scans(fg.make_graph(f)(np.ones(3)))
        >>> [n.name for n in g.nodes if "scan" in n.name]
        ['scan_pair']
    """
    for _ in range(MAX_PAIRS):
        found = _find_pair(graph)
        if found is None:
            break
        graph = _join(graph, *found)
    return graph


def _readers(graph: Graph) -> dict[int, list]:
    readers: dict[int, list] = {}
    for node in graph.nodes:
        for i in node.inputs:
            readers.setdefault(id(i), []).append(node)
    return readers


def _find_pair(graph: Graph) -> tuple[Node, Node] | None:
    """The first ``(first, second)`` scans that can be joined, or ``None``."""
    order = {id(n): k for k, n in enumerate(graph.nodes)}
    effects = {id(n) for n in graph.effects}
    for second in graph.nodes:
        if second.primitive is not scan_p or _has_effects(second, effects):
            continue
        p = second.params
        firsts = {id(i.inputs[0]): i.inputs[0] for i in second.inputs
                  if i.primitive is result_p and i.inputs[0].primitive is scan_p}
        for first in firsts.values():
            if (first.params["length"] == p["length"] and not _has_effects(first, effects)
                    and _reads_only_ys(first, second)
                    and not _depends_otherwise(first, second, order)):
                return first, second
    return None


def _has_effects(scan: Node, effects: set) -> bool:
    """A scan that prints (``debug.print`` in its body) keeps its place among the effects."""
    return id(scan) in effects or bool(scan.params["body"].effects)


def _reads_only_ys(first: Node, second: Node) -> bool:
    """``second`` reads ``first``'s results only as its xs, and only ``first``'s ys."""
    n_x = second.params["num_consts"] + second.params["num_carry"]
    for k, i in enumerate(second.inputs):
        if (i.primitive is result_p and i.inputs[0] is first
                and (k < n_x or i.params["index"] < first.params["num_carry"])):
            return False
    return True


def _depends_otherwise(first: Node, second: Node, order: dict) -> bool:
    """Whether an operand of ``second`` that is not a result of ``first`` depends on ``first``."""
    start = order[id(first)]
    stack = [i for i in second.inputs
             if not (i.primitive is result_p and i.inputs[0] is first)]
    seen: set = set()
    while stack:
        node = stack.pop()
        if id(node) in seen or order[id(node)] < start:  # made before first: cannot read it
            continue
        if node is first:
            return True
        seen.add(id(node))
        stack.extend(node.inputs)
    return False


def _join(graph: Graph, first: Node, second: Node) -> Graph:
    readers = _readers(graph)
    outputs = {id(n) for n in graph.outputs} | {id(n) for n in graph.effects}
    # The first scan's results that something other than the second scan reads.
    keep = sorted({r.params["index"] for r in readers.get(id(first), ())
                   if r.primitive is result_p and (id(r) in outputs or any(
                       reader is not second for reader in readers.get(id(r), ())))})
    read = {i.params["index"] for i in second.inputs
            if i.primitive is result_p and i.inputs[0] is first}
    f = first.params
    body, operands, new_index = _prune(f["body"], f["num_consts"], f["num_carry"],
                                       list(first.inputs), set(keep) | read)
    num_first = len(operands)
    sources = []
    for i in second.inputs:
        if i.primitive is result_p and i.inputs[0] is first:
            sources.append(-1 - new_index[i.params["index"]])
        else:
            sources.append(len(operands))
            operands.append(i)
    s = second.params
    num_carry = f["num_carry"] - sum(new_index.get(r) is None for r in range(f["num_carry"]))
    pair = make_node(scan_pair_p, operands, {
        "body": body, "num_consts": f["num_consts"], "num_carry": num_carry,
        "reverse": f["reverse"], "body2": s["body"], "num_consts2": s["num_consts"],
        "num_carry2": s["num_carry"], "reverse2": s["reverse"], "length": f["length"],
        "num_first": num_first, "sources": tuple(sources),
        "keep": tuple(new_index[r] for r in keep)}, second.where)
    count = len(keep) + len(scan_p.results_eval(*second.inputs, **second.params))
    kept = {k: j for j, k in enumerate(keep)}  # old result index -> the pair's

    def project(src: Node, index_of) -> Callable[[Node], Node]:
        def replace(node: Node) -> Node:
            if node.primitive is result_p and node.inputs[0] is src:
                index = index_of(node.params["index"])
                if index is not None:
                    return make_node(result_p, [pair], {"index": index, "count": count},
                                     node.where)
            return node
        return replace
    # The second scan's results first (the second scan itself is left unchanged, then dead);
    # then the first's that others read.  The pair's operands were made before ``first`` or
    # do not depend on it: neither walk changes them, so ``pair`` reads the graph's nodes.
    graph = rewrite(graph, project(second, lambda r: len(keep) + r))
    return rewrite(graph, project(first, kept.get)) if keep else graph


def _prune(body: Graph, num_consts: int, num_carry: int, operands: list, needed: set):
    """``(body, operands, new_index)``: the first scan without the results nobody needs.

    A y is dropped unless ``needed``; a carry unless ``needed`` or read by a kept output
    (a ``fori_loop``'s counter, when neither the loop's final counter nor its stacked
    values are read, goes; so does the carry of a loop whose gradient alone is wanted, if
    the gradient does not read it).  ``new_index`` maps each kept result to its index
    among the pruned scan's results.
    """
    C, K = num_consts, num_carry
    carries = {r for r in range(K) if r in needed}
    while True:  # a carry is live when a live output reads its value on entering a step
        live = [body.outputs[r] for r in sorted(carries)]
        live += [o for r, o in enumerate(body.outputs[K:], K) if r in needed]
        reached = {id(n) for n in toposort(live)}
        more = {r for r in range(K) if id(body.inputs[C + r]) in reached} - carries
        if not more:
            break
        carries |= more
    if len(carries) == K and all(r in needed for r in range(K, len(body.outputs))):
        return body, operands, {r: r for r in range(len(body.outputs))}
    kept_carries = sorted(carries)
    kept_ys = [r for r in range(K, len(body.outputs)) if r in needed]
    new_index = {r: k for k, r in enumerate(kept_carries + kept_ys)}
    inputs = (list(body.inputs[:C]) + [body.inputs[C + r] for r in kept_carries]
              + list(body.inputs[C + K:]))
    pruned = Graph(inputs, [body.outputs[r] for r in kept_carries + kept_ys],
                   effects=body.effects)
    operands = (operands[:C] + [operands[C + r] for r in kept_carries] + operands[C + K:])
    return pruned, operands, new_index
