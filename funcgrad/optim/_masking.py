"""Apply a transformation to part of the parameters: ``masked`` and ``multi_transform``.

A mask is a pytree of Python bools with the structure of the params, or a
prefix of it (one bool for a whole subtree, as in optax), or a function of the
params that returns one.  ``masked(inner, mask)`` hides the leaves marked
``False`` from ``inner`` (they become :class:`MaskedNode`, a node with no
leaves) and passes their updates through unchanged.  ``multi_transform`` is a
``masked`` per label.  Masks and labels are structure, not data: they are read
in Python, so they must be concrete (bools and hashable labels) under ``jit``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any, NamedTuple

import numpy as np

from funcgrad import tree
from funcgrad.errors import ArgumentError
from funcgrad.optim.base import GradientTransformation, OptState, Params, Updates

__all__ = ["MaskedNode", "MaskedState", "MultiTransformState", "masked", "multi_transform",
           "partition"]

PyTree = Any


class MaskedNode(NamedTuple):
    """Stands for a masked-out leaf in what the inner transformation sees (it has no leaves)."""


class MaskedState(NamedTuple):
    """The inner transformation's state, for the unmasked leaves only."""

    inner_state: Any


class MultiTransformState(NamedTuple):
    """One :class:`MaskedState` per label."""

    inner_states: dict


def expand_prefix(prefix: PyTree, full: PyTree, where: str, what: str) -> tuple[list, Any]:
    """The value of ``prefix`` that covers each leaf of ``full`` (in leaf order), and its treedef.

    ``prefix`` has the structure of ``full`` or of a prefix of it: each of its
    leaves covers the whole subtree of ``full`` at the same key path.
    """
    covers = dict(tree.flatten_with_path(prefix)[0])
    full_leaves, treedef = tree.flatten_with_path(full)
    values, used = [], set()
    for path, _ in full_leaves:
        match = next((path[:k] for k in range(len(path) + 1) if path[:k] in covers), None)
        if match is None:
            raise ArgumentError(
                f"{where}: the {what} must have the structure of the params or of a prefix of "
                f"it, but nothing in it covers the leaf at {tree.keystr(path) or 'the root'}; "
                f"got {what} structure {tree.structure(prefix)!r} and params structure "
                f"{treedef!r}")
        used.add(match)
        values.append(covers[match])
    unused = [p for p in covers if p not in used]
    if unused:
        raise ArgumentError(
            f"{where}: the {what} has entries that are not in the params, at "
            f"{', '.join(tree.keystr(p) or 'the root' for p in unused)}; got {what} structure "
            f"{tree.structure(prefix)!r} and params structure {treedef!r}")
    return values, tree.structure(full)


def _mask_values(mask: Any, params: PyTree, where: str) -> tuple[list[bool], Any]:
    mask_tree = mask(params) if callable(mask) else mask
    values, treedef = expand_prefix(mask_tree, params, where, "mask")
    for v in values:
        if not isinstance(v, (bool, np.bool_)):
            raise ArgumentError(f"{where}: mask leaves must be Python bools (a mask is "
                                f"structure, read in Python), got {v!r} ({type(v).__name__})")
    return [bool(v) for v in values], treedef


def _hide(t: PyTree, keep: list[bool], treedef: Any) -> PyTree:
    return treedef.unflatten([x if k else MaskedNode() for x, k in zip(tree.leaves(t), keep)])


def masked(inner: GradientTransformation, mask: Any) -> GradientTransformation:
    """Apply ``inner`` to the leaves where ``mask`` is ``True``; pass the others through.

    ``mask`` is a tree of bools like the params (or a prefix of it: one bool
    for a whole subtree), or a function of the params returning one (called
    with the updates in ``update``).  ``inner`` sees a tree in which the
    masked-out leaves are :class:`MaskedNode`, so it keeps no state for them.

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = masked(optim.scale(-1.0), {"w": True, "b": False})
        >>> g = {"w": np.array([2.0]), "b": np.array([3.0])}
        >>> opt.update(g, opt.init(g))[0]
        {'b': array([3.]), 'w': array([-2.])}
    """
    if not (isinstance(inner, tuple) and callable(getattr(inner, "init", None))
            and callable(getattr(inner, "update", None))):
        raise ArgumentError(f"masked: inner must be a GradientTransformation (init, update), "
                            f"got {inner!r:.80} ({type(inner).__name__})")

    def init(params: Params) -> MaskedState:
        keep, treedef = _mask_values(mask, params, "masked.init")
        return MaskedState(inner.init(_hide(params, keep, treedef)))

    def update(updates: Updates, state: MaskedState,
               params: Params | None = None) -> tuple[Updates, MaskedState]:
        keep, treedef = _mask_values(mask, updates, "masked.update")
        hidden_params = None if params is None else _hide(params, keep, treedef)
        new, inner_state = inner.update(_hide(updates, keep, treedef), state.inner_state,
                                        hidden_params)
        new_leaves = iter(tree.leaves(new))
        merged = [next(new_leaves) if k else u for u, k in zip(tree.leaves(updates), keep)]
        return treedef.unflatten(merged), MaskedState(inner_state)

    return GradientTransformation(init, update)


def multi_transform(transforms: Mapping[Hashable, GradientTransformation],
                    param_labels: Any) -> GradientTransformation:
    """A different transformation for each labelled part of the params.

    ``param_labels`` is a tree of labels like the params (or a prefix of it),
    or a function of the params returning one; ``transforms[label]`` is applied
    (through :func:`masked`) to the leaves with that label.  Every label must
    have a transformation.  (optax's ``multi_transform``, now ``partition``.)

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = multi_transform({"fast": optim.sgd(1.0), "frozen": optim.scale(0.0)},
        ...                       {"w": "fast", "b": "frozen"})
        >>> g = {"w": np.array([2.0]), "b": np.array([3.0])}
        >>> opt.update(g, opt.init(g), g)[0]
        {'b': array([0.]), 'w': array([-2.])}
    """
    if not isinstance(transforms, Mapping) or not transforms:
        raise ArgumentError(f"multi_transform: transforms must be a non-empty mapping from "
                            f"labels to GradientTransformations, got {transforms!r:.80}")
    transforms = dict(transforms)

    def group_masks(params: PyTree, where: str) -> dict[Hashable, PyTree]:
        labels = param_labels(params) if callable(param_labels) else param_labels
        values, treedef = expand_prefix(labels, params, where, "param_labels")
        for v in values:
            if not isinstance(v, Hashable):
                raise ArgumentError(f"{where}: labels must be hashable (str, int, ...), got "
                                    f"{v!r:.80} ({type(v).__name__})")
        unknown = sorted({repr(v) for v in values if v not in transforms})
        if unknown:
            raise ArgumentError(f"{where}: labels {', '.join(unknown)} have no transformation; "
                                f"transforms has {sorted(map(repr, transforms))}")
        return {label: treedef.unflatten([v == label for v in values]) for label in transforms}

    def init(params: Params) -> MultiTransformState:
        masks = group_masks(params, "multi_transform.init")
        return MultiTransformState({label: masked(tx, masks[label]).init(params)
                                    for label, tx in transforms.items()})

    def update(updates: Updates, state: MultiTransformState,
               params: Params | None = None) -> tuple[Updates, OptState]:
        masks = group_masks(updates, "multi_transform.update")
        new_states = {}
        for label, tx in transforms.items():
            updates, new_states[label] = masked(tx, masks[label]).update(
                updates, state.inner_states[label], params)
        return updates, MultiTransformState(new_states)

    return GradientTransformation(init, update)


partition: Callable[..., GradientTransformation] = multi_transform
