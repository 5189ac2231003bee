"""Plain text (.txt): the decoded bytes, as they are."""

from __future__ import annotations

from govcompare.readers.base import Limits, ReadResult
from govcompare.textnorm import decode

__all__ = ["read_text"]


def read_text(data: bytes, limits: Limits) -> ReadResult:
    """Decode a text file (UTF-8, UTF-16, GB18030, cp1252, ...); binary data is a failure."""
    return ReadResult(decode(data))
