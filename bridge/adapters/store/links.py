"""Links (channel → project) and their Asana webhook registrations."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select, update

from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.crypto import Cipher, seal, unseal
from bridge.adapters.store.engine import dialect_insert
from bridge.adapters.store.tables import links, webhooks
from bridge.domain.model import (
    CaptureMode,
    ChannelId,
    Link,
    ProjectGid,
    SlackUserId,
    TeamId,
    WebhookRegistration,
    WebhookStatus,
    WorkspaceGid,
)

# A link found is kept in memory this long: every /task and every message in a channel asks, links change rarely,
# and a change made here clears it at once (one made on another replica is seen within this time).
LINK_MEMORY_SECONDS = 5.0


class SqlLinks(SqlBase):
    _known_links: dict[tuple[str, str], tuple[float, Link]]
    _reading_links: dict[tuple[str, str], asyncio.Future[Link | None]]
    _link_changes: dict[tuple[str, str], int]

    async def save_link(self, link: Link) -> None:
        self._forget_link(link.team_id, link.channel_id)
        values = _link_values(link)
        async with self._write() as conn:
            stmt = dialect_insert(conn, links).values(values)
            keys = ("team_id", "channel_id")
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=keys, set_={k: stmt.excluded[k] for k in values if k not in keys}
                )
            )
        self._forget_link(link.team_id, link.channel_id)  # again: a read during the write may have kept the old one

    async def get_link(self, team_id: TeamId, channel_id: ChannelId) -> Link | None:
        known = self._link_memory().get((team_id, channel_id))
        if known is not None and time.monotonic() - known[0] < LINK_MEMORY_SECONDS:
            return known[1]
        # A burst of commands in one channel finds the memory empty at once: one of them reads, the others wait for
        # that read instead of each making their own.
        reads = self._link_reads()
        pending = reads.get((team_id, channel_id))
        if pending is not None:
            return await asyncio.shield(pending)
        reading = reads[(team_id, channel_id)] = asyncio.ensure_future(self._read_link(team_id, channel_id))
        try:
            return await asyncio.shield(reading)
        finally:
            if reads.get((team_id, channel_id)) is reading:
                del reads[(team_id, channel_id)]

    async def _read_link(self, team_id: TeamId, channel_id: ChannelId) -> Link | None:
        changes = self._changes_to_links()
        seen = changes.get((team_id, channel_id), 0)
        async with self._read() as conn:
            row = (
                await conn.execute(select(links).where(links.c.team_id == team_id, links.c.channel_id == channel_id))
            ).first()
        if row is None:
            return None  # not kept: a channel linked on another replica must be seen at once
        found = _link(row)
        if changes.get((team_id, channel_id), 0) == seen:  # a change written meanwhile: what was read is stale
            self._link_memory()[(team_id, channel_id)] = (time.monotonic(), found)
        return found

    def _link_reads(self) -> dict[tuple[str, str], asyncio.Future[Link | None]]:
        if not hasattr(self, "_reading_links"):
            self._reading_links = {}
        return self._reading_links

    def _link_memory(self) -> dict[tuple[str, str], tuple[float, Link]]:
        if not hasattr(self, "_known_links"):
            self._known_links = {}
        return self._known_links

    def _changes_to_links(self) -> dict[tuple[str, str], int]:
        if not hasattr(self, "_link_changes"):
            self._link_changes = {}
        return self._link_changes

    def _forget_link(self, team_id: TeamId, channel_id: ChannelId) -> None:
        """A change is being written: forget the link, and let no read already on its way keep (or share) what it
        finds, which may be from before the change."""
        key = (team_id, channel_id)
        self._link_memory().pop(key, None)
        self._link_reads().pop(key, None)
        changes = self._changes_to_links()
        changes[key] = changes.get(key, 0) + 1

    async def links_for_project(self, project_gid: ProjectGid) -> list[Link]:
        async with self._read() as conn:
            rows = await conn.execute(
                select(links).where(links.c.project_gid == project_gid).order_by(links.c.team_id, links.c.channel_id)
            )
            return [_link(row) for row in rows]

    async def list_links(self) -> list[Link]:
        async with self._read() as conn:
            rows = await conn.execute(select(links).order_by(links.c.team_id, links.c.channel_id))
            return [_link(row) for row in rows]

    async def delete_link(self, team_id: TeamId, channel_id: ChannelId) -> bool:
        self._forget_link(team_id, channel_id)
        async with self._write() as conn:
            result = await conn.execute(
                delete(links).where(links.c.team_id == team_id, links.c.channel_id == channel_id)
            )
        self._forget_link(team_id, channel_id)
        return result.rowcount > 0


class SqlWebhooks(SqlBase):
    async def save_webhook(self, registration: WebhookRegistration) -> None:
        values = _webhook_values(registration, self._cipher)
        async with self._write() as conn:
            stmt = dialect_insert(conn, webhooks).values(values)
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["hook_key"], set_={k: stmt.excluded[k] for k in values if k != "hook_key"}
                )
            )

    async def get_webhook(self, hook_key: str) -> WebhookRegistration | None:
        async with self._read() as conn:
            row = (await conn.execute(select(webhooks).where(webhooks.c.hook_key == hook_key))).first()
        return None if row is None else _webhook(row, self._cipher)

    async def webhooks_for_project(self, project_gid: ProjectGid) -> list[WebhookRegistration]:
        async with self._read() as conn:
            rows = await conn.execute(
                select(webhooks).where(webhooks.c.project_gid == project_gid).order_by(webhooks.c.created_at)
            )
            return [_webhook(row, self._cipher) for row in rows]

    async def list_webhooks(self) -> list[WebhookRegistration]:
        async with self._read() as conn:
            rows = await conn.execute(select(webhooks).order_by(webhooks.c.created_at, webhooks.c.hook_key))
            return [_webhook(row, self._cipher) for row in rows]

    async def complete_handshake(self, hook_key: str, secret: str) -> bool:
        # Compare-and-set in one statement: of two racing handshakes exactly one matches the WHERE clause.
        async with self._write() as conn:
            result = await conn.execute(
                update(webhooks)
                .where(
                    webhooks.c.hook_key == hook_key,
                    webhooks.c.status == WebhookStatus.PENDING.value,
                    webhooks.c.secret.is_(None),
                )
                .values(secret=seal(self._cipher, secret), status=WebhookStatus.ACTIVE.value)
            )
            return result.rowcount == 1

    async def delete_webhook(self, hook_key: str) -> bool:
        async with self._write() as conn:
            result = await conn.execute(delete(webhooks).where(webhooks.c.hook_key == hook_key))
            return result.rowcount > 0

    async def mark_webhook_alerted(self, hook_key: str, failure_at: datetime) -> bool:
        # An UPDATE, not an upsert: a registration removed meanwhile (unlink) must stay removed.
        async with self._write() as conn:
            result = await conn.execute(
                update(webhooks).where(webhooks.c.hook_key == hook_key).values(failure_alerted_at=failure_at)
            )
            return result.rowcount == 1


def _link_values(link: Link) -> dict[str, Any]:
    return {
        "team_id": link.team_id,
        "channel_id": link.channel_id,
        "project_gid": link.project_gid,
        "project_name": link.project_name,
        "workspace_gid": link.workspace_gid,
        "created_by": link.created_by,
        "created_at": link.created_at,
        "triage_section_gid": link.triage_section_gid,
        "priority_field_gid": link.priority_field_gid,
        "capture_mode": CaptureMode(link.capture_mode).value,
        "relay_kinds": None if link.relay_kinds is None else ",".join(sorted(link.relay_kinds)),
        "quiet": link.quiet,
    }


def _link(row: Row[Any]) -> Link:
    m = row._mapping
    return Link(
        team_id=TeamId(m["team_id"]),
        channel_id=ChannelId(m["channel_id"]),
        project_gid=ProjectGid(m["project_gid"]),
        project_name=m["project_name"],
        workspace_gid=WorkspaceGid(m["workspace_gid"]),
        created_by=SlackUserId(m["created_by"]),
        created_at=m["created_at"],
        triage_section_gid=m["triage_section_gid"],
        priority_field_gid=m["priority_field_gid"],
        capture_mode=CaptureMode(m["capture_mode"]),
        relay_kinds=None if m["relay_kinds"] is None else frozenset(k for k in m["relay_kinds"].split(",") if k),
        quiet=bool(m["quiet"]),
    )


def _webhook_values(registration: WebhookRegistration, cipher: Cipher | None) -> dict[str, Any]:
    return {
        "hook_key": registration.hook_key,
        "team_id": registration.team_id,
        "channel_id": registration.channel_id,
        "project_gid": registration.project_gid,
        "status": WebhookStatus(registration.status).value,
        "created_at": registration.created_at,
        "webhook_gid": registration.webhook_gid,
        "secret": seal(cipher, registration.secret),
        "failure_alerted_at": registration.failure_alerted_at,
    }


def _webhook(row: Row[Any], cipher: Cipher | None) -> WebhookRegistration:
    m = row._mapping
    return WebhookRegistration(
        hook_key=m["hook_key"],
        team_id=TeamId(m["team_id"]),
        channel_id=ChannelId(m["channel_id"]),
        project_gid=ProjectGid(m["project_gid"]),
        status=WebhookStatus(m["status"]),
        created_at=m["created_at"],
        webhook_gid=m["webhook_gid"],
        secret=unseal(cipher, None if m["secret"] is None else str(m["secret"])),
        failure_alerted_at=m["failure_alerted_at"],
    )
