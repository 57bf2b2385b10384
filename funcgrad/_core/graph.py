"""The immutable expression graph: :class:`Node` and :class:`Graph`.

A node is one application of a primitive to input nodes.  Inputs and constants
are nodes too (their ``primitive`` is ``None``).  Nodes have no setters and no
ids: identity is object identity, and a node's name in a printout is given by
its position in the topological order.  Every walk over the graph is a loop with
an explicit stack, so a chain of 100,000 nodes works.
"""

from __future__ import annotations

from collections import namedtuple
from types import MappingProxyType
from typing import Any, Iterable, Mapping

import numpy as np

from funcgrad.errors import ImmutableError

EMPTY_PARAMS: Mapping[str, Any] = MappingProxyType({})

#: ``Node.kind`` values for the nodes that are not primitive applications.
INPUT, CONSTANT, LIFTED = "input", "constant", "lifted"


_NodeFields = namedtuple("_NodeFields", "primitive inputs params shape dtype loc kind value",
                         defaults=(None, "op", None))


class Node(_NodeFields):
    """One vertex of the graph: a primitive applied to input nodes.

    ``primitive`` is ``None`` for inputs and constants; ``kind`` tells them apart.
    ``where`` is the ``(filename, lineno)`` of the user code that created the node
    (stored as ``loc``, which tracing records as a cheap ``(code, instruction)``
    pair and :func:`source_location` turns into a line when it is asked for).
    A node is a tuple underneath (immutable, and the cheapest object to build),
    but compares and hashes by identity, like any graph vertex.

    Examples:
        >>> Node.constant(np.ones(2)).shape
        (2,)
    """

    __slots__ = ()
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    @staticmethod
    def input(shape: tuple[int, ...], dtype: np.dtype, where=None, kind: str = INPUT) -> "Node":
        """A graph input (or a value lifted from an enclosing trace)."""
        return Node(None, (), EMPTY_PARAMS, tuple(shape), np.dtype(dtype), where, kind)

    @staticmethod
    def constant(value: Any, where=None, copy: bool = False) -> "Node":
        """A constant; arrays are stored read-only (copied if ``copy``), Python scalars as they are."""
        if isinstance(value, np.ndarray):
            value = value.copy() if copy else value.view()
            value.flags.writeable = False
            return Node(None, (), EMPTY_PARAMS, value.shape, value.dtype, where, CONSTANT, value)
        dtype = _SCALAR_DTYPES.get(type(value))
        if dtype is not None:
            return Node(None, (), EMPTY_PARAMS, (), dtype, where, CONSTANT, value)
        return Node(None, (), EMPTY_PARAMS, np.shape(value), np.asarray(value).dtype, where,
                    CONSTANT, value)

    def __setattr__(self, name, value):
        raise ImmutableError(f"graph nodes are immutable: cannot set {name!r} on {self!r}")

    def __delattr__(self, name):
        raise ImmutableError(f"graph nodes are immutable: cannot delete {name!r} on {self!r}")

    @property
    def name(self) -> str:
        return self.primitive.name if self.primitive is not None else self.kind

    @property
    def where(self) -> tuple[str, int] | None:
        """``(filename, lineno)`` of the user code that created the node, or ``None``."""
        return source_location(self.loc)

    def structural_key(self) -> tuple:
        """A hashable key from (primitive, inputs, params): equal keys compute equal values."""
        params = tuple(sorted((k, _hashable(v)) for k, v in self.params.items()))
        return (self.primitive, tuple(id(i) for i in self.inputs), params)

    def __repr__(self) -> str:
        return f"<Node {self.name} {type_string(self.shape, self.dtype)}>"


_lines: dict = {}  # (code object, instruction offset) -> line number


def source_location(loc) -> tuple[str, int] | None:
    """A node's ``loc`` as ``(filename, lineno)``.

    ``loc`` is ``None``, a ``(filename, lineno)`` pair, or what tracing records: the
    ``(code object, instruction offset)`` of the user's frame.  Reading a frame's line
    number costs more than the rest of recording an operation, so it is looked up
    here, when a printout or an error needs it.

    Examples:
        >>> source_location(("model.py", 3))
        ('model.py', 3)
    """
    if loc is None or type(loc[0]) is str:
        return loc
    code, lasti = loc
    line = _lines.get(loc)
    if line is None:
        line = next((n for start, end, n in code.co_lines() if start <= lasti < end), None)
        _lines[loc] = line = code.co_firstlineno if line is None else line
    return code.co_filename, line


# Python scalars are "weak": their nominal dtype yields to the array they meet (NEP 50).
_SCALAR_DTYPES = {float: np.dtype(np.float64), int: np.dtype(np.int64), bool: np.dtype(bool),
                  complex: np.dtype(np.complex128)}


def _hashable(v):
    if isinstance(v, (list, tuple)):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, np.ndarray):
        return ("array", v.shape, v.dtype.str, v.tobytes())
    if isinstance(v, slice):
        return ("slice", v.start, v.stop, v.step)
    return v


_SHORT_DTYPES = {"float64": "f64", "float32": "f32", "float16": "f16", "int64": "i64",
                 "int32": "i32", "bool": "bool", "complex128": "c128", "uint8": "u8"}


def type_string(shape: tuple[int, ...], dtype) -> str:
    """``f64[3,4]``: the short form of an abstract value used in printouts and errors."""
    name = _SHORT_DTYPES.get(np.dtype(dtype).name, np.dtype(dtype).name)
    return f"{name}[{','.join(map(str, shape))}]"


