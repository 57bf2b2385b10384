"""Pytrees: nested containers of arrays, flattened to a list of leaves and a structure.

Every transformation takes and returns pytrees.  ``flatten`` turns a tree into
its leaves (in a fixed order) and a ``TreeDef`` that remembers the containers;
``unflatten`` puts leaves back into that structure.

Built-in node types:

* ``dict`` -- children in sorted key order (like JAX); rebuilt as a ``dict``
  whose keys are in sorted order.  ``collections.OrderedDict`` keeps its
  insertion order and ``collections.defaultdict`` its ``default_factory``.
* ``list`` and ``tuple``.
* namedtuples -- any ``tuple`` subclass with ``_fields``; rebuilt as the same class.
* dataclass instances -- no registration needed: the children are the fields
  with ``init=True``, in declaration order, and the node is rebuilt with
  ``cls(**fields)`` (frozen dataclasses work).  A field marked static,
  ``dataclasses.field(metadata=dict(static=True))`` as in JAX, is part of the
  structure instead (compared by ``==``, hashed by ``jit``), not a child.
* ``None`` -- an empty node with no leaves.

Anything else (NumPy arrays, Python scalars, tracers, any other object, and
subclasses of ``list``/``dict`` other than the ones above) is a leaf.  Other
classes become nodes through ``register`` (or JAX's ``register_pytree_node``,
``register_pytree_node_class``, ``register_dataclass``).

Key paths (``flatten_with_path``, ``map_with_path``, ``keystr``), ``reduce``,
``all``, ``transpose`` and ``ravel_pytree`` follow ``jax.tree``/``jax.tree_util``
and ``jax.flatten_util``; :mod:`funcgrad.tree_util` has the ``tree_*`` names.
"""

from __future__ import annotations

import builtins
import collections
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any, NoReturn

from funcgrad import _tree_fields as _fields
from funcgrad._tree_keys import (
    DictKey,
    FlattenedIndexKey,
    GetAttrKey,
    KeyEntry,
    KeyPath,
    SequenceKey,
    keystr,
)
from funcgrad.errors import TreeStructureError

__all__ = ["DictKey", "FlattenedIndexKey", "GetAttrKey", "KeyEntry", "KeyPath", "SequenceKey",
           "TreeDef", "all", "builder", "flatten", "flatten_with_path", "keystr", "leaves",
           "leaves_with_path", "map", "map_with_path", "ravel_pytree", "reduce", "register",
           "register_dataclass", "register_pytree_node", "register_pytree_node_class",
           "register_pytree_with_keys", "register_pytree_with_keys_class", "register_static",
           "structure", "transpose", "unflatten"]

Leaf = Any
PyTree = Any
IsLeaf = Callable[[Any], bool] | None


def _index_keys(node: Any, aux: Any, n: int) -> list[KeyEntry]:
    return [FlattenedIndexKey(i) for i in range(n)]


class _NodeKind:
    """How one kind of container is taken apart, put back together and printed.

    ``flatten(node) -> (children, aux)``; ``unflatten(aux, children) -> node``;
    ``show(aux, child_reprs) -> str`` for ``TreeDef.__repr__``;
    ``keys(node, aux, n_children) -> key entries`` for key paths.
    """

    __slots__ = ("flatten", "keys", "name", "show", "unflatten")

    def __init__(
        self,
        name: str,
        flatten: Callable[[Any], tuple[Iterable[Any], Any]],
        unflatten: Callable[[Any, list[Any]], Any],
        show: Callable[[Any, list[str]], str],
        keys: Callable[[Any, Any, int], Sequence[KeyEntry]] = _index_keys,
    ) -> None:
        self.name = name
        self.flatten = flatten
        self.unflatten = unflatten
        self.show = show
        self.keys = keys

    def __repr__(self) -> str:
        return f"<node kind {self.name}>"


def _sorted_keys(d: dict[Any, Any]) -> list[Any]:
    try:
        return sorted(d)
    except TypeError:
        # Keys of mixed, unorderable types: still a deterministic order.
        return sorted(d, key=lambda k: (type(k).__qualname__, repr(k)))


def _flatten_dict(d: dict[Any, Any]) -> tuple[list[Any], tuple[Any, ...]]:
    keys = _sorted_keys(d)
    return [d[k] for k in keys], tuple(keys)


