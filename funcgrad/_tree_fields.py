"""Pytree nodes made of named fields: dataclasses and ``register_dataclass`` classes.

A node's *data* fields are its children; its *static* (meta) fields are part of its
structure: their values sit in the ``TreeDef``, so two trees whose static fields differ
have different structures and ``jit`` traces again.  A dataclass field is static when
declared with ``dataclasses.field(metadata=dict(static=True))``, as in JAX.

Helpers for :mod:`funcgrad.tree` and :mod:`funcgrad._tree_register`; no public names.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Sequence
from typing import Any

from funcgrad.errors import ArgumentError

# Dataclass -> names of its init fields: (data fields, static fields).  Weak keys, so
# classes made on the fly (in a test, in a loop) are not kept alive by having been
# flattened once.
_FIELDS_CACHE: weakref.WeakKeyDictionary[type, tuple[tuple[str, ...], tuple[str, ...]]] = (
    weakref.WeakKeyDictionary())


def is_static(field: dataclasses.Field[Any]) -> bool:
    """Whether a dataclass field is marked static (``metadata=dict(static=True)``)."""
    return bool(field.metadata.get("static", False))


def dataclass_fields(cls: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The ``init=True`` fields of dataclass ``cls``: (data names, static names)."""
    names = _FIELDS_CACHE.get(cls)
    if names is None:
        fields = [f for f in dataclasses.fields(cls) if f.init]
        names = (tuple(f.name for f in fields if not is_static(f)),
                 tuple(f.name for f in fields if is_static(f)))
        _FIELDS_CACHE[cls] = names
    return names


def static_values(obj: Any, meta: Sequence[str]) -> tuple[Any, ...]:
    """The values of ``obj``'s static fields, checked hashable: they are part of its TreeDef."""
    values = tuple(getattr(obj, name) for name in meta)
    try:
        hash(values)
    except TypeError:
        bad = next((n for n, v in zip(meta, values) if not _hashable(v)), meta[0])
        raise ArgumentError(
            f"the static field {bad!r} of {type(obj).__qualname__} holds an unhashable "
            f"{type(getattr(obj, bad)).__name__}: a static field is part of the tree structure "
            f"(compared, and hashed as jit's cache key), so its value must be hashable; make "
            f"it a data field or give it a hashable value (a tuple, not a list or an array)"
        ) from None
    return values


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def rebuild(cls: type, data: Sequence[str], children: Sequence[Any],
            meta: Sequence[str] = (), values: Sequence[Any] = ()) -> Any:
    """``cls(**data fields, **static fields)``."""
    return cls(**dict(zip(data, children)), **dict(zip(meta, values)))


def show(name: str, data: Sequence[str], reprs: list[str], meta: Sequence[str] = (),
         values: Sequence[Any] = ()) -> str:
    """``Name(a=*, b=[*, *], static op='add')`` for ``TreeDef.__repr__``."""
    shown = [f"{f}={r}" for f, r in zip(data, reprs)]
    shown += [f"static {f}={v!r}" for f, v in zip(meta, values)]
    return name + "(" + ", ".join(shown) + ")"
