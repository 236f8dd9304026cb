"""Pin BLAS to one thread: on shared 2-core machines two BLAS threads on small matrices were measured
15-50x slower whenever another process is busy, and barely faster when idle."""

from __future__ import annotations

from threadpoolctl import threadpool_limits

_limits = None


def pin_blas_threads(n: int = 1) -> None:
    """Limit every BLAS library loaded in this process to n threads (process-wide, idempotent)."""
    global _limits
    if _limits is None:
        _limits = threadpool_limits(limits=n, user_api="blas")
