"""Which of a question's words are worth ranking by: those that at most COMMON_SHARE of the resolved tasks have
(the KEEP_AT_LEAST rarest when every word is that common).

The engine ranks every task that has any of the words, so a search costs about the sum of their task counts. A word
most tasks contain (a forum's "qatar", a team's "error") adds little to bm25 or ts_rank_cd and much to that cost:
leaving it out is what keeps a search over 100,000 tasks from ranking nearly all of them (Lucene's "common terms"
cut-off does the same). How many tasks have a word is counted by the engine's own index
(an FTS5 match, a GIN match: a millisecond or so), and kept for a few minutes per process, since it moves slowly.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

COMMON_SHARE = 0.2
KEEP_AT_LEAST = 1  # a question made only of common words is still searched, by its rarest ones
MIN_TASKS = 1000  # below this every word is ranked: it is fast anyway, and a small team's counts are noisy
CACHE_SECONDS = 600.0
TOTAL_CACHE_SECONDS = 60.0
CACHE_WORDS = 50_000


class WordRarity:
    def __init__(self) -> None:
        self._tasks: tuple[float, int] | None = None
        self._df: dict[str, tuple[float, int]] = {}

    async def rare(self, conn: AsyncConnection, words: Sequence[str]) -> list[str]:
        """The words at most COMMON_SHARE of the resolved tasks have, in their order; if none, the KEEP_AT_LEAST
        rarest."""
        total = await self._total(conn)
        if total < MIN_TASKS:
            return list(words)
        counts = {w: await self._count(conn, w) for w in words}
        kept = [w for w in words if counts[w] <= COMMON_SHARE * total]
        return kept or sorted(words, key=lambda w: counts[w])[:KEEP_AT_LEAST]

    async def _total(self, conn: AsyncConnection) -> int:
        now = time.monotonic()
        if self._tasks is None or now - self._tasks[0] > TOTAL_CACHE_SECONDS:
            found = await conn.execute(text("SELECT count(*) FROM answers WHERE resolved_at IS NOT NULL"))
            self._tasks = (now, int(found.scalar_one()))
        return self._tasks[1]

    async def _count(self, conn: AsyncConnection, word: str) -> int:
        now = time.monotonic()
        cached = self._df.get(word)
        if cached is not None and now - cached[0] <= CACHE_SECONDS:
            return cached[1]
        if conn.dialect.name == "sqlite":  # FTS5 stems the word as it stemmed the tasks
            query = "SELECT count(*) FROM answers_search WHERE answers_search MATCH :word"
            found = await conn.execute(text(query), {"word": f'"{word}"'})
        else:
            query = "SELECT count(*) FROM answers_search WHERE document @@ to_tsquery('english', :word)"
            found = await conn.execute(text(query), {"word": word})
        count = int(found.scalar_one())
        if len(self._df) >= CACHE_WORDS:
            self._df.clear()
        self._df[word] = (now, count)
        return count
