"""SqlStore against real databases: every Store method on SQLite (temp file) and PostgreSQL (throwaway server)."""

from __future__ import annotations

import asyncio
import inspect
import logging
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, UniqueConstraint, select, text
from sqlalchemy import event as sa_event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError

from bridge.adapters.store import SqlStore, migrate
from bridge.adapters.store.engine import create_engine
from bridge.adapters.store.migrate import current_revision, head_revision
from bridge.adapters.store.tables import SEARCH_TABLES, inbox, metadata
from bridge.domain.model import (
    AsanaUserGid,
    Capture,
    CaptureMode,
    ChannelId,
    CommentLink,
    Holder,
    InboxEvent,
    InboxSource,
    Link,
    MessageTs,
    NagKey,
    OutboxPost,
    OutboxState,
    ProjectGid,
    SlackUserId,
    SyncToken,
    TaskGid,
    TeamId,
    TrackedTask,
    UserMapping,
    UserSettings,
    WebhookRegistration,
    WebhookStatus,
    WorkspaceGid,
)
from bridge.domain.nag_clicks import CLICKED_COPY, PostedNag
from bridge.ports import AnswerStore, IdentityStore, Store
from tests.fixtures_db import on_both_sqlite_paths
from tests.support import eventually

# The lead registers this in tests/conftest.py too; pytest loads a plugin only once.
pytest_plugins = ["tests.fixtures_db"]

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 15, 30, 0, 123456, tzinfo=UTC)
T = TeamId("T1")
C = ChannelId("C1")
P = ProjectGid("1200000000000001")


def link(channel: str = "C1", project: str = P, **changes: Any) -> Link:
    values: dict[str, Any] = {
        "team_id": T,
        "channel_id": ChannelId(channel),
        "project_gid": ProjectGid(project),
        "project_name": "Developer Questions ✨",
        "workspace_gid": WorkspaceGid("W1"),
        "created_by": SlackUserId("U1"),
        "created_at": NOW,
    }
    return Link(**(values | changes))


def webhook(hook_key: str = "hk1", **changes: Any) -> WebhookRegistration:
    values: dict[str, Any] = {
        "hook_key": hook_key,
        "team_id": T,
        "channel_id": C,
        "project_gid": P,
        "status": WebhookStatus.PENDING,
        "created_at": NOW,
    }
    return WebhookRegistration(**(values | changes))


def event(key: str, *, at: datetime = NOW, **changes: Any) -> InboxEvent:
    values: dict[str, Any] = {
        "dedupe_key": key,
        "source": InboxSource.WEBHOOK,
        "project_gid": P,
        "resource_gid": f"task-{key}",
        "resource_type": "task",
        "action": "changed",
        "payload": {"resource": {"gid": f"task-{key}"}, "change": {"field": "due_on"}, "n": [1, 2.5, None]},
        "received_at": at,
    }
    return InboxEvent(**(values | changes))


def task(gid: str = "T100", thread_ts: str = "1700000000.000100", **changes: Any) -> TrackedTask:
    values: dict[str, Any] = {
        "task_gid": TaskGid(gid),
        "project_gid": P,
        "team_id": T,
        "channel_id": C,
        "thread_ts": MessageTs(thread_ts),
        "permalink_url": f"https://app.asana.com/0/{P}/{gid}",
        "name": "Webhook signature fails — help",
        "created_at": NOW,
        "updated_at": NOW,
    }
    return TrackedTask(**(values | changes))


def post(key: str, *, at: datetime = NOW, **changes: Any) -> OutboxPost:
    values: dict[str, Any] = {
        "post_key": key,
        "team_id": T,
        "channel_id": C,
        "thread_ts": MessageTs("1700000000.000100"),
        "payload": {"text": "✅ completed by Ana", "blocks": [{"type": "section"}]},
        "state": OutboxState.PENDING,
        "created_at": at,
    }
    return OutboxPost(**(values | changes))


# ---------------------------------------------------------------------------------------------- port and schema


def test_sql_store_has_every_store_method_with_the_same_signature() -> None:
    # Store is the union of the per-concern protocols the services take; the SQL store keeps answers and
    # identities too.
    protocols = [c for c in Store.__mro__ if c.__module__.startswith("bridge.ports")] + [AnswerStore, IdentityStore]
    wanted = {
        (protocol, name)
        for protocol in protocols
        for name, member in vars(protocol).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }
    assert len({name for _, name in wanted}) > 70
    for protocol, name in sorted(wanted, key=lambda pair: (pair[0].__name__, pair[1])):
        ours = inspect.signature(getattr(SqlStore, name))
        theirs = inspect.signature(getattr(protocol, name))
        assert list(ours.parameters) == list(theirs.parameters), name
        assert [p.kind for p in ours.parameters.values()] == [p.kind for p in theirs.parameters.values()], name
        ours_fn = getattr(SqlStore, name)
        assert inspect.iscoroutinefunction(ours_fn) or inspect.isasyncgenfunction(ours_fn), name


def _schema(conn: Connection) -> dict[str, Any]:
    insp = sa_inspect(conn)
    tables = {}
    for table in sorted(set(insp.get_table_names()) - {"alembic_version"}):
        if table.startswith(SEARCH_TABLES):
            continue  # the engine's own full-text index (and FTS5's shadow tables): not SQLAlchemy tables
        pk = insp.get_pk_constraint(table)
        tables[table] = {
            "columns": {c["name"]: c["nullable"] for c in insp.get_columns(table)},
            "pk": (pk["name"], tuple(pk["constrained_columns"])),
            "unique": {(u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(table)},
            "indexes": {
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(table)
                if not i.get("duplicates_constraint")
            },
            "checks": {c["name"] for c in insp.get_check_constraints(table)},
        }
    return tables


def _not_search(name: str | None, type_: str, _parent: object) -> bool:
    return not (type_ == "table" and (name or "").startswith(SEARCH_TABLES))


def _expected_schema() -> dict[str, Any]:
    tables = {}
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        constraints = table.constraints
        tables[table.name] = {
            "columns": {c.name: c.nullable for c in table.columns},
            "pk": (table.primary_key.name, tuple(c.name for c in table.primary_key.columns)),
            "unique": {
                (c.name, tuple(col.name for col in c.columns)) for c in constraints if isinstance(c, UniqueConstraint)
            },
            "indexes": {(i.name, tuple(col.name for col in i.columns), bool(i.unique)) for i in table.indexes},
            "checks": {c.name for c in constraints if isinstance(c, CheckConstraint)},
        }
    return tables


async def test_migrations_produce_exactly_the_schema_of_tables_py(empty_database_url: str) -> None:
    await migrate(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True, "include_name": _not_search}),
                    metadata,
                )
            )
            assert diff == []
            assert await conn.run_sync(_schema) == _expected_schema()
    finally:
        await engine.dispose()


