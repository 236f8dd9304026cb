"""Pin BLAS to one thread: the network's matrices are small, so a second BLAS thread has little to
share, and on a small shared machine it waits for a core whenever another process is busy (see
docs/performance.md, "BLAS threads")."""

from __future__ import annotations

from threadpoolctl import threadpool_limits

_limits = None


def pin_blas_threads(n: int = 1) -> None:
    """Limit every BLAS library loaded in this process to n threads (process-wide, idempotent)."""
    global _limits
    if _limits is None:
        _limits = threadpool_limits(limits=n, user_api="blas")
