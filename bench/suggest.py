"""Suggestions (issue 22): how often the first suggestion shown is right, and how fast the search is.

Quality, on a real labelled set (bench/suggest_data.py: SemEval-2016 Task 3 B, 103 new questions over 613 earlier
threads with their comments): each thread becomes a resolved answer in the store, exactly as the relay would keep it
(its asker's own comments left out), and each new question is searched the way a capture searches it. Three protocols:
- `candidates` (SemEval's own): a question is searched among the ~6 threads the annotators judged for it (each
  question's threads are put in a project of their own, and the search is scoped to it, as a link is).
- `pool`: every question searched among all 613 threads; a first match nobody judged for it counts as wrong.
- `candidates_pruned`: `candidates` with the common words left out of the ranking (adapters/store/rarity.py), as
  they are once 1,000 tasks are resolved: the quality the 100,000-task latency comes with.
precision = first suggestions that are a PerfectMatch or Relevant thread / questions that got a suggestion;
recall = the same / all questions. The bridge: the engine's rank over title (weighted), notes and answer, divided
by the number of question words, shown when it clears the threshold the bridge ships (DEFAULT_MIN_SCORE); also
its two-fold figures (the threshold picked on half the questions, judged on the other half). The floor: plain
Okapi BM25 (k1 1.2, b 0.75, one field) over the same texts and words, at its own best threshold for precision >=
0.8 (chosen on the answers: the most favourable floor there is).

Latency: 100,000 resolved answers (made from the set's own words) in SQLite and in PostgreSQL; p99 of the search
for 1,000 questions, each engine, against < 50 ms.
"""

from __future__ import annotations

import logging
import math
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.results import Profile, Result, judge, percentile
from bench.suggest_data import Question, Thread, load
from bridge.adapters.store import SqlStore, migrate, rarity
from bridge.adapters.store.rarity import MIN_TASKS
from bridge.domain.model import ChannelId, ProjectGid, TaskGid, TeamId
from bridge.domain.suggest import Answer, Reply, Scope, terms, with_replies
from bridge.services.suggest import DEFAULT_MIN_SCORE
from tests.pg import start_cluster, stop_cluster

NAME = "suggest"
log = logging.getLogger(__name__)
TEAM = TeamId("T1")
CHANNEL = ChannelId("C1")
POOL = ProjectGid("1")
NOW = datetime(2026, 12, 1, tzinfo=UTC)
PRECISION_TARGET = 0.8
RECALL_TARGET = 0.5
LATENCY_TARGET_MS = 50.0
SIZES = {"full": 100_000, "quick": 20_000, "smoke": 1_000}


@dataclass(frozen=True)
class Judged:
    """A question's first match: its score and whether annotators marked it helpful."""

    score: float
    hit: bool


async def run(profile: Profile) -> list[Result]:
    questions, threads = load()
    results: list[Result] = []
    engines = ("sqlite",) if profile == "smoke" else ("sqlite", "postgresql")
    for engine in engines:
        pg = start_cluster() if engine == "postgresql" else None  # a throwaway server, as the tests use
        folder = tempfile.mkdtemp(prefix="bench-suggest-")
        try:
            url = pg.url if pg is not None else f"sqlite+aiosqlite:///{folder}/bridge.db"
            results.extend(await _quality(engine, url, questions, threads, profile))
            results.extend(await _latency(engine, url, questions, threads, SIZES[profile], profile))
        finally:
            shutil.rmtree(folder, ignore_errors=True)  # a 100,000-task SQLite file is a quarter of a gigabyte
            if pg is not None:
                stop_cluster(pg)
    return results


# ---- quality ---------------------------------------------------------------------------------------------


def answer_of(thread: Thread, project: ProjectGid, gid: str) -> Answer:
    """A thread as the relay keeps a resolved task: its comments oldest first, the asker's own left out."""
    base = Answer(
        task_gid=TaskGid(gid),
        team_id=TEAM,
        channel_id=CHANNEL,
        project_gids=(project,),
        title=thread.subject,
        permalink_url=f"https://forum.example/{thread.id}",
        asked_at=NOW - timedelta(days=30),
        notes=thread.body,
        resolved_at=NOW - timedelta(days=29),
    )
    return with_replies(base, [Reply(c.text, c.author, by_asker=c.author == thread.asker) for c in thread.comments])


