"""The Asana gateway: the calls the bridge makes, each what to ask and how to read the answer (AsanaPort).

How a call reaches Asana (off the loop, paced, retried when safe) is adapters/asana_transport.py; the JSON each
answer becomes is adapters/asana_json.py.
"""

from __future__ import annotations

import contextlib
import copy
from datetime import date
from typing import Any

import asana
from asana.rest import ApiException

from bridge.adapters.asana_json import (
    CUSTOM_FIELD_SETTING_FIELDS,
    LISTED_TASK_FIELDS,
    PROJECT_ACCESS_FIELDS,
    PROJECT_FIELDS,
    TASK_FIELDS,
    USER_FIELDS,
    WEBHOOK_FIELDS,
    custom_field_from,
    project_access_from,
    project_from,
    user_from,
    webhook_from,
)
from bridge.adapters.asana_tasks import AsanaTaskCalls
from bridge.adapters.asana_transport import AsanaTransport, json_body
from bridge.adapters.limits import RateLimiter
from bridge.domain.access import ProjectAccess
from bridge.domain.model import AsanaUserGid, WorkspaceGid
from bridge.domain.work import (
    AsanaUser,
    CustomField,
    EventsPage,
    Project,
    Section,
    Webhook,
    iso_day,
)
from bridge.errors import AsanaError, AsanaNotFound, SyncTokenExpired
from bridge.metrics import Metrics

__all__ = ["LISTED_TASK_FIELDS", "TASK_FIELDS", "AsanaGateway"]


