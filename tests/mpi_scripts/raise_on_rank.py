"""Run under ``mpiexec -n N`` by tests/test_distributed.py: rank 1 raises while the others
wait in a collective; funcgrad's excepthook must print rank 1's traceback and abort the
whole job (non-zero exit) instead of leaving the others hanging."""

import numpy as np

from funcgrad import distributed as dist

tree = {"w": np.ones(3)}
dist.allreduce(tree)          # everyone is up and talking
if dist.rank() == 1:
    raise ValueError("deliberate failure on rank 1")
dist.allreduce(tree)          # the other ranks wait here for rank 1, which never comes
dist.allreduce(tree)
print(f"rank {dist.rank()} finished: unreachable", flush=True)
