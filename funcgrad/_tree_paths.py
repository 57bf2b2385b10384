"""Key paths, reductions and transposition of pytrees (``jax.tree``'s names).

``flatten_with_path`` walks a tree like :func:`funcgrad.tree.flatten` and also records,
for each leaf, the key path from the root (see :mod:`funcgrad._tree_keys`); each node
kind says which key entries its children have.  ``transpose`` turns a tree of trees
(outer structure around inner structure) inside out.  Re-exported by
:mod:`funcgrad.tree`.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable
from typing import Any

from funcgrad import tree as _tree
from funcgrad._tree_keys import KeyPath, keystr
from funcgrad.errors import ArgumentError, TreeStructureError

__all__ = ["all", "flatten_with_path", "leaves_with_path", "map_with_path", "reduce",
           "transpose"]

PyTree = Any
IsLeaf = Callable[..., bool] | None

_MISSING: Any = object()


def _walk(node: Any, path: KeyPath, is_leaf: IsLeaf, takes_path: bool,
          paths: list[KeyPath], leaves: list[Any]) -> _tree.TreeDef:
    """Append ``node``'s leaves and their key paths; return its TreeDef (as ``flatten``)."""
    if is_leaf is not None and (is_leaf(path, node) if takes_path else is_leaf(node)):
        kind = None
    else:
        kind = _tree._NODE_KINDS.get(type(node)) or _tree._lookup_kind(type(node))
    if kind is None:
        paths.append(path)
        leaves.append(node)
        return _tree._LEAF
    children, aux = kind.flatten(node)
    children = tuple(children)
    keys = tuple(kind.keys(node, aux, len(children)))
    if len(keys) != len(children):
        raise TypeError(f"the key function of {kind.name} gave {len(keys)} keys for "
                        f"{len(children)} children")
    start = len(leaves)
    defs = tuple(_walk(child, path + (key,), is_leaf, takes_path, paths, leaves)
                 for key, child in zip(keys, children))
    return _tree._make_treedef(kind, aux, defs, len(leaves) - start)


def flatten_with_path(
    tree: PyTree, is_leaf: IsLeaf = None, is_leaf_takes_path: bool = False
) -> tuple[list[tuple[KeyPath, Any]], _tree.TreeDef]:
    """Like :func:`funcgrad.tree.flatten`, with each leaf paired with its key path.

    ``is_leaf(node)`` (or ``is_leaf(path, node)`` with ``is_leaf_takes_path=True``)
    may keep a subtree whole as one leaf.

    Examples:
        >>> pairs, treedef = flatten_with_path({"b": [1, 2], "a": 3})
        >>> [(keystr(path), leaf) for path, leaf in pairs]
        [("['a']", 3), ("['b'][0]", 1), ("['b'][1]", 2)]
        >>> treedef
        PyTreeDef({'a': *, 'b': [*, *]})
    """
    paths: list[KeyPath] = []
    leaves: list[Any] = []
    treedef = _walk(tree, (), is_leaf, is_leaf_takes_path, paths, leaves)
    return list(zip(paths, leaves)), treedef


def leaves_with_path(
    tree: PyTree, is_leaf: IsLeaf = None, is_leaf_takes_path: bool = False
) -> list[tuple[KeyPath, Any]]:
    """The ``(key path, leaf)`` pairs of ``tree``, in flatten order.

    Examples:
        >>> from funcgrad.tree import GetAttrKey, SequenceKey
        >>> from collections import namedtuple
        >>> Point = namedtuple("Point", "x y")
        >>> leaves_with_path([Point(1, 2)])[1]
        ((SequenceKey(idx=0), GetAttrKey(name='y')), 2)
    """
    return flatten_with_path(tree, is_leaf, is_leaf_takes_path)[0]


def map_with_path(
    f: Callable[..., Any], tree: PyTree, *rest: PyTree, is_leaf: IsLeaf = None,
    is_leaf_takes_path: bool = False,
) -> PyTree:
    """Apply ``f(path, leaf, *matching leaves of rest)`` leafwise, in a tree like ``tree``.

    Every tree in ``rest`` must have the structure of ``tree`` (as in
    :func:`funcgrad.tree.map`); otherwise ``TreeStructureError`` shows both structures.

    Examples:
        >>> map_with_path(lambda path, x: f"{keystr(path)}={x}", {"w": [1, 2], "b": 0})
        {'b': "['b']=0", 'w': ["['w'][0]=1", "['w'][1]=2"]}
    """
    pairs, treedef = flatten_with_path(tree, is_leaf, is_leaf_takes_path)
    columns = [[leaf for _, leaf in pairs]]
    for i, other in enumerate(rest):
        other_pairs, other_def = flatten_with_path(other, is_leaf, is_leaf_takes_path)
        if other_def != treedef:
            raise TreeStructureError(
                f"tree.map_with_path: every tree must have the structure of the first one, "
                f"{treedef!r}, but tree {i + 2} has structure {other_def!r}")
        columns.append([leaf for _, leaf in other_pairs])
    results = [f(path, *xs) for (path, _), *xs in zip(pairs, *columns)]
    return _tree._build(treedef, iter(results))


