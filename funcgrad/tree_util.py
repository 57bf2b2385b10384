"""``jax.tree_util``'s names over :mod:`funcgrad.tree`, for code being ported from JAX.

``import funcgrad.tree_util as tree_util`` (or ``fg.tree_util``) and keep writing
``tree_util.tree_map(...)``.  Each ``tree_*`` name is the function without the prefix
in :mod:`funcgrad.tree` (``tree_map`` is ``tree.map``); the registration functions and
key classes are the same objects.  New code can use :mod:`funcgrad.tree` directly.

Examples:
    >>> from funcgrad import tree_util
    >>> tree_util.tree_map(lambda x: 2 * x, {"a": 1, "b": (2, 3)})
    {'a': 2, 'b': (4, 6)}
    >>> [tree_util.keystr(p) for p, _ in tree_util.tree_leaves_with_path({"w": [0, 0]})]
    ["['w'][0]", "['w'][1]"]
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from funcgrad import tree as _tree
from funcgrad.tree import (
    DictKey,
    FlattenedIndexKey,
    GetAttrKey,
    KeyEntry,
    KeyPath,
    SequenceKey,
    keystr,
    register_dataclass,
    register_pytree_node,
    register_pytree_node_class,
    register_pytree_with_keys,
    register_pytree_with_keys_class,
    register_static,
)

__all__ = ["DictKey", "FlattenedIndexKey", "GetAttrKey", "KeyEntry", "KeyPath", "Partial",
           "PyTreeDef", "SequenceKey", "all_leaves", "keystr", "register_dataclass",
           "register_pytree_node", "register_pytree_node_class", "register_pytree_with_keys",
           "register_pytree_with_keys_class", "register_static", "tree_all", "tree_flatten",
           "tree_flatten_with_path", "tree_leaves", "tree_leaves_with_path", "tree_map",
           "tree_map_with_path", "tree_reduce", "tree_structure", "tree_transpose",
           "tree_unflatten", "treedef_children", "treedef_is_leaf"]

PyTreeDef = _tree.TreeDef

tree_map = _tree.map
tree_leaves = _tree.leaves
tree_structure = _tree.structure
tree_flatten = _tree.flatten
tree_unflatten = _tree.unflatten
tree_reduce = _tree.reduce
tree_all = _tree.all
tree_transpose = _tree.transpose
tree_map_with_path = _tree.map_with_path
tree_flatten_with_path = _tree.flatten_with_path
tree_leaves_with_path = _tree.leaves_with_path


def all_leaves(iterable: Iterable[Any], is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Whether every item of ``iterable`` is a leaf (not a pytree node).

    Examples:
        >>> all_leaves([1.0, np.ones(2)]), all_leaves([1.0, (2.0,)])
        (True, False)
    """
    return all(_tree.structure(x, is_leaf)._kind is None for x in iterable)


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    """Whether ``treedef`` is the structure of a single leaf.

    Examples:
        >>> treedef_is_leaf(tree_structure(1.0)), treedef_is_leaf(tree_structure([1.0]))
        (True, False)
    """
    return treedef._kind is None


def treedef_children(treedef: PyTreeDef) -> list[PyTreeDef]:
    """The structures of the root node's children.

    Examples:
        >>> treedef_children(tree_structure({"a": 1, "b": (2, 3)}))
        [PyTreeDef(*), PyTreeDef((*, *))]
    """
    return list(treedef._children)


class Partial(functools.partial):  # type: ignore[type-arg]  # partial is generic only in stubs
    """``functools.partial`` that is a pytree: the bound arguments are its children, the
    function is static.  So a closure over arrays can be passed through ``jit``, ``grad``
    or ``vmap`` as an argument.

    Examples:
        >>> add = Partial(lambda x, y: x + y, 1.0)
        >>> tree_leaves(add), add(2.0)
        ([1.0], 3.0)
    """

    def __new__(cls, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Partial:
        # functools.partial would merge a partial ``func``'s arguments into this one's,
        # turning them into leaves; as JAX, keep them static inside the function.
        if isinstance(func, functools.partial):
            func = _Opaque(func)
        return super().__new__(cls, func, *args, **kwargs)


class _Opaque:
    """A callable that hides the ``functools.partial`` it wraps (equal and hashing as it)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return self.fn == (other.fn if isinstance(other, _Opaque) else other)

    def __hash__(self) -> int:
        return hash(self.fn)

    def __repr__(self) -> str:
        return repr(self.fn)


register_pytree_node(
    Partial,
    lambda p: ((p.args, p.keywords), p.func),
    lambda func, children: Partial(func, *children[0], **children[1]),
)
