"""Consecutive runs of work on several cores, results in order: the same answer as one core gives.

    bounds = split_evenly([len(t) for t in texts], cores())     # [(0, 812), (812, 1640)]
    parts = fork_map(lambda start, stop: count(texts[start:stop]), bounds)

The first run is done in this process while forked workers do the others; a worker inherits the data
(nothing is pickled on the way in) and sends its result back through a pipe. Where processes cannot be
forked (only Linux forks here: fork is unsafe on macOS and absent on Windows), or a worker fails or
dies, the run is done here instead, so callers never see the difference.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import TypeVar

import numpy as np

__all__ = ["cores", "fork_map", "split_evenly"]

T = TypeVar("T")


def cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def split_evenly(sizes: Sequence[int], parts: int) -> list[tuple[int, int]]:
    """At most ``parts`` consecutive, non-empty ``(start, stop)`` ranges of about equal total size."""
    if not len(sizes):
        return [(0, 0)]
    totals = np.cumsum(np.asarray(sizes, dtype=np.int64))
    targets = [int(totals[-1]) * k // parts for k in range(1, parts)]
    cuts = sorted({int(c) + 1 for c in np.searchsorted(totals, targets)} - {0, len(sizes)})
    edges = [0, *cuts, len(sizes)]
    return list(itertools.pairwise(edges))


def _worker(func: Callable[[int, int], object], start: int, stop: int, conn: Connection) -> None:
    try:
        result = func(start, stop)
    except Exception:  # the parent does this run again and meets the error itself
        conn.close()
        return
    conn.send(result)
    conn.close()


def fork_map(func: Callable[[int, int], T], bounds: Sequence[tuple[int, int]]) -> list[T]:
    """``[func(start, stop) for start, stop in bounds]``, the runs after the first in forked workers."""
    if len(bounds) < 2 or not sys.platform.startswith("linux"):  # fork is unsafe on macOS, absent on Windows
        return [func(start, stop) for start, stop in bounds]
    context = multiprocessing.get_context("fork")
    workers = []
    for start, stop in bounds[1:]:
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_worker, args=(func, start, stop, send), daemon=True)
        with warnings.catch_warnings():
            # Python 3.12+ warns that forking a process that has threads may deadlock. Ours are idle
            # (NumPy's OpenBLAS pool, which shuts down and restarts around a fork, and SciPy/thread
            # pools that have finished), so the workers cannot wait on a lock held by a lost thread.
            warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
            process.start()
        send.close()
        workers.append((process, receive, start, stop))
    results: list[T] = []
    try:
        results.append(func(*bounds[0]))
        for process, receive, start, stop in workers:
            try:
                results.append(receive.recv())
            except (EOFError, OSError):  # the worker failed or died (out of memory?): run it here
                process.join()
                results.append(func(start, stop))
    finally:
        for process, receive, _, _ in workers:
            receive.close()
            if len(results) < len(bounds):  # an error here: no one will read what the workers send
                process.terminate()
            process.join()
    return results