def toposort(outputs: Iterable[Node]) -> list[Node]:
    """All nodes that ``outputs`` depend on, each after its inputs (iterative DFS)."""
    order: list[Node] = []
    done: set[int] = set()
    for out in outputs:
        if id(out) in done:
            continue
        stack = [(out, iter(out.inputs))]
        done.add(id(out))
        while stack:
            node, it = stack[-1]
            for child in it:
                if id(child) not in done:
                    done.add(id(child))
                    stack.append((child, iter(child.inputs)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


class Graph:
    """A closed, immutable computation: input nodes, output nodes and their pytree layouts.

    Examples:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> g = fg.make_graph(lambda x: fnp.sin(x) * 2.0)(np.ones(3))
        >>> [n.name for n in g.nodes if n.primitive is not None]
        ['sin', 'multiply']
    """

    __slots__ = ("inputs", "outputs", "in_tree", "out_tree", "effects", "_nodes")

    def __init__(self, inputs, outputs, in_tree=None, out_tree=None, effects=()):
        s = object.__setattr__
        s(self, "inputs", tuple(inputs))
        s(self, "outputs", tuple(outputs))
        s(self, "in_tree", in_tree)
        s(self, "out_tree", out_tree)
        # Nodes run for a side effect (``debug.print``), in program order: kept and run although
        # no output reads them.
        s(self, "effects", tuple(effects))
        s(self, "_nodes", None)

    def __setattr__(self, name, value):
        raise ImmutableError(f"graphs are immutable: cannot set {name!r}")

    def __delattr__(self, name):
        raise ImmutableError(f"graphs are immutable: cannot delete {name!r}")

    @property
    def nodes(self) -> tuple[Node, ...]:
        """Every node the outputs depend on, in topological order (inputs first)."""
        if self._nodes is None:
            order = toposort(self.outputs + self.effects)
            seen = set(map(id, order))
            # Unused inputs are still part of the graph's signature.
            object.__setattr__(self, "_nodes", tuple(
                [n for n in self.inputs if id(n) not in seen] + order))
        return self._nodes

    def _names(self) -> dict[int, str]:
        names: dict[int, str] = {}
        for node in self.inputs + self.nodes:
            if id(node) in names:
                continue
            names[id(node)] = _letters(len(names))
        return names

    def __str__(self) -> str:
        return "\n".join(self._lines(""))

    def _lines(self, indent: str) -> list[str]:
        """The printout, each line prefixed by ``indent``; a sub-graph held in a node's
        params (a loop body, a branch) is printed indented under its node."""
        names = self._names()
        fmt = lambda n: f"{names[id(n)]}:{type_string(n.shape, n.dtype)}"  # noqa: E731
        lines = [f"graph({', '.join(fmt(n) for n in self.inputs)}) {{"]
        for node in self.nodes:
            if node.kind in (INPUT, LIFTED) and node in self.inputs:
                continue
            subgraphs = []
            if node.kind == CONSTANT:
                rhs = f"const {_short_value(node.value)}"
            else:
                args = " ".join(names[id(i)] for i in node.inputs)
                params = []
                for k, v in node.params.items():
                    graphs = _graphs_in(v)
                    if graphs:
                        subgraphs += [(k if len(graphs) == 1 else f"{k}[{i}]", g)
                                      for i, g in enumerate(graphs)]
                    else:
                        params.append(f" {k}={_short_value(v)}")
                rhs = f"{node.name}{''.join(params)} {args}".rstrip()
            loc = f"  # {_location(node.where)}" if node.where else ""
            lines.append(f"  {fmt(node)} = {rhs}{loc}")
            for k, g in subgraphs:
                sub = g._lines("    ")
                lines.append(f"    {k} = {sub[0][4:]}")
                lines.extend(sub[1:])
        lines.append(f"  return ({', '.join(names[id(n)] for n in self.outputs)})")
        lines.append("}")
        return [indent + line for line in lines]

    __repr__ = __str__

    def to_dot(self) -> str:
        """The graph in Graphviz DOT: one box per node, edges from inputs to users."""
        names = self._names()
        out = ["digraph funcgrad {", "  rankdir=TB;", '  node [shape=box, fontname="monospace"];']
        outputs = set(map(id, self.outputs))
        for node in self.nodes:
            label = f"{names[id(node)]} = {node.name}\\n{type_string(node.shape, node.dtype)}"
            if node.where:
                label += f"\\n{_location(node.where)}"
            style = ", style=filled, fillcolor=lightblue" if node.kind in (INPUT, LIFTED) else ""
            if id(node) in outputs:
                style = ", style=filled, fillcolor=lightgreen"
            out.append(f'  {names[id(node)]} [label="{label}"{style}];')
            for i in node.inputs:
                out.append(f"  {names[id(i)]} -> {names[id(node)]};")
        out.append("}")
        return "\n".join(out)


def has_effects(node: Node) -> bool:
    """Whether running ``node`` has a side effect (``debug.print``): its primitive is
    ``effectful``, or a sub-graph it holds (a loop body, a branch) has effects."""
    if getattr(node.primitive, "effectful", False):
        return True
    return any(g.effects for v in node.params.values() for g in _graphs_in(v))


def _graphs_in(v) -> list:
    """The sub-graphs a param holds: a Graph, or a tuple of them (``switch``'s branches)."""
    if isinstance(v, Graph):
        return [v]
    if isinstance(v, tuple) and v and all(isinstance(g, Graph) for g in v):
        return list(v)
    return []


def _letters(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(97 + r) + s
    return s


def _location(where) -> str:
    filename, lineno = where
    return f"{filename.rsplit('/', 1)[-1]}:{lineno}"


def _short_value(v) -> str:
    if isinstance(v, np.generic):
        return repr(v.item())
    if isinstance(v, np.ndarray):
        if v.size <= 4:
            return np.array2string(v, separator=",").replace("\n", "")
        return f"array<{type_string(v.shape, v.dtype)}>"
    if isinstance(v, np.dtype):
        return v.name
    return repr(v)