async def test_migrate_is_idempotent(empty_database_url: str) -> None:
    assert await current_revision(empty_database_url) is None
    await migrate(empty_database_url)
    await migrate(empty_database_url)
    assert await current_revision(empty_database_url) == head_revision() == "0020"


# Each process imports everything, says "ready", and waits for "go" on stdin: the upgrades start together.
MIGRATOR = """
import asyncio, sys
from bridge.adapters.store import migrate
print("ready", flush=True)
sys.stdin.readline()
asyncio.run(migrate(sys.argv[1]))
"""


async def test_concurrent_migrations_from_separate_processes_all_succeed(empty_database_url: str) -> None:
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            MIGRATOR,
            empty_database_url,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert await asyncio.wait_for(proc.stdout.readline(), timeout=30) == b"ready\n"
        results = await asyncio.wait_for(asyncio.gather(*(p.communicate(b"go\n") for p in procs)), timeout=60)
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    for proc, (_, stderr) in zip(procs, results, strict=True):
        assert proc.returncode == 0, stderr.decode()
    assert await current_revision(empty_database_url) == head_revision()


async def test_replicas_count_who_beat_lately_and_forget_who_left(store: SqlStore) -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    alive = timedelta(seconds=30)
    assert await store.heartbeat("a", now=now - timedelta(minutes=2), alive_within=alive) == 1
    assert await store.heartbeat("b", now=now, alive_within=alive) == 1  # "a" has not beaten for two minutes
    assert await store.heartbeat("a", now=now, alive_within=alive) == 2
    assert await store.heartbeat("c", now=now + timedelta(seconds=10), alive_within=alive) == 3
    await store.leave("b")
    assert await store.heartbeat("c", now=now + timedelta(seconds=20), alive_within=alive) == 2


async def test_ping(store: SqlStore) -> None:
    await store.ping()


async def test_ping_raises_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    unreachable = await SqlStore.connect(f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'bridge.db'}")
    try:
        with pytest.raises(OperationalError):
            await unreachable.ping()
    finally:
        await unreachable.close()
    # The failed connection's aiosqlite thread answers its last call on this test's loop: let it, before the loop
    # closes (on a busy machine it was late, and its error surfaced in whichever test ran next).
    workers = [t for t in threading.enumerate() if t not in before and "_connection_worker_thread" in t.name]
    await eventually(lambda: not any(t.is_alive() for t in workers) or None)


async def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}"
    await migrate(url)
    sqlite_store = await SqlStore.connect(url)
    try:
        async with sqlite_store.engine.connect() as conn:
            pragmas = {name: await conn.scalar(text(f"PRAGMA {name}")) for name in ("journal_mode", "foreign_keys")}
            busy = await conn.scalar(text("PRAGMA busy_timeout"))
    finally:
        await sqlite_store.close()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1}
    assert busy is not None and busy >= 1000


def test_connect_rejects_other_databases() -> None:
    with pytest.raises(ValueError, match="unsupported database"):
        create_engine("mysql+aiomysql://localhost/bridge")


# ------------------------------------------------------------------------------------------------------ datetimes


async def test_datetimes_are_stored_in_utc_and_come_back_aware(store: SqlStore) -> None:
    paris = timezone(timedelta(hours=2))
    local = datetime(2026, 6, 1, 11, 0, 0, 5, tzinfo=paris)
    await store.save_sync_token(SyncToken(resource_gid="r1", token="tok", updated_at=local))
    got = await store.get_sync_token("r1")
    assert got is not None
    assert got.updated_at == local
    assert got.updated_at.tzinfo is UTC
    assert got.updated_at.hour == 9


async def test_naive_datetimes_are_refused(store: SqlStore) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        await store.save_sync_token(SyncToken(resource_gid="r1", token="tok", updated_at=datetime(2026, 1, 1)))
    assert await store.get_sync_token("r1") is None


# ---------------------------------------------------------------------------------------------------------- links


async def test_link_round_trip_replace_and_delete(store: SqlStore) -> None:
    assert await store.get_link(T, C) is None
    first = link()
    await store.save_link(first)
    assert await store.get_link(T, C) == first

    replaced = link(
        project_name="Renamed",
        triage_section_gid="S1",
        priority_field_gid="F1",
        capture_mode=CaptureMode.REACTION,
        created_at=NOW + timedelta(days=1),
    )
    await store.save_link(replaced)
    got = await store.get_link(T, C)
    assert got == replaced
    assert got is not None and got.capture_mode is CaptureMode.REACTION
    assert await store.list_links() == [replaced]

    assert await store.delete_link(T, C) is True
    assert await store.delete_link(T, C) is False
    assert await store.get_link(T, C) is None


async def test_a_burst_of_reads_of_one_link_reads_the_database_once(store: SqlStore) -> None:
    await store.save_link(link("C9"))
    selects: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "links" in statement:
            selects.append(statement)

    sa_event.listen(store.engine.sync_engine, "before_cursor_execute", count)
    try:
        found = await asyncio.gather(*(store.get_link(TeamId("T1"), ChannelId("C9")) for _ in range(50)))
    finally:
        sa_event.remove(store.engine.sync_engine, "before_cursor_execute", count)
    assert {f.channel_id if f else None for f in found} == {"C9"}
    assert len(selects) == 1


