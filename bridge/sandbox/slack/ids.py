"""Slack-shaped identifiers, message timestamps and hashes, minted deterministically from a counter and a seed."""

from __future__ import annotations

import random
import string
from collections.abc import Callable

Clock = Callable[[], float]

_ALNUM = string.ascii_uppercase + string.digits
_MIXED = string.ascii_letters + string.digits


def _base36(n: int) -> str:
    digits = ""
    while True:
        n, rest = divmod(n, 36)
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[rest] + digits
        if n == 0:
            return digits


class Minter:
    """Issues ids (``U0…``, ``C0…``), strictly increasing message ``ts`` strings and random-looking tokens."""

    def __init__(self, clock: Clock, seed: int = 0) -> None:
        self.clock = clock
        self.rng = random.Random(seed)
        self._counter = 0
        self._last_micros = 0

    def id(self, prefix: str) -> str:
        # Real ids are an uppercase prefix letter plus 8-10 base36 characters; a counter keeps them unique and stable.
        self._counter += 1
        return f"{prefix}0{_base36(self._counter).rjust(8, '0')}"

    def ts(self) -> str:
        """A message timestamp like ``1732862400.000100``: wall-clock based and unique per workspace, as in Slack."""
        micros = max(int(self.clock() * 1_000_000), self._last_micros + 1)
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def token(self, length: int, alphabet: str = _MIXED) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def short_id(self) -> str:
        # Slack fills in missing block_ids with short random strings such as "8KR" or "ezJ".
        return self.token(self.rng.randint(3, 5))

    def view_hash(self) -> str:
        return f"{int(self.clock())}.{self.token(8)}"

    def trigger_id(self) -> str:
        # Shaped like Slack's "4916855695380.1234567890.5f1c0b…".
        return f"{self.numeric(13)}.{self.numeric(10)}.{self.token(32, '0123456789abcdef')}"

    def numeric(self, digits: int) -> str:
        return "".join(self.rng.choice(string.digits) for _ in range(digits))

    def upper(self, length: int) -> str:
        return self.token(length, _ALNUM)