async def _quality(
    engine: str, url: str, questions: list[Question], threads: list[Thread], profile: Profile
) -> list[Result]:
    await migrate(url)
    store = await SqlStore.connect(url)
    try:
        owner = {tid: q for q in questions for tid in q.labels}
        by_id = {t.id: t for t in threads}
        await store.save_answers(
            [answer_of(by_id[tid], ProjectGid(str(100 + i)), f"1{i:06d}") for i, tid in enumerate(sorted(by_id))]
        )
        gid_of = {tid: f"1{i:06d}" for i, tid in enumerate(sorted(by_id))}
        thread_of = {gid: tid for tid, gid in gid_of.items()}
        project_of = {tid: ProjectGid(str(100 + i)) for i, tid in enumerate(sorted(by_id))}
        out: list[Result] = []
        for protocol in ("candidates", "pool", "candidates_pruned"):
            # `candidates_pruned`: the same, with the common words left out as they are from 1,000 tasks on.
            rarity.MIN_TASKS = 0 if protocol == "candidates_pruned" else MIN_TASKS
            judged: list[Judged | None] = []
            for q in questions:
                projects = (
                    tuple(dict.fromkeys(project_of[t] for t in q.labels))
                    if protocol != "pool"
                    else tuple(project_of.values())
                )
                found = await store.search_answers(
                    terms(f"{q.subject}\n{q.body}"), Scope(TEAM, CHANNEL, projects), limit=1
                )
                judged.append(
                    Judged(found[0].score, q.helped_by(thread_of[found[0].answer.task_gid])) if found else None
                )
            floor = _bm25_floor(questions, threads, owner if protocol != "pool" else None)
            out.extend(_quality_results(engine, protocol, judged, floor, DEFAULT_MIN_SCORE[engine], profile))
        return out
    finally:
        rarity.MIN_TASKS = MIN_TASKS
        await store.close()


def precision_recall(judged: Sequence[Judged | None], threshold: float) -> tuple[float, float, int]:
    shown = [j for j in judged if j is not None and j.score >= threshold]
    hits = sum(j.hit for j in shown)
    return (hits / len(shown) if shown else 0.0), hits / len(judged), len(shown)


def best_recall(judged: Sequence[Judged | None], *, precision: float = PRECISION_TARGET) -> tuple[float, float]:
    """The highest recall at a threshold that keeps precision >= `precision`, and that threshold."""
    best = (0.0, math.inf)
    for threshold in sorted({j.score for j in judged if j is not None}):
        p, r, _ = precision_recall(judged, threshold)
        if p >= precision and r > best[0]:
            best = (r, threshold)
    return best


def two_fold(judged: Sequence[Judged | None]) -> tuple[float, float]:
    """Precision and recall when the threshold is picked on one half of the questions and judged on the other."""
    halves = (list(judged[0::2]), list(judged[1::2]))
    hits = shown = 0
    for pick, test in (halves, halves[::-1]):
        _, threshold = best_recall(pick)
        chosen = [j for j in test if j is not None and j.score >= threshold]
        hits += sum(j.hit for j in chosen)
        shown += len(chosen)
    return (hits / shown if shown else 0.0), hits / len(judged)


def _quality_results(
    engine: str,
    protocol: str,
    judged: list[Judged | None],
    floor: list[Judged | None],
    threshold: float,
    profile: Profile,
) -> list[Result]:
    p, r, shown = precision_recall(judged, threshold)
    floor_r, floor_threshold = best_recall(floor)
    floor_p, _, floor_shown = precision_recall(floor, floor_threshold)
    cv_p, cv_r = two_fold(judged)
    best_r, best_threshold = best_recall(judged)
    judged_run = profile != "smoke" and protocol != "pool"
    params = {
        "questions": len(judged),
        "threshold": threshold,
        "suggested": shown,
        "floor_threshold": floor_threshold,
        "floor_suggested": floor_shown,
        "floor_precision": round(floor_p, 3),
        "two_fold_precision": round(cv_p, 3),
        "two_fold_recall": round(cv_r, 3),
        "best_recall_at_p80": round(best_r, 3),
        "best_threshold": best_threshold,
        "first_match_right": round(sum(1 for j in judged if j and j.hit) / len(judged), 3),
    }
    name = f"{engine}.{protocol}"
    return [
        Result(
            NAME,
            f"{name}.precision",
            p,
            "ratio",
            floor_p,
            f">= {PRECISION_TARGET}",
            judge(judged_run, p, lambda v: v >= PRECISION_TARGET),
            params,
        ),
        Result(
            NAME,
            f"{name}.recall",
            r,
            "ratio",
            floor_r,
            f">= {RECALL_TARGET} and > floor (plain BM25 at p >= 0.8)",
            judge(judged_run, r, lambda v: v >= RECALL_TARGET and v > floor_r),
            params,
        ),
    ]


