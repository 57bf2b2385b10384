"""CUDA kernels (reduce): being written (issue 13); until then these primitives run on the host, counted."""

from __future__ import annotations

KERNELS: dict = {}
