"""How a question is searched, from how many tasks have each of its words: which words are ranked, and which few
rows the engine ranks them on (a search plan).

Both engines rank every row their query matches (FTS5's bm25 and PostgreSQL's ts_rank_cd read each matching row),
so a search costs about the number of rows matched. Over 100,000 tasks an OR of a question's words matches most of
them. Two cuts keep the ranked rows to a few thousand at most, as Lucene's "common terms" query does:
- a word more than COMMON_SHARE of the tasks have is left out of the ranking: it adds little to either rank;
- the rows ranked are those with one of the question's rarest words (a candidate), the rarer ones each on its own,
  then pairs of the next ones (a row with both), up to the engine's BUDGET of rows. The other ranked words still
  count in the rank of each candidate (PostgreSQL ranks by a query of its own; SQLite's match asks for one of them
  too, since bm25 ranks by the words of its match).
When the scope holds few tasks, or every word is rare enough, every row with any ranked word is a candidate and the
search is exact. How many tasks have a word is counted by the engine (an FTS5 match, stopped at the share; on
PostgreSQL the planner's statistics of the GIN column, kept by ANALYZE), and kept a few minutes per process.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

COMMON_SHARE = 0.2
MIN_TASKS = 1000  # below this every word is ranked on every row: it is fast anyway, and a small team's counts are noisy
# Rows each engine ranks within the latency target (bench/suggest.py): a few microseconds a row for bm25 and for
# ts_rank (which picks the rows ts_rank_cd ranks: adapters/store/answers_search.py), besides reading them.
BUDGET = {"sqlite": 2000.0, "postgresql": 500.0}
CACHE_SECONDS = 600.0
TOTAL_CACHE_SECONDS = 60.0
CACHE_WORDS = 50_000


@dataclass(frozen=True)
class Plan:
    """Which words rank the matches (`ranked`), and which rows are ranked: those with every word of one of `groups`
    (and, on SQLite, one of `rest`: the ranked words in no group)."""

    ranked: tuple[str, ...]
    groups: tuple[tuple[str, ...], ...]
    rest: tuple[str, ...] = ()
    scope_first: bool = True  # the scope is a small part of the tasks: find its rows first


def plan(
    words: Sequence[str],
    tasks_with: Mapping[str, float],
    *,
    total: int,
    scoped: int,
    budget: float,
    twins: Mapping[str, str] | None = None,
) -> Plan:
    """The plan for these words, given how many of the `total` tasks have each, when `scoped` of them are in the
    search's scope. `twins` are words the engine reads as an earlier one (dogs after dog: twin -> first): they
    join their first word's group, which finds the same rows. Pure: the counts are gathered by WordRarity."""
    twins = twins or {}
    if total < MIN_TASKS:
        return Plan(tuple(words), tuple((w,) for w in words))
    scope_first = scoped * 2 < total
    by_rarity = sorted(dict.fromkeys(words), key=lambda w: tasks_with[w])
    ranked = [w for w in by_rarity if tasks_with[w] <= COMMON_SHARE * total] or by_rarity[:1]
    # Only the scope's rows are ranked when it is found first (its words and projects taken as independent).
    share = min(1.0, scoped / total) if scope_first else 1.0
    groups: list[tuple[str, ...]] = []
    rows = 0.0
    left = [w for w in ranked if w not in twins]
    while left and rows + tasks_with[left[0]] * share <= budget:
        rows += tasks_with[left[0]] * share
        groups.append((left.pop(0),))
    while len(left) >= 2:
        both = tasks_with[left[0]] * tasks_with[left[1]] / total * share
        if rows + both > budget:
            break
        rows += both
        groups.append((left.pop(0), left.pop(0)))
    if not groups:  # even the rarest words are common together: the rows with the three rarest
        groups.append(tuple(left[:3]))
        left = left[3:]
    for twin, first in twins.items():
        groups = [(*g, twin) if first in g and twin in ranked else g for g in groups]
    grouped = {w for g in groups for w in g}
    ordered = tuple(dict.fromkeys(w for w in words if w in ranked))
    return Plan(ordered, tuple(groups), tuple(w for w in ordered if w not in grouped), scope_first)