class AsanaGateway(AsanaTaskCalls):
    """AsanaPort over one paced client: people, projects, webhooks and events here; tasks and stories in
    AsanaTaskCalls."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        requests_per_minute: int = 150,
        timeout_seconds: int = 30,
        max_threads: int = 16,
        max_attempts: int = 6,
        metrics: Metrics | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._transport = AsanaTransport(
            base_url=base_url,
            token=token,
            requests_per_minute=requests_per_minute,
            timeout_seconds=timeout_seconds,
            max_threads=max_threads,
            max_attempts=max_attempts,
            metrics=metrics,
            limiter=limiter,
        )
        client = self._transport.client
        self.tasks = asana.TasksApi(client)
        self.users = asana.UsersApi(client)
        self.projects = asana.ProjectsApi(client)
        self.sections = asana.SectionsApi(client)
        self.stories = asana.StoriesApi(client)
        self.webhooks = asana.WebhooksApi(client)
        self.events = asana.EventsApi(client)
        self.custom_field_settings = asana.CustomFieldSettingsApi(client)
        self.ooo_entries = asana.OooEntriesApi(client)
        self.workspace_memberships = asana.WorkspaceMembershipsApi(client)

    def acting_as(self, token: str) -> AsanaGateway:
        """The same gateway (client, threads, pace) making its calls with a person's OAuth access token."""
        person = copy.copy(self)
        person._transport = self._transport.acting_as(token)
        return person

    @property
    def limiter(self) -> RateLimiter:
        """The quota pace of this process (replicas on one token each take a share of it)."""
        return self._transport.limiter

    @property
    def calls(self) -> int:
        """Every HTTP call made, for tests and benchmarks that count API cost."""
        return self._transport.calls

    def close(self) -> None:
        self._transport.close()

    # ---- users -------------------------------------------------------------------------------------------

    async def me(self) -> AsanaUser:
        data = await self._transport.call("users.me", self.users.get_user, "me", {"opt_fields": USER_FIELDS})
        return user_from(data)

    async def user_by_email(self, email: str, workspace_gid: WorkspaceGid) -> AsanaUser | None:
        try:
            data = await self._transport.call(
                "users.get", self.users.get_user, email, {"opt_fields": USER_FIELDS, "workspace": workspace_gid}
            )
        except AsanaNotFound:
            return None
        return user_from(data)

    async def out_of_office(
        self, user_gid: AsanaUserGid, workspace_gid: WorkspaceGid, *, start: date, end: date
    ) -> list[tuple[date, date]]:
        rows = await self._transport.call_list(
            "ooo_entries.list",
            self.ooo_entries.get_ooo_entries,
            user_gid,
            workspace_gid,
            {"start_date": start.isoformat(), "end_date": end.isoformat(), "opt_fields": "start_date,end_date"},
        )
        return [
            (first, last)
            for row in rows
            if (first := iso_day(row.get("start_date"))) is not None and (last := iso_day(row.get("end_date")))
        ]

    # ---- projects ----------------------------------------------------------------------------------------

    async def project(self, project_gid: str) -> Project:
        data = await self._transport.call(
            "projects.get",
            self.projects.get_project,
            project_gid,
            {"opt_fields": PROJECT_FIELDS},
        )
        return project_from(data)

    async def project_access(self, project_gid: str) -> ProjectAccess:
        """Who Asana lets see a project: its privacy setting, its team and its members (one read)."""
        data = await self._transport.call(
            "projects.access",
            self.projects.get_project,
            project_gid,
            {"opt_fields": PROJECT_ACCESS_FIELDS},
        )
        return project_access_from(data)

    async def team_members(self, team_gid: str) -> list[AsanaUserGid]:
        rows = await self._transport.call_list(
            "teams.users", self.users.get_users_for_team, team_gid, {"opt_fields": "name"}
        )
        return [AsanaUserGid(str(row["gid"])) for row in rows]

    async def is_guest(self, user_gid: str, workspace_gid: str) -> bool:
        """Whether the user is a guest of the workspace (a guest sees only what is shared with them)."""
        rows = await self._transport.call_list(
            "users.workspace_memberships",
            self.workspace_memberships.get_workspace_memberships_for_user,
            user_gid,
            {"opt_fields": "is_guest,workspace"},
        )
        return any(
            bool(row.get("is_guest")) for row in rows if (row.get("workspace") or {}).get("gid") == workspace_gid
        )

    async def sections_of(self, project_gid: str) -> list[Section]:
        rows = await self._transport.call_list(
            "sections.list", self.sections.get_sections_for_project, project_gid, {"opt_fields": "name"}
        )
        return [Section(gid=row["gid"], name=row.get("name") or "") for row in rows]

    async def create_section(self, project_gid: str, name: str) -> Section:
        data = await self._transport.call(
            "sections.create",
            self.sections.create_section_for_project,
            project_gid,
            {"body": {"data": {"name": name}}},
            write=True,
        )
        return Section(gid=data["gid"], name=data.get("name") or name)

    async def custom_fields_of(self, project_gid: str) -> list[CustomField]:
        rows = await self._transport.call_list(
            "custom_field_settings.list",
            self.custom_field_settings.get_custom_field_settings_for_project,
            project_gid,
            {"opt_fields": CUSTOM_FIELD_SETTING_FIELDS},
        )
        return [custom_field_from(row["custom_field"]) for row in rows if row.get("custom_field")]

    # ---- webhooks and events -----------------------------------------------------------------------------

    async def create_webhook(self, resource_gid: str, target: str, filters: list[dict[str, Any]]) -> tuple[str, str]:
        """Create a webhook; Asana performs the X-Hook-Secret handshake against `target` before this returns."""
        payload = await self._transport.call(
            "webhooks.create",
            self.webhooks.create_webhook,
            {"data": {"resource": resource_gid, "target": target, "filters": filters}},
            {"opt_fields": WEBHOOK_FIELDS},
            full_payload=True,  # without it the client drops the X-Hook-Secret beside `data`
            write=True,
        )
        return str(payload["data"]["gid"]), str(payload.get("X-Hook-Secret") or "")

    async def delete_webhook(self, webhook_gid: str) -> None:
        # Already gone is fine: Asana deletes webhooks whose deliveries failed for 24 h.
        with contextlib.suppress(AsanaNotFound):
            await self._transport.call(
                "webhooks.delete", self.webhooks.delete_webhook, webhook_gid, write=True, idempotent=True
            )

    async def webhooks_of(self, workspace_gid: str, resource_gid: str | None = None) -> list[Webhook]:
        opts: dict[str, Any] = {"opt_fields": WEBHOOK_FIELDS}
        if resource_gid:
            opts["resource"] = resource_gid
        rows = await self._transport.call_list("webhooks.list", self.webhooks.get_webhooks, workspace_gid, opts)
        return [webhook_from(row) for row in rows]

    async def events_since(self, resource_gid: str, sync: str | None) -> EventsPage:
        """One page of the Events API; raises SyncTokenExpired with the new token on 412."""
        opts: dict[str, Any] = {"resource": resource_gid}
        if sync:
            opts["sync"] = sync
        try:
            # The client's EventIterator hides the sync token (python-asana #199/#200): call the raw endpoint.
            payload = await self._transport.call(
                "events.get",
                self.events.get_events,
                resource_gid,
                opts,
                full_payload=True,
            )
        except AsanaError as exc:
            if exc.status == 412 and isinstance(exc.__cause__, ApiException):
                raise SyncTokenExpired(json_body(exc.__cause__.body).get("sync", "")) from None
            raise
        return EventsPage(
            events=tuple(payload.get("data") or ()),
            sync=str(payload.get("sync", "")),
            has_more=bool(payload.get("has_more")),
        )