async def test_a_read_begun_before_a_change_does_not_bring_the_old_link_back(store: SqlStore) -> None:
    # CI once saw `/asana relay quiet` answered, then the next `/asana relay` report the old setting: a read of the
    # link already on its way when the change was written came back after it and was kept in memory.
    await store.save_link(link("C8", quiet=False))
    for turn in range(60):
        store._forget_link(TeamId("T1"), ChannelId("C8"))  # as after the memory's few seconds
        reading = asyncio.ensure_future(store.get_link(TeamId("T1"), ChannelId("C8")))
        await asyncio.sleep(0)  # the read is on its way
        await store.save_link(link("C8", quiet=turn % 2 == 0))
        await reading
        found = await store.get_link(TeamId("T1"), ChannelId("C8"))
        assert found is not None and found.quiet is (turn % 2 == 0), f"turn {turn}"


async def test_links_for_project_and_list_links(store: SqlStore) -> None:
    a, b, other = link("C1"), link("C2"), link("C3", project="999")
    for item in (other, b, a):
        await store.save_link(item)
    assert await store.links_for_project(P) == [a, b]
    assert await store.links_for_project(ProjectGid("999")) == [other]
    assert await store.links_for_project(ProjectGid("nope")) == []
    assert await store.list_links() == [a, b, other]


# ------------------------------------------------------------------------------------------------------- webhooks


async def test_webhook_round_trip_replace_and_delete(store: SqlStore) -> None:
    assert await store.get_webhook("hk1") is None
    registration = webhook()
    await store.save_webhook(registration)
    assert await store.get_webhook("hk1") == registration

    active = webhook(status=WebhookStatus.ACTIVE, webhook_gid="WH1", secret="s3cr3t")
    await store.save_webhook(active)
    got = await store.get_webhook("hk1")
    assert got == active
    assert got is not None and got.secret == "s3cr3t"
    assert type(got.secret) is str
    assert "s3cr3t" not in repr(got)

    assert await store.delete_webhook("hk1") is True
    assert await store.delete_webhook("hk1") is False
    assert await store.get_webhook("hk1") is None


async def test_webhooks_for_project_and_list(store: SqlStore) -> None:
    a = webhook("hk-a", created_at=NOW)
    b = webhook("hk-b", created_at=NOW + timedelta(seconds=1), status=WebhookStatus.FAILED)
    other = webhook("hk-c", created_at=NOW + timedelta(seconds=2), project_gid=ProjectGid("999"))
    for item in (other, b, a):
        await store.save_webhook(item)
    assert await store.webhooks_for_project(P) == [a, b]
    assert await store.webhooks_for_project(ProjectGid("999")) == [other]
    assert await store.list_webhooks() == [a, b, other]


@pytest.mark.parametrize(
    ("stored", "accepted"),
    [
        pytest.param(webhook(), True, id="pending-without-secret"),
        pytest.param(webhook(secret="old"), False, id="pending-with-secret"),
        pytest.param(webhook(status=WebhookStatus.ACTIVE, secret="old"), False, id="active"),
        pytest.param(webhook(status=WebhookStatus.ACTIVE), False, id="active-without-secret"),
        pytest.param(webhook(status=WebhookStatus.FAILED), False, id="failed"),
        pytest.param(None, False, id="unknown-hook"),
    ],
)
async def test_complete_handshake_is_a_compare_and_set(
    store: SqlStore, stored: WebhookRegistration | None, accepted: bool
) -> None:
    if stored is not None:
        await store.save_webhook(stored)
    assert await store.complete_handshake("hk1", "new-secret") is accepted
    got = await store.get_webhook("hk1")
    if stored is None:
        assert got is None
    elif accepted:
        assert got == webhook(status=WebhookStatus.ACTIVE, secret="new-secret")
    else:
        assert got == stored


async def test_second_handshake_never_overwrites_the_secret(store: SqlStore) -> None:
    await store.save_webhook(webhook())
    assert await store.complete_handshake("hk1", "first") is True
    assert await store.complete_handshake("hk1", "second") is False
    got = await store.get_webhook("hk1")
    assert got is not None and got.secret == "first" and got.status is WebhookStatus.ACTIVE


async def test_racing_handshakes_have_exactly_one_winner(database_url: str) -> None:
    stores = [await SqlStore.connect(database_url) for _ in range(4)]
    try:
        await stores[0].save_webhook(webhook())
        results = await asyncio.gather(*(s.complete_handshake("hk1", f"secret-{i}") for i, s in enumerate(stores)))
        assert sorted(results) == [False, False, False, True]
        got = await stores[0].get_webhook("hk1")
        assert got is not None and got.secret == f"secret-{results.index(True)}"
    finally:
        for s in stores:
            await s.close()


async def test_secrets_never_reach_the_sql_log(database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    logged = await SqlStore.connect(database_url, echo="debug")
    try:
        await logged.save_webhook(webhook("hk-log", secret="very-secret-value"))
        await logged.save_webhook(webhook("hk-log2"))
        assert await logged.complete_handshake("hk-log2", "another-secret-value")
        assert (await logged.get_webhook("hk-log2")) is not None
    finally:
        await logged.close()
    assert "INSERT INTO webhooks" in caplog.text
    assert "very-secret-value" not in caplog.text
    assert "another-secret-value" not in caplog.text


# ---------------------------------------------------------------------------------------------------------- inbox


async def _state(store: SqlStore, event_id: int) -> dict[str, Any]:
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(inbox).where(inbox.c.id == event_id))).one()
    return dict(row._mapping)


