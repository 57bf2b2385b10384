"""``funcgrad.numpy.linalg``: differentiable ``norm``, ``inv``, ``det``, ``slogdet``, ``solve``."""