class WordRarity:
    def __init__(self) -> None:
        self._tasks: tuple[float, int] | None = None
        self._scoped: dict[tuple[str, ...], tuple[float, int]] = {}
        self._df: dict[str, tuple[float, float]] = {}
        self._stats: tuple[float, dict[str, float], float] | None = None

    async def plan(self, conn: AsyncConnection, words: Sequence[str], projects: Sequence[str]) -> Plan:
        total = await self._total(conn)
        if total < MIN_TASKS:
            return plan(words, {}, total=total, scoped=total, budget=0.0)
        counts, twins = await self._counts(conn, words, total)
        scoped = await self._scope_size(conn, projects)
        budget = BUDGET.get(conn.dialect.name, 1000.0)
        return plan(words, counts, total=total, scoped=scoped, budget=budget, twins=twins)

    async def rare(self, conn: AsyncConnection, words: Sequence[str]) -> list[str]:
        """The words ranked: at most COMMON_SHARE of the resolved tasks have them (if none, the rarest)."""
        return list((await self.plan(conn, words, ())).ranked)

    async def _total(self, conn: AsyncConnection) -> int:
        now = time.monotonic()
        if self._tasks is None or now - self._tasks[0] > TOTAL_CACHE_SECONDS:
            found = await conn.execute(text("SELECT count(*) FROM answers WHERE resolved_at IS NOT NULL"))
            self._tasks = (now, int(found.scalar_one()))
        return self._tasks[1]

    async def _scope_size(self, conn: AsyncConnection, projects: Sequence[str]) -> int:
        key = tuple(sorted(projects))
        if not key:
            return await self._total(conn)
        now = time.monotonic()
        cached = self._scoped.get(key)
        if cached is None or now - cached[0] > TOTAL_CACHE_SECONDS:
            names = ", ".join(f":p{i}" for i in range(len(key)))
            query = f"SELECT count(*) FROM answer_projects WHERE project_gid IN ({names})"
            found = await conn.execute(text(query), {f"p{i}": p for i, p in enumerate(key)})
            if len(self._scoped) >= 1000:
                self._scoped.clear()
            cached = self._scoped[key] = (now, int(found.scalar_one()))
        return cached[1]

    async def _counts(
        self, conn: AsyncConnection, words: Sequence[str], total: int
    ) -> tuple[dict[str, float], dict[str, str]]:
        if conn.dialect.name != "sqlite":
            return await self._estimates(conn, words, total)
        now = time.monotonic()
        if len(self._df) >= CACHE_WORDS:
            self._df.clear()
        new = [w for w in dict.fromkeys(words) if w not in self._df or now - self._df[w][0] > CACHE_SECONDS]
        if new:
            # One statement for all the new words (one trip to the database's thread). FTS5 stems each word as it
            # stemmed the tasks; counting stops once the word is common.
            counts = " UNION ALL ".join(
                f"SELECT {i} AS i, (SELECT count(*) FROM (SELECT 1 FROM answers_search"
                f" WHERE answers_search MATCH :w{i} LIMIT :common)) AS n"
                for i in range(len(new))
            )
            params: dict[str, object] = {f"w{i}": f'"{w}"' for i, w in enumerate(new)}
            found = await conn.execute(text(counts), {**params, "common": int(COMMON_SHARE * total) + 1})
            for i, n in found:
                self._df[new[i]] = (now, float(n))
        out = {w: self._df[w][1] for w in words}
        return out, _twins(words, out)

    async def _estimates(
        self, conn: AsyncConnection, words: Sequence[str], total: int
    ) -> tuple[dict[str, float], dict[str, str]]:
        """PostgreSQL: counting a word's rows means reading each from the heap, so the planner's statistics of the
        tsvector column are read instead (its most common lexemes and their shares: ANALYZE keeps them; the
        migration 0019 raised their number). A lexeme not among them is rarer than the least common one listed."""
        now = time.monotonic()
        if self._stats is None or now - self._stats[0] > CACHE_SECONDS:
            row = (
                await conn.execute(
                    text(
                        "SELECT most_common_elems::text::text[] AS lexemes, most_common_elem_freqs AS shares"
                        " FROM pg_stats WHERE tablename = 'answers_search' AND attname = 'document'"
                        " AND schemaname = current_schema()"
                    )
                )
            ).first()
            lexemes, shares = (row.lexemes or [], row.shares or []) if row is not None else ([], [])
            listed = dict(zip(lexemes, shares, strict=False))
            # The shares end with the least and the most common of them; nothing listed: every word is rare.
            least = float(shares[len(lexemes)]) if len(shares) > len(lexemes) else 0.0
            self._stats = (now, listed, least)
        _, listed, least = self._stats
        found = await conn.execute(
            text(
                "SELECT word, lexeme FROM unnest(CAST(:words AS text[])) AS word,"
                " unnest(tsvector_to_array(to_tsvector('english', word))) AS lexeme"
            ),
            {"words": list(words)},
        )
        lexeme_of = {row.word: row.lexeme for row in found}
        # A word with no lexeme is a stop word to PostgreSQL: it matches nothing.
        out = {w: total * listed.get(lexeme_of[w], least / 2) if w in lexeme_of else 0.0 for w in words}
        first: dict[str, str] = {}
        return out, {w: f for w in words if (f := first.setdefault(lexeme_of.get(w, w), w)) != w}


def _twins(words: Sequence[str], counts: Mapping[str, float]) -> dict[str, str]:
    """Words FTS5 stems alike (printer, printers) have the same count, so a pair of them would find the rows of one
    word, not of two: the same count and the same first three letters are taken for the same stem (SQLite does not
    say what a word's stem is; two words taken for one by chance only find fewer candidates)."""
    first: dict[tuple[float, str], str] = {}
    return {w: f for w in words if counts[w] > 0 and (f := first.setdefault((counts[w], w[:3]), w)) != w}