def _show_items(keys: tuple[Any, ...], reprs: list[str]) -> str:
    return "{" + ", ".join(f"{k!r}: {r}" for k, r in zip(keys, reprs)) + "}"


def _show_tuple(_: None, reprs: list[str]) -> str:
    return "(" + reprs[0] + ",)" if len(reprs) == 1 else "(" + ", ".join(reprs) + ")"


def _flatten_defaultdict(
    d: collections.defaultdict[Any, Any],
) -> tuple[list[Any], tuple[Any, tuple[Any, ...]]]:
    children, keys = _flatten_dict(d)
    return children, (d.default_factory, keys)


def _flatten_dataclass(obj: Any) -> tuple[list[Any], tuple[Any, ...]]:
    """Children: the data fields.  Aux: (cls, data names), plus (static names, static
    values) when the class has static fields."""
    cls = type(obj)
    data, meta = _fields.dataclass_fields(cls)
    children = [getattr(obj, name) for name in data]
    if meta:
        return children, (cls, data, meta, _fields.static_values(obj, meta))
    return children, (cls, data)


def _dict_keys(node: Any, keys: tuple[Any, ...], n: int) -> list[KeyEntry]:
    return [DictKey(k) for k in keys]


def _sequence_keys(node: Any, aux: Any, n: int) -> list[KeyEntry]:
    return [SequenceKey(i) for i in range(n)]


def _attr_keys(names: Sequence[str]) -> list[KeyEntry]:
    return [GetAttrKey(name) for name in names]


_DICT = _NodeKind("dict", _flatten_dict, lambda keys, ch: dict(zip(keys, ch)), _show_items,
                  _dict_keys)
_ORDERED_DICT = _NodeKind(
    "OrderedDict",
    lambda d: (list(d.values()), tuple(d)),  # insertion order is part of its meaning
    lambda keys, ch: collections.OrderedDict(zip(keys, ch)),
    lambda keys, reprs: "OrderedDict(" + _show_items(keys, reprs) + ")",
    _dict_keys,
)
_DEFAULT_DICT = _NodeKind(
    "defaultdict",
    _flatten_defaultdict,
    lambda aux, ch: collections.defaultdict(aux[0], zip(aux[1], ch)),
    lambda aux, reprs: f"defaultdict({aux[0]!r}, " + _show_items(aux[1], reprs) + ")",
    lambda node, aux, n: _dict_keys(node, aux[1], n),
)
_LIST = _NodeKind(
    "list",
    lambda seq: (seq, None),
    lambda _, ch: list(ch),
    lambda _, reprs: "[" + ", ".join(reprs) + "]",
    _sequence_keys,
)
_TUPLE = _NodeKind("tuple", lambda seq: (seq, None), lambda _, ch: tuple(ch), _show_tuple,
                   _sequence_keys)
_NONE = _NodeKind("None", lambda _: ((), None), lambda _, ch: None, lambda _, reprs: "None")
_NAMEDTUPLE = _NodeKind(
    "namedtuple",
    lambda t: (t, type(t)),
    lambda cls, ch: cls(*ch),
    lambda cls, reprs: _fields.show(cls.__name__, cls._fields, reprs),
    lambda node, cls, n: _attr_keys(cls._fields),
)
_DATACLASS = _NodeKind(
    "dataclass",
    _flatten_dataclass,
    lambda aux, ch: _fields.rebuild(aux[0], aux[1], ch, *aux[2:]),
    lambda aux, reprs: _fields.show(aux[0].__name__, aux[1], reprs, *aux[2:]),
    lambda node, aux, n: _attr_keys(aux[1]),
)

# Exact-type dispatch: one dict lookup decides every built-in and registered node.
_NODE_KINDS: dict[type, _NodeKind] = {
    dict: _DICT,
    list: _LIST,
    tuple: _TUPLE,
    type(None): _NONE,
    collections.OrderedDict: _ORDERED_DICT,
    collections.defaultdict: _DEFAULT_DICT,
}
_BUILTIN_TYPES = frozenset(_NODE_KINDS)

# Classes already found to be leaves (arrays, scalars, tracers), so a leaf costs
# two set/dict lookups instead of the namedtuple/dataclass checks.  Never holds a
# registered class (``register`` removes it); cleared when it grows large so
# classes made on the fly are not kept alive without bound.
_LEAF_CLASSES: set[type] = set()
_LEAF_CLASSES_MAX = 1024