async def test_enqueue_counts_only_new_dedupe_keys(store: SqlStore) -> None:
    assert await store.enqueue_events([]) == 0
    assert await store.enqueue_events([event("a"), event("b")]) == 2
    assert await store.enqueue_events([event("b"), event("c"), event("c"), event("a")]) == 1
    assert await store.enqueue_events([event("a")]) == 0
    assert await store.inbox_counts() == {"pending": 3, "done": 0, "parked": 0, "landed": 0}


async def test_deliveries_arriving_together_are_committed_together_and_counted_apart(store: SqlStore) -> None:
    # Twenty deliveries at once, each of three events; neighbours share one event (Asana resends, two sources).
    deliveries = [[event(f"d{n}-a"), event(f"d{n}-b"), event(f"shared-{n // 2}")] for n in range(20)]
    counts = await asyncio.gather(*(store.enqueue_events(d) for d in deliveries))
    assert sum(counts) == 20 * 2 + 10  # every key once, the shared ones for whichever delivery came first
    assert all(count in (2, 3) for count in counts)
    assert await store.inbox_counts() == {"pending": 50, "done": 0, "parked": 0, "landed": 0}
    assert await store.enqueue_events(deliveries[0]) == 0  # all committed: a resend adds nothing


async def test_sqlite_inbox_writer_stores_what_sqlalchemy_stores(tmp_path: Path) -> None:
    # On a SQLite file the inbox is written by its own connection (one trip off the loop), with hand-made SQL:
    # the rows must be those SQLAlchemy's INSERT makes, byte for byte, or reads would see something else.
    events = [
        replace(
            event("plain"), received_at=datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
        ),
        replace(
            event("odd"), payload={"x": "é\u2028\U0001f600", "n": [1, 2.5, None, True], "nested": {"b": 1, "a": 2}}
        ),
        replace(event("dup"), task_gid=None),
        event("dup"),
    ]

    async def work(sqlite_store: SqlStore) -> list[Any]:
        assert await sqlite_store.enqueue_events(events) == 3
        assert await sqlite_store.enqueue_events(events[:1]) == 0
        async with sqlite_store.engine.connect() as conn:
            return list((await conn.exec_driver_sql("SELECT * FROM inbox ORDER BY id")).all())

    rows = await on_both_sqlite_paths(tmp_path, work)
    assert rows[0] == rows[1]
    assert len(rows[0]) == 3


async def test_claim_returns_oldest_first_with_the_whole_event(store: SqlStore) -> None:
    events = [event(f"e{i}", at=NOW - timedelta(minutes=i), source=InboxSource.EVENTS_API) for i in range(5)]
    await store.enqueue_events(events)
    claimed = await store.claim_events(limit=3, now=NOW, lease_seconds=30)
    assert [c.event for c in claimed] == [events[4], events[3], events[2]]
    assert all(c.attempts == 1 and c.lease_until == NOW + timedelta(seconds=30) for c in claimed)
    assert all(c.lease_until.tzinfo is UTC for c in claimed)
    assert len({c.id for c in claimed}) == 3
    rest = await store.claim_events(limit=10, now=NOW, lease_seconds=30)
    assert [c.event for c in rest] == [events[1], events[0]]
    assert await store.claim_events(limit=10, now=NOW, lease_seconds=30) == []
    assert await store.claim_events(limit=0, now=NOW, lease_seconds=30) == []


async def test_a_lease_hides_an_event_until_it_expires(store: SqlStore) -> None:
    await store.enqueue_events([event("a")])
    [first] = await store.claim_events(limit=10, now=NOW, lease_seconds=60)
    assert await store.claim_events(limit=10, now=NOW + timedelta(seconds=59), lease_seconds=60) == []
    [again] = await store.claim_events(limit=10, now=NOW + timedelta(seconds=60), lease_seconds=60)
    assert again.id == first.id
    assert again.attempts == 2
    assert again.lease_until == NOW + timedelta(seconds=120)


async def test_the_claims_of_a_replica_that_stopped_heartbeating_are_taken_over_at_once(store: SqlStore) -> None:
    alive_within = timedelta(seconds=6)
    one, two = Holder("one", alive_within), Holder("two", alive_within)
    await store.heartbeat("one", now=NOW, alive_within=alive_within)
    await store.heartbeat("two", now=NOW, alive_within=alive_within)
    await store.enqueue_events([event("a"), replace(event("b"), task_gid=None)])
    held = await store.claim_events(limit=10, now=NOW, lease_seconds=60, holder=one)
    assert len(held) == 2
    # "one" beats on: its claims stay its own for their lease.
    await store.heartbeat("one", now=NOW + timedelta(seconds=5), alive_within=alive_within)
    await store.heartbeat("two", now=NOW + timedelta(seconds=10), alive_within=alive_within)
    assert await store.claim_events(limit=10, now=NOW + timedelta(seconds=10), lease_seconds=60, holder=two) == []
    # "one" falls silent: six seconds after its last beat its claims are free, lease or not.
    at = NOW + timedelta(seconds=12)
    taken = await store.claim_events(limit=10, now=at, lease_seconds=60, holder=two)
    assert sorted(c.id for c in taken) == sorted(c.id for c in held)
    assert all(c.attempts == 2 and c.lease_until == at + timedelta(seconds=60) for c in taken)
    assert not await store.extend_lease([held[0].id], held_until=held[0].lease_until, until=at)
    # A claim without a holder (no heartbeat at all) keeps to its lease.
    await store.enqueue_events([event("c", task_gid="T9")])
    [plain] = await store.claim_events(limit=10, now=at, lease_seconds=60)
    await store.heartbeat("two", now=at + timedelta(seconds=30), alive_within=alive_within)
    assert await store.claim_events(limit=10, now=at + timedelta(seconds=30), lease_seconds=60, holder=two) == []
    assert plain.event.dedupe_key == "c"


