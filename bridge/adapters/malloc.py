"""glibc's malloc, where the process has it (Linux): how many arenas its threads may make, and giving back to the
system the pages that freed memory left empty. Elsewhere both are no-ops that say so (False).

Why: glibc gives each thread that allocates under contention an arena of its own, up to 8 per core, and keeps what
is freed inside it for later. The bridge's threads (the Asana pool, each aiosqlite connection, the SQLite writers)
each touch a few megabytes there; freed in scattered chunks, those pages stay resident, so the process grows over
hours although the Python heap does not (bench/soak.py measured it).
"""

from __future__ import annotations

import ctypes
import functools
import platform
import sys

M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)
MALLOC_ARENAS = 2  # for `bridge serve`: one per core of a small host; the loop's thread does most of the work


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


def limit_arenas(count: int) -> bool:
    """At most `count` malloc arenas from now on (as MALLOC_ARENA_MAX would); call it before threads start."""
    libc = _glibc()
    return libc is not None and libc.mallopt(M_ARENA_MAX, count) == 1


def give_back() -> bool:
    """malloc_trim(0): return the free pages of every arena to the system; True when some were returned."""
    libc = _glibc()
    return libc is not None and libc.malloc_trim(0) == 1
