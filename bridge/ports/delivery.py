"""Posting and staying alive: the outbox, routing, replicas and leadership."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from bridge.domain.model import (
    MessageTs,
    OutboxPost,
    ProjectGid,
    RoutedTask,
    TaskGid,
)


class Liveness(Protocol):
    """Whether a replica is alive (its heartbeats)."""

    async def replica_alive(self, replica_id: str, *, now: datetime, alive_within: timedelta) -> bool:
        """Whether the replica has heartbeated within `alive_within`."""
        ...


class OutboxStore(Liveness, Protocol):
    """Slack posts recorded before they are sent; a post held by a dead replica may be taken over."""

    async def add_outbox_post(self, post: OutboxPost) -> bool:
        """Insert; False if post_key exists already."""
        ...

    async def mark_outbox_sent(self, post_key: str, message_ts: MessageTs) -> None: ...

    async def take_outbox_post(self, previous: OutboxPost, *, sender: str | None, now: datetime) -> bool:
        """Make `sender` the one sending a pending post, if nobody took it since `previous` was read."""
        ...

    async def pending_outbox_posts(self, *, limit: int) -> list[OutboxPost]: ...

    async def get_outbox_post(self, post_key: str) -> OutboxPost | None: ...


class RoutingStore(Protocol):
    """Which tasks were routed to whom, and how many each person got."""

    async def claim_routing(self, routed: RoutedTask) -> bool:
        """Record a task's first routing; False when it was routed already (by another worker or run)."""
        ...

    async def save_routing(self, routed: RoutedTask) -> None: ...

    async def get_routing(self, task_gid: TaskGid) -> RoutedTask | None: ...

    async def open_routings(self) -> list[RoutedTask]: ...

    async def count_routing(self, project_gid: ProjectGid, email: str, *, at: datetime) -> None: ...

    async def routing_counts(self, project_gid: ProjectGid) -> tuple[dict[str, int], str | None]:
        """Tasks routed to each person from the project, and who got the latest one."""
        ...


class ReplicaStore(Liveness, Protocol):
    """Replicas say they are alive, and leave."""

    async def heartbeat(self, replica_id: str, *, now: datetime, alive_within: timedelta) -> int:
        """Say this replica is alive; how many replicas (itself included) were seen within `alive_within`."""
        ...

    async def leave(self, replica_id: str) -> None: ...


class Leadership(Protocol):
    """The one replica that runs a role (the nag tick)."""

    async def lead(self, role: str) -> bool:
        """True while this process is the one replica that runs `role`; tries to take it when nobody does."""
        ...