def reduce(function: Callable[[Any, Any], Any], tree: PyTree, initializer: Any = _MISSING,
           is_leaf: IsLeaf = None) -> Any:
    """Fold ``function`` over the leaves of ``tree`` from the left (``functools.reduce``).

    Examples:
        >>> reduce(lambda acc, x: acc + x, {"a": 1, "b": [2, 3]})
        6
        >>> reduce(max, [], initializer=0)
        0
    """
    leaves = _tree.leaves(tree, is_leaf)
    if initializer is _MISSING:
        if not leaves:
            raise ArgumentError(
                f"tree.reduce of a tree with no leaves, {_tree.structure(tree, is_leaf)!r}, "
                f"needs an initializer")
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def all(tree: PyTree, *, is_leaf: IsLeaf = None) -> bool:
    """Whether every leaf of ``tree`` is true (``True`` for a tree without leaves).

    Examples:
        >>> all({"a": True, "b": [1, 2.5]}), all([True, (0,)]), all([None])
        (True, False, True)
    """
    return builtins.all(_tree.leaves(tree, is_leaf))


def _flatten_up_to(treedef: _tree.TreeDef, tree: PyTree, path: KeyPath = ()) -> list[Any]:
    """The subtrees of ``tree`` that sit where ``treedef`` has leaves (``treedef`` is a prefix)."""
    kind = treedef._kind
    if kind is None:
        return [tree]
    node_kind = _tree._NODE_KINDS.get(type(tree)) or _tree._lookup_kind(type(tree))
    children, aux = (kind.flatten(tree) if node_kind is kind else ((), _MISSING))
    children = tuple(children)
    if node_kind is not kind or aux != treedef._aux or len(children) != len(treedef._children):
        where = keystr(path) or "the root"
        raise TreeStructureError(
            f"tree.transpose: at {where} the outer structure has the node "
            f"{_tree._show(treedef)} but the tree has {_tree.structure(tree)!r}")
    keys = kind.keys(tree, aux, len(children))
    out: list[Any] = []
    for key, child_def, child in zip(keys, treedef._children, children):
        out += _flatten_up_to(child_def, child, path + (key,))
    return out


def _compose(outer: _tree.TreeDef, inner: _tree.TreeDef) -> _tree.TreeDef:
    """The structure of ``outer`` with ``inner`` in place of each leaf."""
    if outer._kind is None:
        return inner
    children = tuple(_compose(c, inner) for c in outer._children)
    return _tree._make_treedef(outer._kind, outer._aux, children,
                               sum(c._num_leaves for c in children))


def transpose(outer_treedef: _tree.TreeDef, inner_treedef: _tree.TreeDef | None,
              pytree_to_transpose: PyTree) -> PyTree:
    """Turn a tree of structure ``outer_treedef`` whose leaves are trees of structure
    ``inner_treedef`` into a tree of structure inner whose leaves are trees of structure outer.

    ``inner_treedef=None`` takes it from the first inner tree.  Unlike JAX, which only
    compares leaf counts, the whole tree must have exactly the composed structure
    (otherwise ``TreeStructureError`` names both), so leaves are never silently shuffled.

    Examples:
        >>> from funcgrad.tree import structure
        >>> transpose(structure([0, 0, 0]), structure((0, 0)), [(1, 2), (3, 4), (5, 6)])
        ([1, 3, 5], [2, 4, 6])
        >>> transpose(structure({"a": 0, "b": 0}), None, {"a": [1, 2], "b": [3, 4]})
        [{'a': 1, 'b': 3}, {'a': 2, 'b': 4}]
    """
    for name, td in (("outer_treedef", outer_treedef), ("inner_treedef", inner_treedef)):
        if not (isinstance(td, _tree.TreeDef) or (td is None and name == "inner_treedef")):
            raise ArgumentError(f"tree.transpose: {name} must be a TreeDef (from "
                                f"tree.structure), got {type(td).__name__}")
    flat, treedef = _tree.flatten(pytree_to_transpose)
    if inner_treedef is None:
        subtrees = _flatten_up_to(outer_treedef, pytree_to_transpose)
        if not subtrees:
            raise ArgumentError(
                f"tree.transpose: the outer structure {outer_treedef!r} has no leaves, so the "
                f"inner structure cannot be inferred; pass inner_treedef")
        inner_treedef = _tree.structure(subtrees[0])
    expected = _compose(outer_treedef, inner_treedef)
    if treedef != expected:
        raise TreeStructureError(
            f"tree.transpose: expected a tree of structure {expected!r} (outer "
            f"{outer_treedef!r} around inner {inner_treedef!r}), got {treedef!r}")
    inner_size, outer_size = inner_treedef.num_leaves, outer_treedef.num_leaves
    columns = [[flat[o * inner_size + i] for o in range(outer_size)] for i in range(inner_size)]
    return _tree._build(inner_treedef,
                        iter([_tree._build(outer_treedef, iter(col)) for col in columns]))