def _generic_kind(cls: type) -> _NodeKind | None:
    """Node kind of an unregistered class: namedtuple, dataclass, or None (a leaf)."""
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return _NAMEDTUPLE
    # Tested on the class, so a dataclass *class* passed as a value stays a leaf.
    if hasattr(cls, "__dataclass_fields__"):
        return _DATACLASS
    return None


def _lookup_kind(cls: type) -> _NodeKind | None:
    """The node kind of ``cls``, or None for a leaf class (remembered in ``_LEAF_CLASSES``)."""
    kind = _NODE_KINDS.get(cls)
    if kind is None and cls not in _LEAF_CLASSES:
        kind = _generic_kind(cls)
        if kind is None:
            if len(_LEAF_CLASSES) >= _LEAF_CLASSES_MAX:
                _LEAF_CLASSES.clear()
            _LEAF_CLASSES.add(cls)
    return kind


class TreeDef:
    """The structure of a pytree: its containers without the leaves.

    Immutable and hashable; two ``TreeDef`` are equal when their node types,
    auxiliary data (dict keys, namedtuple or dataclass class, registered aux)
    and children are equal.

    Examples:
        >>> leaves_, treedef = flatten({"a": 1, "b": [2, 3]})
        >>> treedef
        PyTreeDef({'a': *, 'b': [*, *]})
        >>> treedef.num_leaves
        3
    """

    __slots__ = ("_aux", "_children", "_hash", "_kind", "_num_leaves")

    _kind: _NodeKind | None
    _aux: Hashable
    _children: tuple[TreeDef, ...]
    _num_leaves: int
    _hash: int | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("TreeDefs come from flatten() or structure(); they are not built directly")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("TreeDef is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("TreeDef is immutable")

    @property
    def num_leaves(self) -> int:
        """How many leaves a tree of this structure has.

        Examples:
            >>> structure((1, None, [2])).num_leaves
            2
        """
        return self._num_leaves

    def unflatten(self, leaves: Iterable[Leaf]) -> PyTree:
        """Build a tree of this structure from ``leaves`` (same as ``unflatten(self, leaves)``).

        Examples:
            >>> structure([0, (0, 0)]).unflatten([1, 2, 3])
            [1, (2, 3)]
        """
        return unflatten(self, leaves)

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, TreeDef):
            return NotImplemented
        return (
            self._kind is other._kind
            and self._num_leaves == other._num_leaves
            and self._aux == other._aux
            and self._children == other._children  # recurses over depth, not leaves
        )

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            # Computed on first use (jit caches), not on every flatten (grad).
            h = hash((self._kind, self._aux, self._num_leaves, self._children))
            _set_hash(self, h)
        return h

    def __repr__(self) -> str:
        return f"PyTreeDef({_show(self)})"

    def __copy__(self) -> TreeDef:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, Any]) -> TreeDef:
        return self

    def __reduce__(self) -> NoReturn:
        # Node kinds hold functions (and registered classes' callbacks).
        raise TypeError("TreeDef cannot be pickled; pickle the tree itself instead")


def _show(td: TreeDef) -> str:
    if td._kind is None:
        return "*"
    show: Callable[[Any, list[str]], str] = td._kind.show
    return show(td._aux, [_show(c) for c in td._children])


# TreeDef.__setattr__ refuses every write, so new TreeDefs are filled through
# the slot descriptors: the cheapest way to build an immutable object, and this
# runs once per container on every flatten.
_new_treedef = object.__new__
_slots = TreeDef.__dict__  # slot name -> member descriptor
_set_kind = _slots["_kind"].__set__
_set_aux = _slots["_aux"].__set__
_set_children = _slots["_children"].__set__
_set_num_leaves = _slots["_num_leaves"].__set__
_set_hash = _slots["_hash"].__set__


def _make_treedef(
    kind: _NodeKind | None, aux: Hashable, children: tuple[TreeDef, ...], num_leaves: int
) -> TreeDef:
    td = _new_treedef(TreeDef)
    _set_kind(td, kind)
    _set_aux(td, aux)
    _set_children(td, children)
    _set_num_leaves(td, num_leaves)
    _set_hash(td, None)
    return td


_LEAF = _make_treedef(None, None, (), 1)