def _bm25_floor(
    questions: list[Question], threads: list[Thread], owner: dict[str, Question] | None
) -> list[Judged | None]:
    """Plain Okapi BM25 over each thread's subject, body and comments as one text, the same words, raw scores."""
    docs = {
        t.id: Counter(_stems(" ".join([t.subject, t.body, *(c.text for c in t.comments if c.author != t.asker)])))
        for t in threads
    }
    lengths = {tid: sum(c.values()) for tid, c in docs.items()}
    average = sum(lengths.values()) / len(lengths)
    df: Counter[str] = Counter(w for c in docs.values() for w in c)
    n = len(docs)
    out: list[Judged | None] = []
    for q in questions:
        words = set(_stems(" ".join(terms(f"{q.subject}\n{q.body}"))))
        pool = [tid for tid in docs if owner is None or owner[tid] is q]
        best: tuple[float, str] | None = None
        for tid in pool:
            doc, length = docs[tid], lengths[tid]
            score = 0.0
            for w in words:
                f = doc.get(w, 0)
                if f:
                    idf = math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5))
                    score += idf * f * 2.2 / (f + 1.2 * (0.25 + 0.75 * length / average))
            if score > 0 and (best is None or score > best[0]):
                best = (score, tid)
        out.append(Judged(best[0], q.helped_by(best[1])) if best else None)
    return out


def _stems(text: str) -> list[str]:
    """Lower-case words with a light suffix strip, close to what both engines' English stemmers do."""
    out = []
    for word in "".join(ch if ch.isalnum() else " " for ch in text.lower()).split():
        for suffix in ("ing", "ed", "es", "s"):
            if len(word) > len(suffix) + 2 and word.endswith(suffix):
                word = word[: -len(suffix)]
                break
        out.append(word)
    return out


# ---- latency ---------------------------------------------------------------------------------------------


async def _latency(
    engine: str, url: str, questions: list[Question], threads: list[Thread], size: int, profile: Profile
) -> list[Result]:
    store = await SqlStore.connect(url)
    try:
        rng = random.Random(22)
        words = [w for t in threads for w in f"{t.subject} {t.body}".split()]
        answers_words = [c.text for t in threads for c in t.comments]
        made = time.perf_counter()
        batch: list[Answer] = []
        for i in range(size):
            title = " ".join(rng.choices(words, k=rng.randint(4, 10)))
            base = Answer(
                task_gid=TaskGid(f"9{i:09d}"),
                team_id=TEAM,
                channel_id=CHANNEL,
                project_gids=(POOL,),
                title=title,
                permalink_url=f"https://app.asana.com/0/1/{i}",
                asked_at=NOW,
                notes=" ".join(rng.choices(words, k=rng.randint(10, 40))),
                answer="\n\n".join(rng.choices(answers_words, k=3)),
                answered_by=("Bo",),
                resolved_at=NOW,
            )
            batch.append(base)
            if len(batch) == 1000:
                await store.save_answers(batch)
                batch = []
        if batch:
            await store.save_answers(batch)
        loaded = time.perf_counter() - made
        if engine == "postgresql":
            async with store.engine.begin() as conn:
                from sqlalchemy import text

                await conn.execute(text("ANALYZE"))
        scope = Scope(TEAM, CHANNEL, (POOL,))
        asked = [terms(f"{q.subject}\n{q.body}") for q in questions]
        for words_ in asked[:20]:  # warm the caches, as a running bridge's are
            await store.search_answers(words_, scope, limit=4)
        timings = []
        for i in range(1000 if profile != "smoke" else 100):
            began = time.perf_counter()
            await store.search_answers(asked[i % len(asked)], scope, limit=4)
            timings.append((time.perf_counter() - began) * 1000)
        p50, p99 = percentile(timings, 50), percentile(timings, 99)
        params = {
            "resolved_tasks": size,
            "searches": len(timings),
            "load_seconds": round(loaded, 1),
            "p50_ms": round(p50, 2),
        }
        return [
            Result(
                NAME,
                f"{engine}.search_p99",
                p99,
                "ms",
                None,
                f"< {LATENCY_TARGET_MS:.0f} ms over {size:,} resolved tasks",
                judge(profile == "full", p99, lambda v: v < LATENCY_TARGET_MS),
                params,
            )
        ]
    finally:
        await store.close()