async def test_a_replica_is_alive_while_it_heartbeats(store: SqlStore) -> None:
    alive_within = timedelta(seconds=6)
    assert not await store.replica_alive("one", now=NOW, alive_within=alive_within)
    await store.heartbeat("one", now=NOW, alive_within=alive_within)
    assert await store.replica_alive("one", now=NOW + timedelta(seconds=6), alive_within=alive_within)
    assert not await store.replica_alive("one", now=NOW + timedelta(seconds=7), alive_within=alive_within)


async def test_finished_events_are_done_and_never_claimed_again(store: SqlStore) -> None:
    await store.enqueue_events([event("a"), event("b"), event("c")])
    claimed = await store.claim_events(limit=2, now=NOW, lease_seconds=60)
    await store.finish_events([c.id for c in claimed])
    await store.finish_events([])
    assert await store.inbox_counts() == {"pending": 1, "done": 2, "parked": 0, "landed": 0}
    later = await store.claim_events(limit=10, now=NOW + timedelta(days=1), lease_seconds=60)
    assert [c.event.dedupe_key for c in later] == ["c"]
    row = await _state(store, claimed[0].id)
    assert row["state"] == "done" and row["lease_until"] is None and row["finished_at"] is not None


async def test_released_event_waits_until_retry_at(store: SqlStore) -> None:
    await store.enqueue_events([event("a")])
    [claimed] = await store.claim_events(limit=10, now=NOW, lease_seconds=60)
    retry_at = NOW + timedelta(minutes=5)
    await store.release_event(claimed.id, retry_at=retry_at)
    assert await store.claim_events(limit=10, now=NOW + timedelta(minutes=4, seconds=59), lease_seconds=60) == []
    [again] = await store.claim_events(limit=10, now=retry_at, lease_seconds=60)
    assert again.id == claimed.id and again.attempts == 2
    assert await store.inbox_counts() == {"pending": 1, "done": 0, "parked": 0, "landed": 0}


async def test_release_can_shorten_a_lease(store: SqlStore) -> None:
    await store.enqueue_events([event("a")])
    [claimed] = await store.claim_events(limit=10, now=NOW, lease_seconds=3600)
    await store.release_event(claimed.id, retry_at=NOW + timedelta(seconds=1))
    assert len(await store.claim_events(limit=10, now=NOW + timedelta(seconds=1), lease_seconds=60)) == 1


async def test_parked_events_keep_their_reason_and_are_not_claimed(store: SqlStore) -> None:
    await store.enqueue_events([event("a"), event("b")])
    claimed = await store.claim_events(limit=1, now=NOW, lease_seconds=60)
    await store.park_event(claimed[0].id, "task 123 not found (404)")
    assert await store.inbox_counts() == {"pending": 1, "done": 0, "parked": 1, "landed": 0}
    row = await _state(store, claimed[0].id)
    assert row["state"] == "parked" and row["park_reason"] == "task 123 not found (404)"
    later = await store.claim_events(limit=10, now=NOW + timedelta(days=1), lease_seconds=60)
    assert [c.event.dedupe_key for c in later] == ["b"]
    await store.release_event(claimed[0].id, retry_at=NOW)  # a parked event stays parked
    assert (await _state(store, claimed[0].id))["state"] == "parked"


async def test_oldest_pending_at(store: SqlStore) -> None:
    assert await store.oldest_pending_at() is None
    await store.enqueue_events([event("new", at=NOW), event("old", at=NOW - timedelta(hours=1))])
    assert await store.oldest_pending_at() == NOW - timedelta(hours=1)
    [oldest] = await store.claim_events(limit=1, now=NOW, lease_seconds=60)
    assert await store.oldest_pending_at() == NOW - timedelta(hours=1)  # claimed is still pending
    await store.finish_events([oldest.id])
    got = await store.oldest_pending_at()
    assert got == NOW and got is not None and got.tzinfo is UTC


def on_task(key: str, task: str, *, at: datetime) -> InboxEvent:
    return event(key, at=at, task_gid=task)


async def test_a_tasks_burst_is_claimed_whole_once_it_settles(store: SqlStore) -> None:
    settle = timedelta(seconds=2)
    await store.enqueue_events(
        [
            on_task("t1-a", "T1", at=NOW - timedelta(seconds=3)),
            on_task("t1-b", "T1", at=NOW - timedelta(seconds=1)),  # still coming: T1 waits
            on_task("t2-a", "T2", at=NOW - timedelta(seconds=5)),
            event("loose", at=NOW),  # about no task: claimed at once
        ]
    )
    first = await store.claim_events(limit=10, now=NOW, lease_seconds=60, settle=settle)
    assert sorted(c.event.dedupe_key for c in first) == ["loose", "t2-a"]
    later = await store.claim_events(limit=10, now=NOW + timedelta(seconds=1), lease_seconds=60, settle=settle)
    assert sorted(c.event.dedupe_key for c in later) == ["t1-a", "t1-b"]


async def test_a_task_with_a_leased_or_retrying_event_waits_whole(store: SqlStore) -> None:
    settle = timedelta(seconds=2)
    await store.enqueue_events([on_task("a", "T1", at=NOW - timedelta(seconds=10))])
    [held] = await store.claim_events(limit=10, now=NOW, lease_seconds=60, settle=settle)
    await store.enqueue_events([on_task("b", "T1", at=NOW - timedelta(seconds=5))])
    # "b" is settled, but "a" is still being relayed: relaying "b" now could tell things out of order.
    assert await store.claim_events(limit=10, now=NOW, lease_seconds=60, settle=settle) == []
    await store.release_event(held.id, retry_at=NOW + timedelta(seconds=30))
    assert await store.claim_events(limit=10, now=NOW + timedelta(seconds=29), lease_seconds=60, settle=settle) == []
    # The failed group is tried again as it was (its post keeps its key); "b", which came since, waits for it.
    [retried] = await store.claim_events(limit=10, now=NOW + timedelta(seconds=30), lease_seconds=60, settle=settle)
    assert retried.event.dedupe_key == "a" and retried.event.task_gid == "T1"
    await store.finish_events([retried.id])
    [after] = await store.claim_events(limit=10, now=NOW + timedelta(seconds=30), lease_seconds=60, settle=settle)
    assert after.event.dedupe_key == "b"