def _flatten_into(node: Any, out: list[Leaf], is_leaf: IsLeaf) -> TreeDef:
    """Append the leaves of ``node`` to ``out``; return its TreeDef.

    Recursion follows tree depth only; a node's children are walked in a loop,
    and a leaf child costs a type lookup and an append.
    """
    if is_leaf is not None and is_leaf(node):
        out.append(node)
        return _LEAF
    kind = _NODE_KINDS.get(type(node)) or _lookup_kind(type(node))
    if kind is None:
        out.append(node)
        return _LEAF
    children, aux = kind.flatten(node)
    start = len(out)
    defs = []
    for child in children:
        if is_leaf is None and type(child) in _LEAF_CLASSES:
            out.append(child)  # the common case, without a call
            defs.append(_LEAF)
        else:
            defs.append(_flatten_into(child, out, is_leaf))
    return _make_treedef(kind, aux, tuple(defs), len(out) - start)


def _build(td: TreeDef, it: Iterator[Leaf]) -> PyTree:
    kind = td._kind
    if kind is None:
        return next(it)
    children = [next(it) if c is _LEAF else _build(c, it) for c in td._children]
    return kind.unflatten(td._aux, children)


def flatten(tree: PyTree, is_leaf: IsLeaf = None) -> tuple[list[Leaf], TreeDef]:
    """Split ``tree`` into its list of leaves and its structure.

    ``is_leaf(node) -> bool`` may stop the walk early: a node for which it
    returns True is kept whole as one leaf.

    Examples:
        >>> flatten({"b": (1, 2), "a": None})
        ([1, 2], PyTreeDef({'a': None, 'b': (*, *)}))
    """
    out: list[Leaf] = []
    return out, _flatten_into(tree, out, is_leaf)


def unflatten(treedef: TreeDef, leaves: Iterable[Leaf]) -> PyTree:
    """Put ``leaves`` back into the structure ``treedef``; inverse of ``flatten``.

    Examples:
        >>> leaves_, treedef = flatten({"a": 1, "b": [2, 3]})
        >>> unflatten(treedef, [10, 20, 30])
        {'a': 10, 'b': [20, 30]}
    """
    if not isinstance(treedef, TreeDef):
        raise TypeError(f"unflatten expects a TreeDef, got {type(treedef).__name__}")
    if not isinstance(leaves, (list, tuple)):
        leaves = list(leaves)
    if len(leaves) != treedef._num_leaves:
        raise TreeStructureError(
            f"unflatten: the structure {treedef!r} expects {treedef._num_leaves} "
            f"leaves, received {len(leaves)}"
        )
    return _build(treedef, iter(leaves))


def builder(treedef: TreeDef) -> Callable[[Sequence[Leaf]], PyTree]:
    """A function that puts leaves into ``treedef``'s structure: :func:`unflatten`
    without its checks, for callers that always pass the right number of leaves.

    One container of leaves (the usual result of a jitted function) is built in one
    call; deeper structures are built as :func:`unflatten` builds them.

    Examples:
        >>> build = builder(flatten({"a": 1, "b": 2})[1])
        >>> build([10, 20])
        {'a': 10, 'b': 20}
    """
    if not isinstance(treedef, TreeDef):
        raise TypeError(f"builder expects a TreeDef, got {type(treedef).__name__}")
    kind = treedef._kind
    if kind is None:
        return lambda leaves: leaves[0]
    if builtins.all(child is _LEAF for child in treedef._children):
        build, aux = kind.unflatten, treedef._aux
        return lambda leaves: build(aux, leaves)
    return lambda leaves: _build(treedef, iter(leaves))


def leaves(tree: PyTree, is_leaf: IsLeaf = None) -> list[Leaf]:
    """The leaves of ``tree``, in flatten order.

    Examples:
        >>> leaves({"b": [3, 4], "a": 1, "c": None})
        [1, 3, 4]
    """
    out: list[Leaf] = []
    _flatten_into(tree, out, is_leaf)
    return out


def structure(tree: PyTree, is_leaf: IsLeaf = None) -> TreeDef:
    """The ``TreeDef`` of ``tree``.

    Examples:
        >>> structure((1, [2, 3]))
        PyTreeDef((*, [*, *]))
    """
    return _flatten_into(tree, [], is_leaf)


