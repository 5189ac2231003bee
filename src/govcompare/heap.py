"""Give memory the process has freed back to the system between the big phases of a run.

glibc keeps what Python and NumPy free for later allocations to reuse; after counting a million passages
that is about a gigabyte the process no longer uses, to which the next phase (merging the counts, finding
near-duplicates, weighing) adds its own arrays, so the peak is the sum. ``malloc_trim`` returns the free
pages. Where there is no glibc (macOS, Windows, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import cache

__all__ = ["release_free_memory"]


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim  # the C library the process runs on
    except (OSError, AttributeError):
        return None
    return trim


def release_free_memory() -> None:
    """Return the pages of freed heap memory to the system (glibc only; elsewhere nothing)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
