"""The engine: graph, tracing and primitives. Knows no particular operation."""
