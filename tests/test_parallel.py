from __future__ import annotations

import os

import pytest

from govcompare.parallel import fork_map, split_evenly


def test_split_evenly_gives_consecutive_ranges_of_about_equal_size() -> None:
    assert split_evenly([1] * 10, 2) == [(0, 5), (5, 10)]
    assert split_evenly([100, 1, 1, 1], 2) == [(0, 1), (1, 4)]
    assert split_evenly([5], 3) == [(0, 1)]
    assert split_evenly([], 2) == [(0, 0)]


def test_fork_map_returns_results_in_order() -> None:
    data = list(range(100))
    bounds = split_evenly([1] * len(data), 3)
    parts = fork_map(lambda start, stop: (os.getpid(), sum(data[start:stop])), bounds)
    assert [total for _, total in parts] == [sum(data[a:b]) for a, b in bounds]
    assert parts[0][0] == os.getpid()  # the first run is done here, the others in workers


def test_fork_map_redoes_a_failed_run_here() -> None:
    parent = os.getpid()

    def run(start: int, stop: int) -> int:
        if os.getpid() != parent:
            raise RuntimeError("a worker fails")
        return stop - start

    assert fork_map(run, [(0, 3), (3, 10)]) == [3, 7]


def test_fork_map_raises_the_error_of_a_run() -> None:
    def run(start: int, stop: int) -> int:
        if start:
            raise ValueError(f"bad run {start}")
        return 0

    with pytest.raises(ValueError, match="bad run 5"):
        fork_map(run, [(0, 5), (5, 10)])
