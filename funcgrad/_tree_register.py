"""JAX's ways of making a class a pytree node: ``register_pytree_node`` (with keys or
without), ``register_pytree_node_class``, ``register_dataclass`` and ``register_static``.

Each builds one node kind and installs it with :func:`funcgrad.tree.register`'s
machinery; names, signatures and semantics are ``jax.tree_util``'s.  Re-exported by
:mod:`funcgrad.tree`.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

from funcgrad import _tree_fields as _fields
from funcgrad import tree as _tree
from funcgrad._tree_keys import GetAttrKey, KeyEntry
from funcgrad.errors import ArgumentError

__all__ = ["register_dataclass", "register_pytree_node", "register_pytree_node_class",
           "register_pytree_with_keys", "register_pytree_with_keys_class", "register_static"]

T = TypeVar("T", bound=type)


def register_pytree_node(
    nodetype: type,
    flatten_func: Callable[[Any], tuple[Sequence[Any], Hashable]],
    unflatten_func: Callable[[Hashable, Sequence[Any]], Any],
    flatten_with_keys_func: Callable[[Any], tuple[Iterable[tuple[KeyEntry, Any]], Hashable]]
    | None = None,
) -> None:
    """Make instances of ``nodetype`` pytree nodes (``jax.tree_util.register_pytree_node``;
    the same as :func:`funcgrad.tree.register`, plus optional key paths).

    ``flatten_func(obj) -> (children, aux_data)``; ``unflatten_func(aux_data, children)``.
    Without ``flatten_with_keys_func(obj) -> ([(key, child), ...], aux_data)`` the
    children's key paths are ``FlattenedIndexKey(i)``.

    Examples:
        >>> class Box:
        ...     def __init__(self, v): self.v = v
        >>> register_pytree_node(Box, lambda b: ((b.v,), None), lambda _, ch: Box(*ch))
        >>> from funcgrad.tree import leaves_with_path
        >>> leaves_with_path(Box(3))
        [((FlattenedIndexKey(key=0),), 3)]
    """
    keys = _tree._index_keys
    if flatten_with_keys_func is not None:
        keys = _keys_from(flatten_with_keys_func)
    _tree._install(nodetype, _tree._custom_kind(nodetype, flatten_func, unflatten_func, keys))


def _keys_from(flatten_with_keys: Callable[[Any], Any]) -> Callable[[Any, Any, int], list[Any]]:
    return lambda node, aux, n: [key for key, _ in flatten_with_keys(node)[0]]


def register_pytree_with_keys(
    nodetype: type,
    flatten_with_keys: Callable[[Any], tuple[Iterable[tuple[KeyEntry, Any]], Hashable]],
    unflatten_func: Callable[[Hashable, Sequence[Any]], Any],
    flatten_func: Callable[[Any], tuple[Sequence[Any], Hashable]] | None = None,
) -> None:
    """Register ``nodetype`` with a flatten function that names each child's key
    (``jax.tree_util.register_pytree_with_keys``).

    ``flatten_with_keys(obj) -> ([(key, child), ...], aux_data)``; ``flatten_func``
    (children without keys, for speed) defaults to one derived from it.

    Examples:
        >>> from funcgrad.tree import GetAttrKey, keystr, leaves_with_path
        >>> class Vec:
        ...     def __init__(self, x, y): self.x, self.y = x, y
        >>> register_pytree_with_keys(
        ...     Vec, lambda v: (((GetAttrKey("x"), v.x), (GetAttrKey("y"), v.y)), None),
        ...     lambda _, ch: Vec(*ch))
        >>> [keystr(p) for p, _ in leaves_with_path(Vec(1, 2))]
        ['.x', '.y']
    """
    if flatten_func is None:
        def flatten_func(obj: Any) -> tuple[list[Any], Hashable]:
            pairs, aux = flatten_with_keys(obj)
            return [child for _, child in pairs], aux
    _tree._install(nodetype, _tree._custom_kind(nodetype, flatten_func, unflatten_func,
                                                _keys_from(flatten_with_keys)))


def register_pytree_node_class(cls: T) -> T:
    """Class decorator: register ``cls`` through its ``tree_flatten()`` method and
    ``tree_unflatten(aux_data, children)`` classmethod.

    Examples:
        >>> @register_pytree_node_class
        ... class Scaled:
        ...     def __init__(self, value, scale): self.value, self.scale = value, scale
        ...     def tree_flatten(self): return (self.value,), self.scale
        ...     @classmethod
        ...     def tree_unflatten(cls, scale, children): return cls(children[0], scale)
        >>> from funcgrad.tree import flatten
        >>> flatten(Scaled(1.5, "km"))
        ([1.5], PyTreeDef(CustomNode(Scaled['km'], [*])))
    """
    _require_methods(cls, "register_pytree_node_class", ("tree_flatten", "tree_unflatten"))
    register_pytree_node(cls, operator.methodcaller("tree_flatten"), cls.tree_unflatten)
    return cls


def register_pytree_with_keys_class(cls: T) -> T:
    """Class decorator: register ``cls`` through its ``tree_flatten_with_keys()`` method and
    ``tree_unflatten`` classmethod (and ``tree_flatten``, if it has one).

    Examples:
        >>> from funcgrad.tree import GetAttrKey, leaves_with_path
        >>> @register_pytree_with_keys_class
        ... class Named:
        ...     def __init__(self, w): self.w = w
        ...     def tree_flatten_with_keys(self): return ((GetAttrKey("w"), self.w),), None
        ...     @classmethod
        ...     def tree_unflatten(cls, aux, children): return cls(*children)
        >>> leaves_with_path(Named(4))
        [((GetAttrKey(name='w'),), 4)]
    """
    _require_methods(cls, "register_pytree_with_keys_class",
                     ("tree_flatten_with_keys", "tree_unflatten"))
    flatten = operator.methodcaller("tree_flatten") if hasattr(cls, "tree_flatten") else None
    register_pytree_with_keys(cls, operator.methodcaller("tree_flatten_with_keys"),
                              cls.tree_unflatten, flatten)
    return cls


def _require_methods(cls: Any, who: str, names: Sequence[str]) -> None:
    if not isinstance(cls, type):
        raise ArgumentError(f"{who} decorates a class, got {type(cls).__name__}")
    missing = [name for name in names if not callable(getattr(cls, name, None))]
    if missing:
        raise ArgumentError(f"{who}: {cls.__qualname__} needs the methods {', '.join(names)}; "
                            f"it has no {', '.join(missing)}")


def register_static(cls: T) -> T:
    """Class decorator: instances of ``cls`` are nodes without children, so their whole
    value is part of the tree structure (``jit`` treats them as static).  They must be
    hashable.

    Examples:
        >>> @register_static
        ... class Mode(str):
        ...     pass
        >>> from funcgrad.tree import flatten
        >>> flatten([Mode("train"), 1.0])
        ([1.0], PyTreeDef([CustomNode(Mode['train'], []), *]))
    """
    if not isinstance(cls, type):
        raise ArgumentError(f"register_static decorates a class, got {type(cls).__name__}")
    register_pytree_node(cls, lambda obj: ((), obj), lambda obj, _: obj)
    return cls


def register_dataclass(
    nodetype: T,
    data_fields: Sequence[str] | None = None,
    meta_fields: Sequence[str] | None = None,
    drop_fields: Sequence[str] = (),
) -> T:
    """Register a dataclass-like ``nodetype``: ``data_fields`` are its children,
    ``meta_fields`` are static, part of the tree structure (``jax.tree_util.register_dataclass``).

    Used as a plain decorator on a dataclass, the fields are inferred: a field declared
    with ``dataclasses.field(metadata=dict(static=True))`` is a meta field, every other
    ``init=True`` field a data field.  Static values must be hashable: ``jit`` keys its
    cache on them and traces again when one changes.  Nodes are rebuilt with
    ``nodetype(**fields)``.  (Unregistered dataclasses are pytree nodes in funcgrad anyway,
    with the same inference; registering makes the choice explicit and works for
    non-dataclasses with explicit field names.)

    Examples:
        >>> import dataclasses
        >>> @register_dataclass
        ... @dataclasses.dataclass
        ... class Layer:
        ...     w: object
        ...     activation: str = dataclasses.field(default="relu", metadata=dict(static=True))
        >>> from funcgrad.tree import flatten
        >>> flatten(Layer(w=2.0))
        ([2.0], PyTreeDef(Layer(w=*, static activation='relu')))
    """
    who = "register_dataclass"
    if not isinstance(nodetype, type):
        raise ArgumentError(f"{who} expects a class, got {type(nodetype).__name__}")
    is_dataclass = dataclasses.is_dataclass(nodetype)
    if (data_fields is None) != (meta_fields is None):
        raise ArgumentError(f"{who}: data_fields and meta_fields must both be given when either "
                            f"is; got data_fields={data_fields!r}, meta_fields={meta_fields!r}")
    if data_fields is None or meta_fields is None:
        if not is_dataclass:
            raise ArgumentError(f"{who}: data_fields and meta_fields are required when the "
                                f"class is not a dataclass; {nodetype.__qualname__} is not one")
        init = [f for f in dataclasses.fields(nodetype) if f.init and f.name not in drop_fields]
        data_fields = [f.name for f in init if not _fields.is_static(f)]
        meta_fields = [f.name for f in init if _fields.is_static(f)]
    for name, names in (("data_fields", data_fields), ("meta_fields", meta_fields)):
        if isinstance(names, str) or not all(isinstance(n, str) for n in names):
            raise ArgumentError(f"{who}: {name} must be a sequence of field names, "
                                f"got {names!r}")
    data, meta = tuple(data_fields), tuple(meta_fields)
    if overlap := set(data) & set(meta):
        raise ArgumentError(f"{who}: data_fields and meta_fields must not overlap; both name "
                            f"{sorted(overlap)}")
    if is_dataclass:
        init_names = {f.name for f in dataclasses.fields(nodetype) if f.init} - set(drop_fields)
        missing, unexpected = init_names - {*data, *meta}, {*data, *meta} - init_names
        if missing or unexpected:
            raise ArgumentError(
                f"{who}: data_fields and meta_fields must name every init field of "
                f"{nodetype.__qualname__} except drop_fields, and only those; missing "
                f"{sorted(missing)}, unexpected {sorted(unexpected)}")
    name = nodetype.__name__
    kind = _tree._NodeKind(
        nodetype.__qualname__,
        lambda obj: ([getattr(obj, f) for f in data], _fields.static_values(obj, meta)),
        lambda values, ch: _fields.rebuild(nodetype, data, ch, meta, values),
        lambda values, reprs: _fields.show(name, data, reprs, meta, values),
        lambda node, aux, n: [GetAttrKey(f) for f in data],
    )
    _tree._install(nodetype, kind)
    return nodetype
