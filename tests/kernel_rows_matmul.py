"""Rows of tests/kernel_table.py added with the CUDA matmul kernels (see that module for the format)."""

from kernel_table import Row  # noqa: F401  (used by the rows below)

ROWS: list = []
