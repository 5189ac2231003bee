from __future__ import annotations

import sys

import pytest

from govcompare.heap import _malloc_trim, release_free_memory


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


@pytest.mark.skipif(not sys.platform.startswith("linux") or _malloc_trim() is None, reason="glibc only")
def test_freed_heap_memory_goes_back_to_the_system() -> None:
    blocks = [bytes(2000) + i.to_bytes(4, "little") for i in range(100_000)]  # ~200 MB from malloc's heap
    keep = blocks[-1]  # the heap's top stays in use: only trimming can return the pages below it
    del blocks
    before = _resident_bytes()
    release_free_memory()
    assert before - _resident_bytes() > 50_000_000
    assert keep[-4:] == (99_999).to_bytes(4, "little")