async def test_a_claim_is_kept_longer_only_while_it_is_still_ours(store: SqlStore) -> None:
    await store.enqueue_events([event("a")])
    [mine] = await store.claim_events(limit=10, now=NOW, lease_seconds=60)
    later = NOW + timedelta(seconds=90)
    assert await store.extend_lease([mine.id], held_until=mine.lease_until, until=later)
    assert await store.claim_events(limit=10, now=NOW + timedelta(seconds=61), lease_seconds=60) == []
    [theirs] = await store.claim_events(limit=10, now=later, lease_seconds=60)  # ours ran out; another took it
    assert not await store.extend_lease([mine.id], held_until=later, until=later + timedelta(seconds=60))
    assert (await _state(store, theirs.id))["lease_until"] == later + timedelta(seconds=60)


async def test_concurrent_claimers_claim_every_event_exactly_once(database_url: str) -> None:
    seed = await SqlStore.connect(database_url)
    try:
        events = [event(f"e{i:03}", at=NOW - timedelta(seconds=i)) for i in range(200)]
        assert await seed.enqueue_events(events) == 200
    finally:
        await seed.close()

    claimers = [await SqlStore.connect(database_url) for _ in range(4)]
    start = asyncio.Barrier(len(claimers))

    async def drain(claimer: SqlStore) -> list[int]:
        got: list[int] = []
        await start.wait()
        while batch := await claimer.claim_events(limit=7, now=NOW, lease_seconds=300):
            got.extend(c.id for c in batch)
            await claimer.finish_events([c.id for c in batch])
        return got

    try:
        results = await asyncio.wait_for(asyncio.gather(*(drain(c) for c in claimers)), timeout=60)
        all_ids = [i for ids in results for i in ids]
        assert len(all_ids) == 200
        assert len(set(all_ids)) == 200
        assert await claimers[0].inbox_counts() == {"pending": 0, "done": 200, "parked": 0, "landed": 0}
    finally:
        for c in claimers:
            await c.close()


@pytest.mark.postgres
@pytest.mark.parametrize("empty_database_url", ["postgres"], indirect=True)
async def test_claim_skips_rows_locked_by_another_replica_instead_of_waiting(database_url: str) -> None:
    replica_a, replica_b = await SqlStore.connect(database_url), await SqlStore.connect(database_url)
    try:
        await replica_a.enqueue_events([event("a", at=NOW - timedelta(seconds=1)), event("b")])
        async with replica_a.engine.begin() as conn:
            # Replica A is in the middle of claiming the oldest row.
            await conn.execute(select(inbox.c.id).where(inbox.c.dedupe_key == "a").with_for_update())
            claimed = await asyncio.wait_for(replica_b.claim_events(limit=10, now=NOW, lease_seconds=60), timeout=5)
            assert [c.event.dedupe_key for c in claimed] == ["b"]
    finally:
        await replica_a.close()
        await replica_b.close()


# ---------------------------------------------------------------------------------------------------------- tasks


async def test_tracked_task_round_trip_and_replace(store: SqlStore) -> None:
    assert await store.get_tracked_task(TaskGid("T100")) is None
    first = task(snapshot={"name": "x", "assignee": None, "tags": ["a", "ü"], "custom_fields": [{"gid": "1"}]})
    await store.save_tracked_task(first)
    assert await store.get_tracked_task(TaskGid("T100")) == first

    replaced = task(
        name="Renamed",
        snapshot={"completed": True},
        requester=SlackUserId("U9"),
        completed=True,
        updated_at=NOW + timedelta(hours=1),
    )
    await store.save_tracked_task(replaced)
    assert await store.get_tracked_task(TaskGid("T100")) == replaced


async def test_tracked_task_by_thread(store: SqlStore) -> None:
    await store.save_tracked_task(task("T1", "1.1"))
    await store.save_tracked_task(task("T2", "2.2"))
    found = await store.tracked_task_by_thread(T, C, MessageTs("2.2"))
    assert found is not None and found.task_gid == "T2"
    assert await store.tracked_task_by_thread(T, ChannelId("C-other"), MessageTs("2.2")) is None


async def test_a_thread_belongs_to_one_task(store: SqlStore) -> None:
    await store.save_tracked_task(task("T1", "1.1"))
    with pytest.raises(IntegrityError):
        await store.save_tracked_task(task("T2", "1.1"))
    assert await store.get_tracked_task(TaskGid("T2")) is None


async def test_user_settings_and_who_wants_assignment_dms(store: SqlStore) -> None:
    other = TeamId("T-other")
    cy = UserSettings(T, SlackUserId("U3"), AsanaUserGid("A3"), NOW, assignment_dms=True)
    await store.save_user_settings(cy)
    await store.save_user_settings(UserSettings(T, SlackUserId("U4"), AsanaUserGid("A3"), NOW))
    await store.save_user_settings(UserSettings(other, SlackUserId("U3"), AsanaUserGid("A3"), NOW, True))
    assert await store.get_user_settings(T, SlackUserId("U3")) == cy
    assert await store.assignment_dm_subscribers(T, AsanaUserGid("A3")) == ["U3"]
    await store.save_user_settings(replace(cy, assignment_dms=False, updated_at=NOW + timedelta(hours=1)))
    assert await store.assignment_dm_subscribers(T, AsanaUserGid("A3")) == []
    assert await store.get_user_settings(T, SlackUserId("U9")) is None


async def test_tracked_tasks_come_page_by_page_and_by_gid(store: SqlStore) -> None:
    for n in range(7):
        await store.save_tracked_task(task(f"T{n}", f"{n}.1", completed=n == 3))
    pages = [[t.task_gid for t in page] async for page in store.tracked_task_pages(open_only=True, size=4)]
    assert pages == [["T0", "T1", "T2", "T4"], ["T5", "T6"]]
    found = await store.tracked_tasks_of([TaskGid("T1"), TaskGid("T6"), TaskGid("nobody")])
    assert sorted(t.task_gid for t in found) == ["T1", "T6"]


