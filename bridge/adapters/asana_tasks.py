"""The gateway's calls on tasks and their stories (comments): create, read, change, delete, and list what changed.

A mixin of AsanaGateway (adapters/asana_api.py), which makes the transport and the client's API objects."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asana

from bridge.adapters.asana_json import LISTED_TASK_FIELDS, TASK_FIELDS, draft_body, story_from, task_from
from bridge.adapters.asana_transport import AsanaTransport
from bridge.domain.model import AsanaUserGid, TaskGid
from bridge.domain.work import Story, Task, TaskDraft
from bridge.errors import AsanaNotFound


class AsanaTaskCalls:
    _transport: AsanaTransport
    tasks: asana.TasksApi
    stories: asana.StoriesApi

    async def create_task(self, draft: TaskDraft) -> Task:
        data = await self._transport.call(
            "tasks.create",
            self.tasks.create_task,
            {"data": draft_body(draft)},
            {"opt_fields": TASK_FIELDS},
            write=True,
        )
        return task_from(data)

    async def create_subtask(self, parent: TaskGid, name: str, *, assignee: AsanaUserGid | None = None) -> Task:
        body: dict[str, Any] = {"name": name}
        if assignee:
            body["assignee"] = assignee
        data = await self._transport.call(
            "tasks.subtask",
            self.tasks.create_subtask_for_task,
            {"data": body},
            parent,
            {"opt_fields": TASK_FIELDS},
            write=True,
        )
        return task_from(data)

    async def task(self, task_gid: str) -> Task:
        data = await self._transport.call("tasks.get", self.tasks.get_task, task_gid, {"opt_fields": TASK_FIELDS})
        return task_from(data)

    async def update_task(self, task_gid: str, changes: dict[str, Any]) -> Task:
        data = await self._transport.call(
            "tasks.update",
            self.tasks.update_task,
            {"data": changes},
            task_gid,
            {"opt_fields": TASK_FIELDS},
            write=True,
            idempotent=True,
        )
        return task_from(data)

    async def add_to_project(self, task_gid: str, project_gid: str, *, section_gid: str | None = None) -> None:
        body: dict[str, Any] = {"project": project_gid}
        if section_gid:
            body["section"] = section_gid
        # Adding a task to a project it is in already only moves it: safe to repeat.
        await self._transport.call(
            "tasks.add_project", self.tasks.add_project_for_task, {"data": body}, task_gid, write=True, idempotent=True
        )

    async def add_followers(self, task_gid: str, users: Sequence[str]) -> None:
        # Following a task one follows already changes nothing: safe to repeat.
        await self._transport.call(
            "tasks.add_followers",
            self.tasks.add_followers_for_task,
            {"data": {"followers": list(users)}},
            task_gid,
            {"opt_fields": "name"},  # the smallest answer the spec allows; the task itself is not needed
            write=True,
            idempotent=True,
        )

    async def comment(self, task_gid: str, text: str) -> str:
        data = await self._transport.call(
            "stories.create",
            self.stories.create_story_for_task,
            {"data": {"text": text}},
            task_gid,
            {"opt_fields": "text"},
            write=True,
        )
        return str(data["gid"])

    async def story(self, story_gid: str) -> Story:
        data = await self._transport.call(
            "stories.get",
            self.stories.get_story,
            story_gid,
            {"opt_fields": "text,resource_subtype,created_by.name,target"},
        )
        return story_from(data)

    async def comments_of(self, task_gid: str) -> list[Story]:
        """A task's comments, oldest first (the suggestion index's backfill: one paged read per task)."""
        rows = await self._transport.call_list(
            "stories.list",
            self.stories.get_stories_for_task,
            task_gid,
            {"opt_fields": "text,resource_subtype,created_by.name"},
        )
        return [story_from(row) for row in rows if row.get("resource_subtype") == "comment_added"]

    async def edit_comment(self, story_gid: str, text: str) -> None:
        await self._transport.call(
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
            await self._transport.call("tasks.delete", self.tasks.delete_task, task_gid, write=True, idempotent=True)

    async def delete_comment(self, story_gid: str) -> None:
        with contextlib.suppress(AsanaNotFound):
            await self._transport.call(
                "stories.delete", self.stories.delete_story, story_gid, write=True, idempotent=True
            )

    async def tasks_modified_since(self, project_gid: str, since: datetime) -> list[Task]:
        """Tasks of a project changed since a moment: one paginated read (used to find a task after a lost answer)."""
        rows = await self._transport.call_list(
            "tasks.list",
            self.tasks.get_tasks,
            {
                "project": project_gid,
                "modified_since": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "opt_fields": LISTED_TASK_FIELDS,
            },
        )
        return [task_from(row) for row in rows]
