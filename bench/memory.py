"""Where a process's native memory sits, read from inside it: SQLite's allocator, glibc's malloc, the threads.

RSS alone says that memory grew, not whose it is. SQLite counts what it holds (page caches, statements, schema)
in sqlite3_memory_used; glibc's mallinfo2 says what malloc handed out (in use) and what it keeps free inside its
arenas (freed but not given back to the system); /proc/self/smaps says how much of the resident memory is the
main heap, the other arenas' mappings (anonymous) and the shared libraries. Linux and glibc only; elsewhere the
figures are left out.
"""

from __future__ import annotations

import _sqlite3
import asyncio
import ctypes
import ctypes.util
import json
import re
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _libsqlite3() -> ctypes.CDLL | None:
    try:
        lib = ctypes.CDLL(_sqlite3.__file__)  # the extension's own libsqlite3, through its dependencies
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        lib.sqlite3_memory_highwater.restype = ctypes.c_int64
        lib.sqlite3_memory_highwater.argtypes = [ctypes.c_int]
    except (OSError, AttributeError):
        return None
    return lib


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
    except (OSError, AttributeError):
        return None
    return libc


def _smaps() -> dict[str, float]:
    """Resident MB by kind of mapping: the main heap, anonymous (other malloc arenas, mmap'd blocks, stacks), files."""
    totals = {"heap": 0.0, "anon": 0.0, "files": 0.0, "anon_mappings": 0.0}
    kind = "anon"
    try:
        lines = Path("/proc/self/smaps").read_text().splitlines()
    except OSError:
        return {}
    for line in lines:
        head = line.split(maxsplit=5)
        if "-" in head[0] and not head[0].endswith(":"):
            name = head[5] if len(head) > 5 else ""
            kind = "heap" if name == "[heap]" else "anon" if not name or name.startswith("[anon") else "files"
            if kind == "anon":
                totals["anon_mappings"] += 1
        elif head[0] == "Rss:":
            totals[kind] += int(head[1]) / 1024
    return {key: round(value, 2) for key, value in totals.items()}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def trim_figures() -> dict[str, float]:
    """What one malloc_trim costs now (ms, on the loop) and gives back (MB of RSS)."""
    libc = _libc()
    if libc is None:
        return {}
    before = _rss_mb()
    started = time.perf_counter()
    libc.malloc_trim(0)
    took = time.perf_counter() - started
    return {"trim_ms": round(took * 1000, 2), "trim_gave_mb": round(before - _rss_mb(), 2)}


def memory_figures() -> dict[str, Any]:
    names = Counter(re.sub(r"[-_ ]?\d+.*$", "", thread.name) for thread in threading.enumerate())
    figures: dict[str, Any] = {"at": time.time(), "threads": threading.active_count(), "thread_names": dict(names)}
    lib = _libsqlite3()
    if lib is not None:
        figures["sqlite_mb"] = round(lib.sqlite3_memory_used() / 1e6, 2)
        figures["sqlite_highwater_mb"] = round(lib.sqlite3_memory_highwater(0) / 1e6, 2)
    libc = _libc()
    if libc is not None:
        info = libc.mallinfo2()
        figures["malloc_in_use_mb"] = round((info.uordblks + info.hblkhd) / 1e6, 2)
        figures["malloc_free_kept_mb"] = round(info.fordblks / 1e6, 2)
        figures["malloc_arena_mb"] = round(info.arena / 1e6, 2)
    figures["rss_by_kind_mb"] = _smaps()
    figures["os_threads"] = len(list(Path("/proc/self/task").iterdir()))
    return figures


async def log_memory(path: Path, every: float, *, trim: bool = False) -> None:
    """Append memory_figures() as a JSON line to `path` every `every` seconds, until cancelled; with `trim`, each
    line also says what a malloc_trim then cost and gave back (a trim of its own, so only for that question)."""
    while True:
        _append(path, memory_figures() | (trim_figures() if trim else {}))
        await asyncio.sleep(every)


def _append(path: Path, figures: dict[str, Any]) -> None:
    with path.open("a") as out:
        out.write(json.dumps(figures) + "\n")


def read_log(path: Path) -> list[dict[str, Any]]:
    """The figures log_memory wrote, oldest first ([] when it wrote none)."""
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