async def test_subtasks_share_their_parents_thread(store: SqlStore) -> None:
    await store.save_tracked_task(task("T1", "1.1"))
    await store.save_tracked_task(task("S1", "1.1", parent_gid=TaskGid("T1")))
    await store.save_tracked_task(task("S2", "1.1", parent_gid=TaskGid("T1")))
    assert (await store.get_tracked_task(TaskGid("S2"))) == task("S2", "1.1", parent_gid=TaskGid("T1"))
    found = await store.tracked_task_by_thread(T, C, MessageTs("1.1"))
    assert found is not None and found.task_gid == "T1"  # Slack replies go to the parent


@pytest.mark.parametrize(
    ("project_gid", "open_only", "expected"),
    [
        (None, False, ["T1", "T2", "T3"]),
        (None, True, ["T1", "T3"]),
        (P, False, ["T1", "T2"]),
        (P, True, ["T1"]),
        (ProjectGid("999"), True, ["T3"]),
        (ProjectGid("nope"), False, []),
    ],
)
async def test_tracked_tasks_filters(
    store: SqlStore, project_gid: ProjectGid | None, open_only: bool, expected: list[str]
) -> None:
    await store.save_tracked_task(task("T3", "3.3", project_gid=ProjectGid("999"), created_at=NOW + timedelta(2)))
    await store.save_tracked_task(task("T2", "2.2", completed=True, created_at=NOW + timedelta(1)))
    await store.save_tracked_task(task("T1", "1.1"))
    got = await store.tracked_tasks(project_gid=project_gid, open_only=open_only)
    assert [t.task_gid for t in got] == expected


# ------------------------------------------------------------------------------------------------------- captures


async def test_a_message_is_captured_once(store: SqlStore) -> None:
    capture = Capture(team_id=T, channel_id=C, message_ts=MessageTs("1.5"), task_gid=None, created_at=NOW)
    assert await store.claim_capture(capture) is True
    assert await store.claim_capture(capture) is False
    assert await store.get_capture(T, C, MessageTs("1.5")) == capture
    assert await store.get_capture(T, C, MessageTs("9.9")) is None

    await store.set_capture_task(T, C, MessageTs("1.5"), TaskGid("T7"))
    got = await store.get_capture(T, C, MessageTs("1.5"))
    assert got is not None and got.task_gid == "T7"


async def test_release_capture_allows_a_retry_only_without_a_task(store: SqlStore) -> None:
    failed = Capture(team_id=T, channel_id=C, message_ts=MessageTs("1.5"), task_gid=None, created_at=NOW)
    assert await store.claim_capture(failed)
    await store.release_capture(T, C, MessageTs("1.5"))
    assert await store.get_capture(T, C, MessageTs("1.5")) is None
    assert await store.claim_capture(failed) is True

    await store.set_capture_task(T, C, MessageTs("1.5"), TaskGid("T7"))
    await store.release_capture(T, C, MessageTs("1.5"))
    assert await store.get_capture(T, C, MessageTs("1.5")) is not None
    assert await store.claim_capture(failed) is False


# ---------------------------------------------------------------------------------------------- keyed records


async def test_remember_slack_event(store: SqlStore) -> None:
    assert await store.remember_slack_event("Ev1", NOW) is True
    assert await store.remember_slack_event("Ev1", NOW + timedelta(seconds=5)) is False
    assert await store.remember_slack_event("Ev2", NOW) is True


