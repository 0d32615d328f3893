"""Full garbage collections held off while a large batch of short-lived objects is alive (a report's full reload).

CPython's full collection walks every tracked object and holds the GIL, so it stops the event loop wherever it
starts, even in a worker thread. A full reload of 100,000 tasks keeps that many tracked objects alive for a few
seconds and set off several full collections, 100-220 ms each (measured with `gc.callbacks`: they were the loop's
worst delays). Held off until the batch is gone, the collection that follows walks a small heap. Young collections
go on meanwhile, so ordinary garbage cycles are still freed.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_HELD_OFF = 1_000_000_000  # young collections between two full ones: none while held off
_holders = 0
_threshold: tuple[int, int, int] | None = None


@contextmanager
def full_collections_held_off() -> Iterator[None]:
    """Within this block (nested or concurrent ones share it) no full collection starts by itself."""
    global _holders, _threshold
    if _holders == 0:
        _threshold = gc.get_threshold()
        gc.set_threshold(_threshold[0], _threshold[1], _HELD_OFF)
    _holders += 1
    try:
        yield
    finally:
        _holders -= 1
        if _holders == 0 and _threshold is not None:
            gc.set_threshold(*_threshold)
            _threshold = None
