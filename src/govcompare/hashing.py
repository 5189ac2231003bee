"""Stateless 64-bit hashes, shared by near-duplicate shingles and term keys."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["mix64", "sorted_unique", "text_keys"]

_U64 = np.uint64


def mix64(values: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """splitmix64's finaliser: spread 64-bit integers over 64 bits (deterministic, unlike ``hash``)."""
    z = np.asarray(values, dtype=_U64) + _U64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return np.asarray(z ^ (z >> _U64(31)), dtype=_U64)


def text_keys(texts: Iterable[str], count: int = -1) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """A 64-bit BLAKE2 hash of each string: the same in every process and on every machine."""
    blake = hashlib.blake2b
    return np.fromiter(
        (int.from_bytes(blake(s.encode("utf-8"), digest_size=8).digest(), "little") for s in texts),
        dtype=_U64,
        count=count,
    )


def sorted_unique(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``np.unique`` by sorting: NumPy 2's unique hashes first, several times slower on 64-bit keys."""
    values = np.sort(values)
    keep = np.ones(values.size, dtype=bool)
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]
