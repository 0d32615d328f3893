"""The Asana gateway: the official (blocking) `asana` client run in a bounded thread pool, paced and retried.

Why the care: the client blocks, and Asana's webhook handshake arrives while `create_webhook` is still open, so
no call may run on the event loop. The client never retries POSTs on 429, ends GET retries in MaxRetryError,
has no default timeout and ignores float timeouts (reference/asana.md §6.5): all of that is handled here.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import asana
import urllib3
from asana.rest import ApiException
from urllib3.util.retry import Retry

from bridge.adapters.limits import RateLimiter
from bridge.domain.access import ProjectAccess, privacy_of
from bridge.domain.model import AsanaUserGid, ProjectGid, TaskGid, WorkspaceGid
from bridge.domain.work import (
    AsanaUser,
    CustomField,
    EnumOption,
    EventsPage,
    Project,
    Section,
    Story,
    Task,
    TaskDraft,
    Webhook,
    iso_day,
)
from bridge.errors import (
    AsanaBadRequest,
    AsanaError,
    AsanaForbidden,
    AsanaNotFound,
    AsanaRateLimited,
    AsanaUnavailable,
    SyncTokenExpired,
)
from bridge.metrics import Metrics

log = logging.getLogger(__name__)
T = TypeVar("T")

TASK_FIELDS = (
    "name,notes,completed,completed_at,assignee,assignee.name,due_on,due_at,permalink_url,modified_at,created_at,"
    "projects,memberships.project,memberships.section.name,custom_fields.name,custom_fields.enum_value.name,"
    # Enough of each custom field for nags to offer its options and to tell whether it is set, without a read.
    "custom_fields.resource_subtype,custom_fields.display_value,custom_fields.enum_options.name,"
    "custom_fields.enum_options.enabled,parent,followers,completed_by.name"
)
# Enough to find a task by its notes marker and to compare it with a stored snapshot (domain.relay.same_facts).
LISTED_TASK_FIELDS = (
    "name,notes,permalink_url,completed,assignee,due_on,due_at,projects,created_at,modified_at,"
    "memberships.project,memberships.section.name,custom_fields.name,custom_fields.enum_value.name"
)
USER_FIELDS = "name,email,workspaces"
WEBHOOK_FIELDS = "resource,target,active,last_failure_at,last_failure_content,delivery_retry_count"
# Asana's concurrency caps are per token: 50 reads and 15 writes in flight (reference/asana.md §3.1).
MAX_READS_IN_FLIGHT = 50
PAGE_SIZE = 100  # the most Asana returns per page
MAX_WRITES_IN_FLIGHT = 15


class _Configuration(asana.Configuration):  # type: ignore[misc]
    """The client's configuration, whose token can be a person's for the call running on this thread: one client
    (one connection pool, one thread pool) serves the bridge's token and every connected person's."""

    person = threading.local()

    def auth_settings(self) -> dict[str, Any]:
        token = getattr(self.person, "token", None) or self.access_token
        return {"token": {"type": "token", "in": "header", "key": "Authorization", "value": "Bearer " + token}}


class AsanaGateway:
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
        config = _Configuration()
        config.host = base_url.rstrip("/")
        config.access_token = token
        # Retries are ours (429 for every method, Retry-After shared by all callers), so urllib3 makes none.
        config.retry_strategy = Retry(total=0, connect=0, read=0, status=0, redirect=0, raise_on_status=False)
        config.connection_pool_maxsize = max_threads
        self._client = asana.ApiClient(config)
        self._pool = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="asana")
        self._limiter = limiter or RateLimiter(requests_per_minute)
        # A call is stamped by the limiter only once a thread is free to send it, so it reaches Asana right away.
        self._threads = asyncio.Semaphore(max_threads)
        self._reads = asyncio.Semaphore(MAX_READS_IN_FLIGHT)
        self._writes = asyncio.Semaphore(MAX_WRITES_IN_FLIGHT)
        self._timeout = int(timeout_seconds)  # the client silently ignores float timeouts
        self._max_attempts = max_attempts
        self._metrics = metrics
        self.calls = 0  # every HTTP call made, for tests and benchmarks that count API cost
        self._person_token: str | None = None
        self.tasks = asana.TasksApi(self._client)
        self.users = asana.UsersApi(self._client)
        self.projects = asana.ProjectsApi(self._client)
        self.sections = asana.SectionsApi(self._client)
        self.stories = asana.StoriesApi(self._client)
        self.webhooks = asana.WebhooksApi(self._client)
        self.events = asana.EventsApi(self._client)
        self.custom_field_settings = asana.CustomFieldSettingsApi(self._client)
        self.ooo_entries = asana.OooEntriesApi(self._client)
        self.workspace_memberships = asana.WorkspaceMembershipsApi(self._client)

    def acting_as(self, token: str) -> AsanaGateway:
        """The same gateway (client, threads, pace) making its calls with a person's OAuth access token."""
        person = copy.copy(self)
        person._person_token = token
        return person

    @property
    def limiter(self) -> RateLimiter:
        """The quota pace of this process (replicas on one token each take a share of it)."""
        return self._limiter

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.rest_client.pool_manager.clear()
        # The client starts a multiprocessing ThreadPool of its own that its __del__ joins noisily at exit.
        pool = getattr(self._client, "pool", None)
        if pool is not None:
            pool.close()
            pool.join()
            del self._client.pool

    # ---- users -------------------------------------------------------------------------------------------

    async def me(self) -> AsanaUser:
        data = await self._call("users.me", self.users.get_user, "me", {"opt_fields": USER_FIELDS})
        return _user(data)

    async def user_by_email(self, email: str, workspace_gid: WorkspaceGid) -> AsanaUser | None:
        try:
            data = await self._call(
                "users.get", self.users.get_user, email, {"opt_fields": USER_FIELDS, "workspace": workspace_gid}
            )
        except AsanaNotFound:
            return None
        return _user(data)

    async def out_of_office(
        self, user_gid: AsanaUserGid, workspace_gid: WorkspaceGid, *, start: date, end: date
    ) -> list[tuple[date, date]]:
        rows = await self._call_list(
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
        data = await self._call(
            "projects.get",
            self.projects.get_project,
            project_gid,
            {"opt_fields": "name,workspace,permalink_url,archived"},
        )
        return Project(
            gid=ProjectGid(data["gid"]),
            name=data.get("name") or "",
            workspace_gid=WorkspaceGid((data.get("workspace") or {}).get("gid", "")),
            permalink_url=data.get("permalink_url"),
            archived=bool(data.get("archived")),
        )

    async def project_access(self, project_gid: str) -> ProjectAccess:
        """Who Asana lets see a project: its privacy setting, its team and its members (one read)."""
        data = await self._call(
            "projects.access",
            self.projects.get_project,
            project_gid,
            {"opt_fields": "privacy_setting,team,team.name,members"},
        )
        team = data.get("team") or {}
        return ProjectAccess(
            privacy=privacy_of(data.get("privacy_setting")),
            members=frozenset(AsanaUserGid(str(m["gid"])) for m in data.get("members") or () if m.get("gid")),
            team_gid=str(team["gid"]) if team.get("gid") else None,
            team_name=team.get("name"),
        )

    async def team_members(self, team_gid: str) -> list[AsanaUserGid]:
        rows = await self._call_list("teams.users", self.users.get_users_for_team, team_gid, {"opt_fields": "name"})
        return [AsanaUserGid(str(row["gid"])) for row in rows]

    async def is_guest(self, user_gid: str, workspace_gid: str) -> bool:
        """Whether the user is a guest of the workspace (a guest sees only what is shared with them)."""
        rows = await self._call_list(
            "users.workspace_memberships",
            self.workspace_memberships.get_workspace_memberships_for_user,
            user_gid,
            {"opt_fields": "is_guest,workspace"},
        )
        return any(
            bool(row.get("is_guest")) for row in rows if (row.get("workspace") or {}).get("gid") == workspace_gid
        )

    async def sections_of(self, project_gid: str) -> list[Section]:
        rows = await self._call_list(
            "sections.list", self.sections.get_sections_for_project, project_gid, {"opt_fields": "name"}
        )
        return [Section(gid=row["gid"], name=row.get("name") or "") for row in rows]

    async def create_section(self, project_gid: str, name: str) -> Section:
        data = await self._call(
            "sections.create",
            self.sections.create_section_for_project,
            project_gid,
            {"body": {"data": {"name": name}}},
            write=True,
        )
        return Section(gid=data["gid"], name=data.get("name") or name)

    async def custom_fields_of(self, project_gid: str) -> list[CustomField]:
        rows = await self._call_list(
            "custom_field_settings.list",
            self.custom_field_settings.get_custom_field_settings_for_project,
            project_gid,
            {
                "opt_fields": "custom_field.name,custom_field.resource_subtype,custom_field.enum_options.name,"
                "custom_field.enum_options.enabled"
            },
        )
        return [_custom_field(row["custom_field"]) for row in rows if row.get("custom_field")]

    # ---- tasks -------------------------------------------------------------------------------------------

    async def create_task(self, draft: TaskDraft) -> Task:
        data = await self._call(
            "tasks.create",
            self.tasks.create_task,
            {"data": _draft_body(draft)},
            {"opt_fields": TASK_FIELDS},
            write=True,
        )
        return _task(data)

    async def create_subtask(self, parent: TaskGid, name: str, *, assignee: AsanaUserGid | None = None) -> Task:
        body: dict[str, Any] = {"name": name}
        if assignee:
            body["assignee"] = assignee
        data = await self._call(
            "tasks.subtask",
            self.tasks.create_subtask_for_task,
            {"data": body},
            parent,
            {"opt_fields": TASK_FIELDS},
            write=True,
        )
        return _task(data)

    async def task(self, task_gid: str) -> Task:
        data = await self._call("tasks.get", self.tasks.get_task, task_gid, {"opt_fields": TASK_FIELDS})
        return _task(data)

    async def update_task(self, task_gid: str, changes: dict[str, Any]) -> Task:
        data = await self._call(
            "tasks.update",
            self.tasks.update_task,
            {"data": changes},
            task_gid,
            {"opt_fields": TASK_FIELDS},
            write=True,
            idempotent=True,
        )
        return _task(data)

    async def add_to_project(self, task_gid: str, project_gid: str, *, section_gid: str | None = None) -> None:
        body: dict[str, Any] = {"project": project_gid}
        if section_gid:
            body["section"] = section_gid
        # Adding a task to a project it is in already only moves it: safe to repeat.
        await self._call(
            "tasks.add_project", self.tasks.add_project_for_task, {"data": body}, task_gid, write=True, idempotent=True
        )

    async def add_followers(self, task_gid: str, users: Sequence[str]) -> None:
        # Following a task one follows already changes nothing: safe to repeat.
        await self._call(
            "tasks.add_followers",
            self.tasks.add_followers_for_task,
            {"data": {"followers": list(users)}},
            task_gid,
            {"opt_fields": "name"},  # the smallest answer the spec allows; the task itself is not needed
            write=True,
            idempotent=True,
        )

    async def comment(self, task_gid: str, text: str) -> str:
        data = await self._call(
            "stories.create",
            self.stories.create_story_for_task,
            {"data": {"text": text}},
            task_gid,
            {"opt_fields": "text"},
            write=True,
        )
        return str(data["gid"])

    async def story(self, story_gid: str) -> Story:
        data = await self._call(
            "stories.get",
            self.stories.get_story,
            story_gid,
            {"opt_fields": "text,resource_subtype,created_by.name,target"},
        )
        return _story(data)

    async def comments_of(self, task_gid: str) -> list[Story]:
        """A task's comments, oldest first (the suggestion index's backfill: one paged read per task)."""
        rows = await self._call_list(
            "stories.list",
            self.stories.get_stories_for_task,
            task_gid,
            {"opt_fields": "text,resource_subtype,created_by.name"},
        )
        return [_story(row) for row in rows if row.get("resource_subtype") == "comment_added"]

    async def edit_comment(self, story_gid: str, text: str) -> None:
        await self._call(
            "stories.update",
            self.stories.update_story,
            {"data": {"text": text}},
            story_gid,
            {"opt_fields": "text"},
            write=True,
            idempotent=True,
        )

    async def delete_task(self, task_gid: str) -> None:
        """Delete a task (an undone /task); one already gone is what was wanted."""
        with contextlib.suppress(AsanaNotFound):
            await self._call("tasks.delete", self.tasks.delete_task, task_gid, write=True, idempotent=True)

    async def delete_comment(self, story_gid: str) -> None:
        with contextlib.suppress(AsanaNotFound):
            await self._call("stories.delete", self.stories.delete_story, story_gid, write=True, idempotent=True)

    async def tasks_modified_since(self, project_gid: str, since: datetime) -> list[Task]:
        """Tasks of a project changed since a moment: one paginated read (used to find a task after a lost answer)."""
        rows = await self._call_list(
            "tasks.list",
            self.tasks.get_tasks,
            {
                "project": project_gid,
                "modified_since": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "opt_fields": LISTED_TASK_FIELDS,
            },
        )
        return [_task(row) for row in rows]

    # ---- webhooks and events -----------------------------------------------------------------------------

    async def create_webhook(self, resource_gid: str, target: str, filters: list[dict[str, Any]]) -> tuple[str, str]:
        """Create a webhook; Asana performs the X-Hook-Secret handshake against `target` before this returns."""
        payload = await self._call(
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
            await self._call("webhooks.delete", self.webhooks.delete_webhook, webhook_gid, write=True, idempotent=True)

    async def webhooks_of(self, workspace_gid: str, resource_gid: str | None = None) -> list[Webhook]:
        opts: dict[str, Any] = {"opt_fields": WEBHOOK_FIELDS}
        if resource_gid:
            opts["resource"] = resource_gid
        rows = await self._call_list("webhooks.list", self.webhooks.get_webhooks, workspace_gid, opts)
        return [
            Webhook(
                gid=row["gid"],
                resource_gid=(row.get("resource") or {}).get("gid", ""),
                target=row.get("target") or "",
                active=bool(row.get("active", True)),
                last_failure_at=row.get("last_failure_at"),
                delivery_retry_count=int(row.get("delivery_retry_count") or 0),
                last_failure_content=row.get("last_failure_content"),
            )
            for row in rows
        ]

    async def events_since(self, resource_gid: str, sync: str | None) -> EventsPage:
        """One page of the Events API; raises SyncTokenExpired with the new token on 412."""
        opts: dict[str, Any] = {"resource": resource_gid}
        if sync:
            opts["sync"] = sync
        try:
            # The client's EventIterator hides the sync token (python-asana #199/#200): call the raw endpoint.
            payload = await self._call(
                "events.get",
                self.events.get_events,
                resource_gid,
                opts,
                full_payload=True,
            )
        except AsanaError as exc:
            if exc.status == 412 and isinstance(exc.__cause__, ApiException):
                raise SyncTokenExpired(_json(exc.__cause__.body).get("sync", "")) from None
            raise
        return EventsPage(
            events=tuple(payload.get("data") or ()),
            sync=str(payload.get("sync", "")),
            has_more=bool(payload.get("has_more")),
        )

    # ---- plumbing ----------------------------------------------------------------------------------------

    async def _call_list(self, name: str, method: Callable[..., Any], *args: Any) -> list[Any]:
        """Every page of a list (the options come last in `args`), 100 at a time, each page its own paced and retried
        call: Asana counts every page against the quota, which a walk inside one call would hide from the limiter."""
        *head, opts = args
        rows: list[Any] = []
        offset: str | None = None
        while True:
            page_opts = {**opts, "limit": PAGE_SIZE, **({"offset": offset} if offset else {})}
            page = await self._call(name, method, *head, page_opts, full_payload=True)
            rows.extend(page.get("data") or [])
            offset = (page.get("next_page") or {}).get("offset")
            if not offset:
                return rows

    async def _call(
        self,
        name: str,
        method: Callable[..., T],
        *args: Any,
        write: bool = False,
        idempotent: bool | None = None,
        **kwargs: Any,
    ) -> T:
        """Run one client call off the loop, paced, with retries that are safe for its kind."""
        idempotent = (not write) if idempotent is None else idempotent
        kwargs["_request_timeout"] = self._timeout
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            attempt += 1
            async with self._writes if write else self._reads, self._threads:
                await self._limiter.acquire()
                started = time.perf_counter()
                try:
                    self.calls += 1
                    result = await loop.run_in_executor(self._pool, self._as_token, method, args, kwargs)
                    self._record(name, "ok", started)
                    return result
                except ApiException as exc:
                    error = _map_api_exception(exc, name)
                    self._record(name, str(exc.status), started)
                except urllib3.exceptions.HTTPError as exc:
                    # Refused before anything was sent is always safe to retry; a timeout after sending is not.
                    unsent = isinstance(exc, urllib3.exceptions.NewConnectionError) or isinstance(
                        getattr(exc, "reason", None), urllib3.exceptions.NewConnectionError
                    )
                    error = AsanaUnavailable(f"{name}: {type(exc).__name__}", sent=not unsent)
                    error.__cause__ = exc
                    self._record(name, "network", started)
            if isinstance(error, AsanaRateLimited):
                if self._metrics:
                    self._metrics.api_rate_limited.labels("asana").inc()
                self._limiter.pause(error.retry_after)
                retry = True  # a 429 was refused, not processed: safe for every method
            else:
                retry = isinstance(error, AsanaUnavailable) and (idempotent or not error.sent)
            if not retry or attempt >= self._max_attempts:
                raise error
            delay = error.retry_after if isinstance(error, AsanaRateLimited) else _backoff(attempt)
            log.warning("asana %s failed (%s); retry %d in %.1fs", name, error, attempt, delay)
            await asyncio.sleep(delay)

    def _as_token(self, method: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        """On a pool thread: the call, with this gateway's token (a person's, or the bridge's)."""
        _Configuration.person.token = self._person_token
        try:
            return method(*args, **kwargs)
        finally:
            _Configuration.person.token = None

    def _record(self, name: str, outcome: str, started: float) -> None:
        if self._metrics:
            self._metrics.api_calls.labels("asana", name, outcome).inc()
            self._metrics.api_latency.labels("asana").observe(time.perf_counter() - started)


def _backoff(attempt: int) -> float:
    return float(min(10.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2))


def _json(body: Any) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _map_api_exception(exc: ApiException, name: str) -> AsanaError:
    errors = _json(exc.body).get("errors") or [{}]
    message = f"{name}: {errors[0].get('message') or exc.reason or 'error'}"
    status = int(exc.status or 0)
    error: AsanaError
    if status == 429:
        header = (exc.headers or {}).get("Retry-After")
        try:
            retry_after = max(0.0, float(header)) if header is not None else None
        except ValueError:
            retry_after = None
        # A missing or unreadable Retry-After happens on concurrency 429s: wait a little, with jitter.
        error = AsanaRateLimited(message, retry_after=1.0 + random.random() if retry_after is None else retry_after)
    elif status == 404:
        error = AsanaNotFound(message, status=status)
    elif status in (401, 402, 403):
        error = AsanaForbidden(message, status=status)
    elif status in (400, 412):
        error = AsanaBadRequest(message, status=status)
    elif status == 0 or status >= 500:
        error = AsanaUnavailable(message, status=status or None)
    else:
        error = AsanaError(message, status=status)
    error.__cause__ = exc
    return error


def _user(data: dict[str, Any]) -> AsanaUser:
    return AsanaUser(
        gid=AsanaUserGid(data["gid"]),
        name=data.get("name") or "",
        email=data.get("email"),
        workspace_gids=tuple(WorkspaceGid(w["gid"]) for w in data.get("workspaces") or ()),
    )


def _custom_field(data: dict[str, Any]) -> CustomField:
    return CustomField(
        gid=data["gid"],
        name=data.get("name") or "",
        subtype=data.get("resource_subtype") or "",
        enum_options=tuple(
            EnumOption(gid=o["gid"], name=o.get("name") or "", enabled=bool(o.get("enabled", True)))
            for o in data.get("enum_options") or ()
        ),
    )


def _draft_body(draft: TaskDraft) -> dict[str, Any]:
    body: dict[str, Any] = {"name": draft.name}
    if draft.html_notes is not None:
        body["html_notes"] = draft.html_notes
    else:
        body["notes"] = draft.notes
    if draft.section_gid:
        body["memberships"] = [{"project": draft.project_gid, "section": draft.section_gid}]
    else:
        body["projects"] = [draft.project_gid]
    if draft.assignee:
        body["assignee"] = draft.assignee
    if draft.followers:
        body["followers"] = list(draft.followers)
    if draft.due_on:
        body["due_on"] = draft.due_on.isoformat()
    if draft.custom_fields:
        body["custom_fields"] = dict(draft.custom_fields)
    if draft.parent:
        body["parent"] = draft.parent
    return body


def _story(data: dict[str, Any]) -> Story:
    author = data.get("created_by") or {}
    return Story(
        gid=str(data["gid"]),
        text=data.get("text") or "",
        subtype=data.get("resource_subtype") or "",
        author_gid=author.get("gid"),
        author_name=author.get("name"),
    )


def _task(data: dict[str, Any]) -> Task:
    assignee = data.get("assignee") or {}
    due = data.get("due_on")
    return Task(
        gid=TaskGid(data["gid"]),
        name=data.get("name") or "",
        permalink_url=data.get("permalink_url") or "",
        completed=bool(data.get("completed")),
        assignee=AsanaUserGid(assignee["gid"]) if assignee.get("gid") else None,
        assignee_name=assignee.get("name"),
        due_on=date.fromisoformat(due) if due else None,
        notes=data.get("notes") or "",
        project_gids=tuple(ProjectGid(p["gid"]) for p in data.get("projects") or ()),
        raw=data,
    )
