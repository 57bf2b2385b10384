"""Primitives, grouped by family. Each is defined once, with all its rules."""
