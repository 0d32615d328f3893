"""People's Asana connections in the store (issue #20, point 2), on SQLite and PostgreSQL: tokens sealed at rest, a
connect's state taken once, one refresh at a time per person across replicas (compare-and-set on a lease), the
one-time offer, and the bridge's own writes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest_asyncio

from bridge.adapters.store.crypto import PREFIX, Cipher
from bridge.adapters.store.sql_store import SqlStore
from bridge.domain.identity import Connection, OwnWrite, digest, pending
from bridge.domain.model import AsanaUserGid, SlackUserId, TaskGid, TeamId
from tests.integration.test_secrets_at_rest import _raw

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
TEAM, ANA = TeamId("T1"), SlackUserId("U_ANA")
ACCESS, REFRESH = "2/111/access-token-secret", "2/111/refresh-token-secret"


def _connection(expires_at: datetime = NOW + timedelta(hours=1)) -> Connection:
    return Connection(TEAM, ANA, AsanaUserGid("111"), "Ana Lopez", ACCESS, REFRESH, expires_at, NOW)


@pytest_asyncio.fixture
async def sealed(database_url: str) -> AsyncIterator[SqlStore]:
    store = await SqlStore.connect(database_url, cipher=Cipher(Cipher.generate_key()))
    try:
        yield store
    finally:
        await store.close()


async def test_tokens_and_verifiers_are_sealed_at_rest_and_read_back(database_url: str, sealed: SqlStore) -> None:
    await sealed.save_connection(_connection())
    await sealed.save_pending_connect(pending("state-1", TEAM, ANA, "verifier-secret", now=NOW), now=NOW)
    raw = await _raw(database_url, "SELECT access_token FROM asana_connections")
    raw += await _raw(database_url, "SELECT refresh_token FROM asana_connections")
    raw += await _raw(database_url, "SELECT code_verifier FROM asana_connect_states")
    assert all(v and v.startswith(PREFIX) and "secret" not in v for v in raw), raw
    assert await _raw(database_url, "SELECT state_digest FROM asana_connect_states") == [digest("state-1")]
    found = await sealed.get_connection(TEAM, ANA)
    assert found is not None and (found.access_token, found.refresh_token) == (ACCESS, REFRESH)
    assert ACCESS not in repr(found)


async def test_a_state_is_taken_once(store: SqlStore) -> None:
    await store.save_pending_connect(pending("state-1", TEAM, ANA, "v", now=NOW), now=NOW)
    taken = await asyncio.gather(*(store.take_pending_connect(digest("state-1")) for _ in range(4)))
    assert [t.slack_user_id for t in taken if t is not None] == [ANA]
    assert await store.take_pending_connect(digest("state-2")) is None


async def test_one_refresh_at_a_time_per_person_across_replicas(database_url: str) -> None:
    replicas = [await SqlStore.connect(database_url) for _ in range(3)]
    try:
        await replicas[0].save_connection(_connection(expires_at=NOW + timedelta(minutes=2)))
        lease = NOW + timedelta(seconds=30)
        due = NOW + timedelta(minutes=5)
        claims = await asyncio.gather(
            *(r.claim_refresh(TEAM, ANA, now=NOW, due_before=due, until=lease) for r in replicas for _ in range(3))
        )
        assert len([c for c in claims if c is not None]) == 1
        # Once refreshed, nobody claims it again; a lease that ran out (a dead replica) is taken over.
        await replicas[1].finish_refresh(TEAM, ANA, access_token="new", expires_at=NOW + timedelta(hours=1))
        assert await replicas[2].claim_refresh(TEAM, ANA, now=NOW, due_before=due, until=lease) is None
        later, soon = NOW + timedelta(hours=1), NOW + timedelta(hours=1, minutes=5)
        assert await replicas[2].claim_refresh(
            TEAM, ANA, now=later, due_before=soon, until=later + timedelta(seconds=30)
        )
        assert await replicas[0].claim_refresh(TEAM, ANA, now=later, due_before=soon, until=soon) is None
        gone = later + timedelta(minutes=1)
        assert await replicas[0].claim_refresh(TEAM, ANA, now=gone, due_before=soon, until=soon) is not None
        refreshed = await replicas[0].get_connection(TEAM, ANA)
        assert refreshed is not None and refreshed.access_token == "new"
    finally:
        for replica in replicas:
            await replica.close()


async def test_disconnecting_returns_what_was_forgotten(store: SqlStore) -> None:
    await store.save_connection(_connection())
    forgotten = await store.delete_connection(TEAM, ANA)
    assert forgotten is not None and forgotten.refresh_token == REFRESH
    assert await store.get_connection(TEAM, ANA) is None
    assert await store.delete_connection(TEAM, ANA) is None


async def test_the_offer_to_connect_is_made_once(store: SqlStore) -> None:
    offers = await asyncio.gather(*(store.offer_connect_once(TEAM, ANA, now=NOW) for _ in range(3)))
    assert sorted(offers) == [False, False, True]


async def test_own_writes_are_kept_per_task(store: SqlStore) -> None:
    old = OwnWrite(TaskGid("1"), "completed", digest("true"), NOW - timedelta(days=2))
    await store.record_own_writes([old])
    await store.record_own_writes(
        [OwnWrite(TaskGid("1"), "assignee", digest("7"), NOW), OwnWrite(TaskGid("2"), "comment", digest("x"), NOW)]
    )
    found = await store.own_writes_of(TaskGid("1"), since=NOW - timedelta(days=3))
    assert [(w.field, w.value_digest) for w in found] == [("assignee", digest("7"))]  # the old one was forgotten


async def test_a_workspaces_connections_are_forgotten_together(store: SqlStore) -> None:
    await store.save_connection(_connection())
    await store.save_connection(replace(_connection(), slack_user_id=SlackUserId("U_BO")))
    await store.save_connection(replace(_connection(), team_id=TeamId("T2")))
    forgotten = await store.delete_connections_of(TEAM)
    assert sorted(c.slack_user_id for c in forgotten) == [ANA, "U_BO"]
    assert forgotten[0].refresh_token == REFRESH  # opened, to be revoked at Asana
    assert await store.get_connection(TeamId("T2"), ANA) is not None
