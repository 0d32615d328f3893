"""Suggestions (issue 22): how often the first suggestion shown is right, and how fast the search is.

Quality, on a real labelled set (bench/suggest_data.py: SemEval-2016 Task 3 B, 103 new questions over 613 earlier
threads with their comments): each thread becomes a resolved answer in the store, exactly as the relay would keep it
(its asker's own comments left out), and each new question is searched the way a capture searches it. Three protocols:
- `candidates` (SemEval's own): a question is searched among the ~6 threads the annotators judged for it (each
  question's threads are put in a project of their own, and the search is scoped to it, as a link is).
- `pool`: every question searched among all 613 threads; a first match nobody judged for it counts as wrong.
- `candidates_pruned`: `candidates` with the common words left out of the ranking (adapters/store/rarity.py), as
  they are once 1,000 tasks are resolved.
- `candidates_at_scale`: `candidates` again once 100,000 more resolved tasks (bench/suggest_scale.py) share the
  store, in a project of their own: the word counts, the rank and the search plan of a store that size, each
  question searched in its judged threads' projects (a link's projects among many); those searches are timed too.
precision = first suggestions that are a PerfectMatch or Relevant thread / questions that got a suggestion;
recall = the same / all questions. The bridge: the engine's rank over title (weighted), notes and answer, divided
by the number of question words, shown when it clears the threshold the bridge ships (DEFAULT_MIN_SCORE); also
its two-fold figures (the threshold picked on half the questions, judged on the other half). The floor: plain
Okapi BM25 (k1 1.2, b 0.75, one field) over the same texts and words, at its own best threshold for precision >=
0.8 (chosen on the answers: the most favourable floor there is).

Latency: 100,000 resolved answers (made from the set's own words) in one project, in SQLite and in PostgreSQL; p99
of the search for 1,000 questions in that project, each engine, against < 50 ms (bench/suggest_scale.py).

`python -m bench.suggest [--quick|--smoke] [--engine sqlite|postgresql] [--part quality|scale]` runs a part of it
(`quality`: the 613-thread protocols, a minute; `scale`: the 100,000 tasks, their latency and
`candidates_at_scale`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench import suggest_scale
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
NOW = datetime(2026, 12, 1, tzinfo=UTC)
PRECISION_TARGET = 0.8
RECALL_TARGET = 0.5
ENGINES = ("sqlite", "postgresql")
PARTS = ("quality", "scale")


@dataclass(frozen=True)
class Judged:
    """A question's first match: its score and whether annotators marked it helpful."""

    score: float
    hit: bool


async def run(profile: Profile, *, engines: Sequence[str] = ENGINES, parts: Sequence[str] = PARTS) -> list[Result]:
    questions, threads = load()
    results: list[Result] = []
    for engine in engines if profile != "smoke" else ("sqlite",):
        pg = start_cluster() if engine == "postgresql" else None  # a throwaway server, as the tests use
        folder = tempfile.mkdtemp(prefix="bench-suggest-")
        try:
            url = pg.url if pg is not None else f"sqlite+aiosqlite:///{folder}/bridge.db"
            await migrate(url)
            store = await SqlStore.connect(url)
            try:
                await _load_threads(store, threads)
                if "quality" in parts:
                    results.extend(await _quality(engine, store, questions, threads, profile))
                if "scale" in parts:
                    results.extend(await _scale(engine, store, questions, threads, profile))
            finally:
                await store.close()
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


def _gids(threads: Sequence[Thread]) -> dict[str, str]:
    return {tid: f"1{i:06d}" for i, tid in enumerate(sorted(t.id for t in threads))}


def _projects(threads: Sequence[Thread]) -> dict[str, ProjectGid]:
    """Each thread in a project of its own (100 on), so that a question's search can be scoped to its threads."""
    return {tid: ProjectGid(str(100 + i)) for i, tid in enumerate(sorted(t.id for t in threads))}


async def _load_threads(store: SqlStore, threads: Sequence[Thread]) -> None:
    gid, project = _gids(threads), _projects(threads)
    await store.save_answers([answer_of(t, project[t.id], gid[t.id]) for t in threads])
    await suggest_scale.analyze(store)


async def _judge(
    store: SqlStore, questions: Sequence[Question], threads: Sequence[Thread], protocol: str
) -> tuple[list[Judged | None], list[float]]:
    """Each question's first match under the protocol, and how long each search took (ms)."""
    thread_of = {gid: tid for tid, gid in _gids(threads).items()}
    project_of = _projects(threads)
    judged: list[Judged | None] = []
    timings: list[float] = []
    for q in questions:
        projects = (
            tuple(dict.fromkeys(project_of[t] for t in q.labels)) if protocol != "pool" else tuple(project_of.values())
        )
        began = time.perf_counter()
        found = await store.search_answers(terms(f"{q.subject}\n{q.body}"), Scope(TEAM, CHANNEL, projects), limit=1)
        timings.append((time.perf_counter() - began) * 1000)
        judged.append(Judged(found[0].score, q.helped_by(thread_of[found[0].answer.task_gid])) if found else None)
    return judged, timings


async def _quality(
    engine: str, store: SqlStore, questions: list[Question], threads: list[Thread], profile: Profile
) -> list[Result]:
    owner = {tid: q for q in questions for tid in q.labels}
    out: list[Result] = []
    try:
        for protocol in ("candidates", "pool", "candidates_pruned"):
            # `candidates_pruned`: the same, with the common words left out as they are from 1,000 tasks on.
            rarity.MIN_TASKS = 0 if protocol == "candidates_pruned" else MIN_TASKS
            store.__dict__.pop("_word_rarity", None)  # counts of another protocol's store
            judged, _ = await _judge(store, questions, threads, protocol)
            floor = _bm25_floor(questions, threads, owner if protocol != "pool" else None)
            out.extend(_quality_results(engine, protocol, judged, floor, DEFAULT_MIN_SCORE[engine], profile))
    finally:
        rarity.MIN_TASKS = MIN_TASKS
    return out


async def _scale(
    engine: str, store: SqlStore, questions: list[Question], threads: list[Thread], profile: Profile
) -> list[Result]:
    size = suggest_scale.SIZES[profile]
    loaded = await suggest_scale.fill(store, threads, size, team=TEAM, channel=CHANNEL, now=NOW)
    store.__dict__.pop("_word_rarity", None)  # the 613-thread store's word counts: a running bridge's age out
    scope = Scope(TEAM, CHANNEL, (suggest_scale.POOL,))
    out = await suggest_scale.latency(engine, store, questions, scope, size, profile, loaded)
    owner = {tid: q for q in questions for tid in q.labels}
    judged, timings = await _judge(store, questions, threads, "candidates_at_scale")
    floor = _bm25_floor(questions, threads, owner)
    results = _quality_results(engine, "candidates_at_scale", judged, floor, DEFAULT_MIN_SCORE[engine], profile)
    for r in results:
        r.params.update(resolved_tasks=size + len(threads), p99_ms=round(percentile(timings, 99), 2))
    return out + results


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.suggest", description="Part of the suggest bench.")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true")
    size.add_argument("--smoke", action="store_true")
    parser.add_argument("--engine", choices=ENGINES, action="append")
    parser.add_argument("--part", choices=PARTS, action="append")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    profile: Profile = "smoke" if args.smoke else "quick" if args.quick else "full"
    results = asyncio.run(run(profile, engines=args.engine or ENGINES, parts=args.part or PARTS))
    for result in results:
        print(result.to_json(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
