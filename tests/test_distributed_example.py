"""examples/digits_data_parallel.py under ``mpiexec``: the same training as one process.

The example picks the same global batch at every step whatever the number of
ranks, so 2 ranks (an even split) and 3 ranks (uneven shards of 11, 11 and 10
examples) must print the single-process run's final accuracy, and its final
training loss to the 6 printed decimals (the averaged gradients differ from the
single-process ones only by float rounding).  The runs are subprocesses with
timeouts; skipped only when mpi4py or an ``mpiexec`` launcher is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "digits_data_parallel.py"
ARGS = ["--epochs", "3", "--no-progress"]
TIMEOUT_S = 240
FINAL = re.compile(r"(\d+) rank\(s\), .*final training loss ([\d.]+), "
                   r"final test accuracy ([\d.]+)")
# An inherited launcher environment would make the single run think it is one of several ranks.
LAUNCHER_VARIABLES = ("PMI_RANK", "PMI_SIZE", "PMI_FD", "PMI_PORT", "OMPI_COMM_WORLD_SIZE",
                      "OMPI_COMM_WORLD_RANK", "FUNCGRAD_MPI")


def run(command: list[str]) -> tuple[str, tuple[int, str, str]]:
    env = {k: v for k, v in os.environ.items() if k not in LAUNCHER_VARIABLES}
    proc = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, env=env,
                          check=False)
    assert proc.returncode == 0, f"{' '.join(command)} exited {proc.returncode}:\n{proc.stderr}"
    match = FINAL.search(proc.stdout)
    assert match, f"no final line in the output of {' '.join(command)}:\n{proc.stdout}"
    return proc.stdout, match.groups()


@pytest.fixture(scope="module")
def mpiexec() -> str:
    pytest.importorskip("mpi4py", reason="the mpi extra is not installed (pip install -e '.[mpi]')")
    path = shutil.which("mpiexec")
    if path is None:
        pytest.skip("no mpiexec on PATH (pip install mpich)")
    return path


@pytest.fixture(scope="module")
def single_process():
    return run([sys.executable, str(EXAMPLE), *ARGS])


@pytest.mark.parametrize("ranks", [2, 3])
def test_mpiexec_run_prints_the_single_process_accuracy(ranks, mpiexec, single_process):
    out, (size, loss, accuracy) = run([mpiexec, "-n", str(ranks), sys.executable, str(EXAMPLE),
                                       *ARGS])
    _, (one, single_loss, single_accuracy) = single_process
    assert (one, size) == ("1", str(ranks))
    assert accuracy == single_accuracy
    assert loss == single_loss
    assert float(accuracy) >= 0.9
    # rank 0 prints every rank's throughput, once
    assert re.findall(r"^rank (\d+): [\d,]+ training examples/s$", out, re.MULTILINE) == \
        [str(r) for r in range(ranks)]