async def test_slack_retries_racing_on_separate_connections_are_seen_once(database_url: str) -> None:
    stores = [await SqlStore.connect(database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(s.remember_slack_event("Ev1", NOW) for s in stores for _ in range(2)))
        assert sorted(results) == [False] * 7 + [True]
    finally:
        for s in stores:
            await s.close()


@pytest.mark.parametrize(
    "mapping",
    [
        UserMapping(T, SlackUserId("U1"), "ana@example.com", AsanaUserGid("A1"), NOW),
        UserMapping(T, SlackUserId("U1"), None, None, NOW),  # a negative result is cached too
    ],
    ids=["found", "not-found"],
)
async def test_user_mapping_round_trip_and_replace(store: SqlStore, mapping: UserMapping) -> None:
    assert await store.get_user_mapping(T, SlackUserId("U1")) is None
    await store.save_user_mapping(mapping)
    assert await store.get_user_mapping(T, SlackUserId("U1")) == mapping
    assert await store.get_user_mapping(TeamId("T2"), SlackUserId("U1")) is None
    newer = UserMapping(T, SlackUserId("U1"), "bo@example.com", AsanaUserGid("A2"), NOW + timedelta(hours=1))
    await store.save_user_mapping(newer)
    assert await store.get_user_mapping(T, SlackUserId("U1")) == newer


async def test_sync_token_round_trip_and_replace(store: SqlStore) -> None:
    assert await store.get_sync_token(P) is None
    await store.save_sync_token(SyncToken(P, "tok-1", NOW))
    assert await store.get_sync_token(P) == SyncToken(P, "tok-1", NOW)
    await store.save_sync_token(SyncToken(P, "tok-2", NOW + timedelta(minutes=1)))
    assert await store.get_sync_token(P) == SyncToken(P, "tok-2", NOW + timedelta(minutes=1))


async def test_record_nag_once_per_key(store: SqlStore) -> None:
    key = NagKey(TaskGid("T1"), "reminder", "overdue", "2026-03-02")
    assert await store.record_nag(key, now=NOW, message_ts=MessageTs("1.1")) is True
    assert await store.record_nag(key, now=NOW + timedelta(hours=1)) is False
    for other in (
        NagKey(TaskGid("T1"), "reminder", "overdue", "2026-03-03"),
        NagKey(TaskGid("T1"), "reminder", "due_today", "2026-03-02"),
        NagKey(TaskGid("T1"), "triage", "overdue", "2026-03-02"),
        NagKey(TaskGid("T2"), "reminder", "overdue", "2026-03-02"),
    ):
        assert await store.record_nag(other, now=NOW) is True


async def test_a_nag_is_claimed_once_by_its_message_and_can_be_released(store: SqlStore) -> None:
    task_gid, ts = TaskGid("T1"), MessageTs("1.1")
    key = NagKey(task_gid, "reminder", "upcoming", "2026-03-02")
    assert await store.posted_nag(task_gid, ts) is None
    await store.record_nag(key, now=NOW, message_ts=ts)
    assert await store.posted_nag(task_gid, ts) == PostedNag(key, NOW, ts)
    assert await store.posted_nag(TaskGid("T2"), ts) is None

    clicks = [
        store.claim_nag(task_gid, ts, by=SlackUserId(f"U{i}"), outcome=f"done by U{i}", now=NOW) for i in range(5)
    ]
    results = await asyncio.gather(*clicks)
    assert results.count(None) == 1
    winner = f"U{results.index(None)}"
    assert {r for r in results if r is not None} == {f"done by {winner}"}
    claimed = PostedNag(key, NOW, ts, NOW, SlackUserId(winner), f"done by {winner}")
    assert await store.posted_nag(task_gid, ts) == claimed

    await store.release_nag(task_gid, ts, by=SlackUserId("U-nobody"))  # only the claimer's claim is undone
    assert await store.claim_nag(task_gid, ts, by=SlackUserId("U9"), outcome="x", now=NOW) == f"done by {winner}"
    await store.release_nag(task_gid, ts, by=SlackUserId(winner))
    assert await store.posted_nag(task_gid, ts) == PostedNag(key, NOW, ts)
    assert await store.claim_nag(task_gid, ts, by=SlackUserId("U9"), outcome="snoozed", now=NOW) is None
    assert await store.sent_nags([task_gid]) == {key}


async def test_a_nag_message_the_log_does_not_know_is_claimed_once_too(store: SqlStore) -> None:
    task_gid, ts = TaskGid("T1"), MessageTs("9.9")  # a DM copy of a nag, say: the log has only the thread's ts
    clicks = [store.claim_nag(task_gid, ts, by=SlackUserId(f"U{i}"), outcome=f"U{i}", now=NOW) for i in range(3)]
    results = await asyncio.gather(*clicks)
    assert results.count(None) == 1
    posted = await store.posted_nag(task_gid, ts)
    assert posted is not None and posted.key == NagKey(task_gid, CLICKED_COPY, "", ts)
    assert posted.acted_by == posted.outcome == f"U{results.index(None)}"


# --------------------------------------------------------------------------------------------------------- outbox


async def test_outbox_post_is_added_once_and_marked_sent(store: SqlStore) -> None:
    first = post("k1")
    assert await store.get_outbox_post("k1") is None
    assert await store.add_outbox_post(first) is True
    assert await store.add_outbox_post(post("k1", payload={"text": "other"})) is False
    assert await store.get_outbox_post("k1") == first

    await store.mark_outbox_sent("k1", MessageTs("1700000001.000200"))
    sent = await store.get_outbox_post("k1")
    assert sent is not None
    assert sent.state is OutboxState.SENT and sent.message_ts == "1700000001.000200"
    assert sent.payload == first.payload


async def test_an_unsent_post_is_taken_over_once_from_what_was_read(store: SqlStore) -> None:
    await store.add_outbox_post(post("k1", sender="dead"))
    read = await store.get_outbox_post("k1")
    assert read is not None and read.sender == "dead"
    later = NOW + timedelta(seconds=30)
    assert await store.take_outbox_post(read, sender="r2", now=later)
    assert not await store.take_outbox_post(read, sender="r3", now=later)  # r2 took it since it was read
    taken = await store.get_outbox_post("k1")
    assert taken is not None and (taken.sender, taken.created_at) == ("r2", later)
    await store.mark_outbox_sent("k1", MessageTs("1.1"))
    sent = await store.get_outbox_post("k1")
    assert sent is not None and not await store.take_outbox_post(sent, sender="r3", now=later)


async def test_pending_outbox_posts_oldest_first(store: SqlStore) -> None:
    posts = [post(f"k{i}", at=NOW - timedelta(minutes=i), thread_ts=None) for i in range(4)]
    for item in posts:
        await store.add_outbox_post(item)
    await store.mark_outbox_sent("k3", MessageTs("1.1"))
    assert await store.pending_outbox_posts(limit=2) == [posts[2], posts[1]]
    assert await store.pending_outbox_posts(limit=10) == [posts[2], posts[1], posts[0]]


async def test_first_response_is_recorded_once(store: SqlStore) -> None:
    await store.save_tracked_task(task(ack_subtask_gid=TaskGid("T101")))
    assert await store.record_first_response(TaskGid("T100"), at=NOW, responder=SlackUserId("U2"))
    assert not await store.record_first_response(
        TaskGid("T100"), at=NOW + timedelta(hours=1), responder=SlackUserId("U3")
    )
    saved = await store.get_tracked_task(TaskGid("T100"))
    assert saved is not None and saved.first_response_at == NOW and saved.first_responder == "U2"
    assert saved.ack_subtask_gid == "T101"


async def test_comment_links(store: SqlStore) -> None:
    key = (TeamId("T1"), ChannelId("C1"), MessageTs("1700000000.000200"))
    comment = CommentLink(*key, task_gid=TaskGid("T100"), story_gid="S1", created_at=NOW)
    await store.save_comment_link(comment)
    await store.save_comment_link(replace(comment, story_gid="S2"))  # a retried reply keeps its first comment
    assert await store.get_comment_link(*key) == comment
    assert await store.is_bridge_comment("S1") and not await store.is_bridge_comment("S2")
    await store.delete_comment_link(*key)
    assert await store.get_comment_link(*key) is None
