"""An uncaught exception on one rank must end the whole MPI job, not hang it.

Without this hook the failing rank prints its traceback and then waits in ``MPI_Finalize``
while the other ranks wait for it in their next collective: the job hangs until it is
killed.  The hook prints the traceback with every line prefixed by the rank, flushes, and
calls ``MPI_Abort``, which makes the launcher stop every rank and exit non-zero.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from funcgrad.distributed._comm import World

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], None]


def make_hook(world: World) -> ExceptHook:
    """The ``sys.excepthook`` that reports an exception on ``world.rank`` and aborts the job."""

    def abort_job(exc_type: type[BaseException], exc: BaseException,
                  tb: TracebackType | None) -> None:
        prefix = f"[rank {world.rank}] "
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        lines = [prefix + line for line in text.splitlines(keepends=True)]
        lines.append(f"{prefix}uncaught {exc_type.__name__}: aborting all {world.size} ranks "
                     f"(MPI_Abort)\n")
        sys.stdout.flush()
        sys.stderr.write("".join(lines))
        sys.stderr.flush()
        world.abort(1)

    abort_job.funcgrad_abort_hook = True  # type: ignore[attr-defined]
    return abort_job


def install(world: World) -> None:
    """Install the hook once (a second call keeps the first)."""
    if not getattr(sys.excepthook, "funcgrad_abort_hook", False):
        sys.excepthook = make_hook(world)
