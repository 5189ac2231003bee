"""A 64-bit integer mixer shared by near-duplicate shingles and term keys."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["mix64"]

_U64 = np.uint64


def mix64(values: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """splitmix64's finaliser: spread 64-bit integers over 64 bits (deterministic, unlike ``hash``)."""
    z = np.asarray(values, dtype=_U64) + _U64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return np.asarray(z ^ (z >> _U64(31)), dtype=_U64)
