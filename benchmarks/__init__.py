"""funcgrad's benchmark suite: programs that print tables, never tests.

Run ``python benchmarks/run.py`` (or ``python -m benchmarks``) from the
repository root; ``--help`` lists the options.  See ``benchmarks/README.md``.
"""
