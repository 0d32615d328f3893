"""Everything one emulated Asana holds: records, clock, event log, deliveries, rendering, pagination."""

from __future__ import annotations

from typing import Any

from bridge.sandbox.asana.clock import Clock, iso
from bridge.sandbox.asana.delivery import DeliveryEngine, DeliverySettings
from bridge.sandbox.asana.events import EventHub
from bridge.sandbox.asana.model import Compact, Event, Story, Task, User
from bridge.sandbox.asana.oauth import OAuthServer
from bridge.sandbox.asana.pagination import Paginator
from bridge.sandbox.asana.render import Renderer
from bridge.sandbox.asana.store import Store


class World:
    """The state shared by the HTTP handlers and the "human in Asana" helpers, so both emit the same events."""

    def __init__(self, clock: Clock, settings: DeliverySettings, seed: int = 0) -> None:
        self.clock = clock
        self.store = Store()
        self.delivery = DeliveryEngine(self.store, clock, settings, seed)
        self.hub = EventHub(clock, self.delivery.publish)
        self.renderer = Renderer(self.store, settings.failure_window)
        self.paginator = Paginator()
        self.api_url = ""  # http://host:port/api/1.0 once started
        self.oauth = OAuthServer(self)

    def emit(
        self,
        actor: User | None,
        action: str,
        resource: Compact,
        targets: set[str],
        *,
        parent: Compact | None = None,
        change: dict[str, Any] | None = None,
    ) -> Event:
        event = Event(
            user=actor.gid if actor else None,
            created_at=iso(self.clock.now()),
            action=action,
            resource=resource,
            parent=parent,
            change=change,
        )
        self.hub.publish(event, targets)
        return event

    def touch(self, task: Task) -> None:
        task.modified_at = self.clock.now()


def task_compact(task: Task) -> Compact:
    return Compact(task.gid, "task", task.resource_subtype)


def story_compact(story: Story) -> Compact:
    return Compact(story.gid, "story", story.resource_subtype)


def user_compact(gid: str | None) -> dict[str, Any] | None:
    return {"gid": gid, "resource_type": "user"} if gid else None