def map(f: Callable[..., Any], tree: PyTree, *rest: PyTree, is_leaf: IsLeaf = None) -> PyTree:
    """Apply ``f`` leafwise: ``f(leaf, *matching leaves of rest)``, in a tree like ``tree``.

    Every tree in ``rest`` must have the same structure as ``tree``; otherwise
    ``TreeStructureError`` shows both structures.

    Examples:
        >>> map(lambda x, y: x + y, {"a": 1, "b": (2, 3)}, {"a": 10, "b": (20, 30)})
        {'a': 11, 'b': (22, 33)}
    """
    flat, treedef = flatten(tree, is_leaf)
    if not rest:
        return _build(treedef, iter([f(x) for x in flat]))
    columns = [flat]
    for i, other in enumerate(rest):
        other_flat, other_def = flatten(other, is_leaf)
        if other_def != treedef:
            raise TreeStructureError(
                f"tree.map: every tree must have the structure of the first one, "
                f"{treedef!r}, but tree {i + 2} has structure {other_def!r}"
            )
        columns.append(other_flat)
    return _build(treedef, iter([f(*xs) for xs in zip(*columns)]))


def register(
    cls: type,
    flatten_fn: Callable[[Any], tuple[Sequence[Any], Hashable]],
    unflatten_fn: Callable[[Hashable, Sequence[Any]], Any],
) -> None:
    """Make instances of ``cls`` pytree nodes.

    ``flatten_fn(obj) -> (children, aux_data)`` where ``aux_data`` is hashable
    static data; ``unflatten_fn(aux_data, children) -> obj``.  Exact type
    only: subclasses of ``cls`` are not nodes unless registered too.

    Examples:
        >>> class Pair:
        ...     def __init__(self, a, b): self.a, self.b = a, b
        >>> register(Pair, lambda p: ((p.a, p.b), None), lambda _, ch: Pair(*ch))
        >>> leaves(Pair(1, [2, 3]))
        [1, 2, 3]
    """
    _install(cls, _custom_kind(cls, flatten_fn, unflatten_fn))


def _custom_kind(
    cls: type,
    flatten_fn: Callable[[Any], tuple[Sequence[Any], Hashable]],
    unflatten_fn: Callable[[Hashable, Sequence[Any]], Any],
    keys: Callable[[Any, Any, int], Sequence[KeyEntry]] = _index_keys,
) -> _NodeKind:
    """The node kind of a class registered with flatten/unflatten functions."""
    if not isinstance(cls, type):
        raise TypeError(f"register expects a class, got {cls!r}")
    if not callable(flatten_fn) or not callable(unflatten_fn):
        raise TypeError(
            "register expects callables flatten_fn(obj) and unflatten_fn(aux, children)"
        )
    name = cls.__qualname__

    def flatten_checked(obj: Any) -> tuple[Sequence[Any], Hashable]:
        result = flatten_fn(obj)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(
                f"the flatten function registered for {name} must return "
                f"(children, aux_data), got {type(result).__name__}"
            )
        return result

    return _NodeKind(
        name,
        flatten_checked,
        lambda aux, ch: unflatten_fn(aux, tuple(ch)),
        lambda aux, reprs: f"CustomNode({cls.__name__}[{aux!r}], [" + ", ".join(reprs) + "])",
        keys,
    )


def _install(cls: type, kind: _NodeKind) -> None:
    """Make ``kind`` the node kind of ``cls`` (once per class)."""
    if cls in _NODE_KINDS:
        what = "a built-in pytree node" if cls in _BUILTIN_TYPES else "already registered"
        raise ValueError(f"{cls.__qualname__} is {what}; a class can be registered only once")
    _LEAF_CLASSES.discard(cls)
    _NODE_KINDS[cls] = kind


# JAX's names, defined in their own modules.  Imported last, not at the top: those modules
# use this one's functions (``_ravel`` imports funcgrad.numpy only when called).
from funcgrad._ravel import ravel_pytree
from funcgrad._tree_paths import (
    all,
    flatten_with_path,
    leaves_with_path,
    map_with_path,
    reduce,
    transpose,
)
from funcgrad._tree_register import (
    register_dataclass,
    register_pytree_node,
    register_pytree_node_class,
    register_pytree_with_keys,
    register_pytree_with_keys_class,
    register_static,
)
