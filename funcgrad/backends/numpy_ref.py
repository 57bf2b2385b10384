"""The NumPy reference backend: every primitive runs its reference implementation."""

from funcgrad.backends import Backend

BACKEND = Backend("numpy")
