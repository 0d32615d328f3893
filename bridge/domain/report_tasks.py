"""The report's input: a tracked task as the store keeps it, and as the report rules read it. Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import NamedTuple

from bridge.domain.model import ChannelId, ProjectGid, TaskGid, TeamId
from bridge.domain.work import iso_day

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def link_id(team_id: str, channel_id: str) -> str:
    """How a link is named in report URLs and data (Slack ids are letters and digits, so '-' cannot be in them)."""
    return f"{team_id}-{channel_id}"


def channel_of(link: str) -> ChannelId:
    """The channel of a link id."""
    return ChannelId(link.partition("-")[2])


class StoredTask(NamedTuple):
    """A tracked top-level task as the store keeps it, read for the report (snapshot values as Asana wrote them)."""

    gid: TaskGid
    name: str
    team_id: TeamId
    channel_id: ChannelId
    project_gid: ProjectGid
    permalink_url: str
    saved_created_at: datetime | None  # when the bridge started following it; read only when Asana's is unknown
    completed: bool
    first_response_at: datetime | None
    tracks_response: bool  # it has an "Acknowledge" subtask, so a first response is recorded
    created_at: str | None = None
    completed_at: str | None = None
    due_on: str | None = None
    due_at: str | None = None
    assignee_gid: str | None = None
    assignee_name: str | None = None
    pushes: int | None = None
    priority: str | None = None  # the chosen option of the link's priority field


class ReportTask(NamedTuple):
    """What the report rules need of one task."""

    gid: TaskGid
    name: str
    link: str
    project_gid: ProjectGid
    permalink_url: str
    created_at: datetime
    completed: bool = False
    completed_at: datetime | None = None
    first_response_at: datetime | None = None
    tracks_response: bool = False
    due_on: date | None = None
    priority: str | None = None
    assignee: str | None = None  # the assignee's name (or gid when the name is unknown)
    pushes: int = 0


def report_task(stored: StoredTask) -> ReportTask:
    """Read a ReportTask from what the store keeps (positionally: ten thousand are read per report)."""
    due_at = _moment(stored.due_at) if stored.due_at else None
    return ReportTask(
        stored.gid,
        stored.name,
        f"{stored.team_id}-{stored.channel_id}",  # link_id, inline
        stored.project_gid,
        stored.permalink_url,
        _moment(stored.created_at) if stored.created_at else (stored.saved_created_at or _EPOCH),
        stored.completed,
        _moment(stored.completed_at) if stored.completed and stored.completed_at else None,
        stored.first_response_at,
        stored.tracks_response,
        due_at.date() if due_at is not None else iso_day(stored.due_on),
        stored.priority or None,
        stored.assignee_name or stored.assignee_gid,
        int(stored.pushes or 0),
    )


def _moment(text: str) -> datetime:
    """An Asana moment ("2026-11-30T10:00:00.000Z"); iso_moment without its checks, for the report's hot loop."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
