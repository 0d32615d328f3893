"""People acting as themselves in Asana: their connection, the OAuth flow's rules, and recognising own writes.

A person connects their Asana account with the authorization code grant and PKCE (reference/asana.md §8). The
`state` handed to Asana is single-use and bound to the Slack user and workspace that asked; only its digest is kept,
so the database never holds a value that would complete someone's flow. An access token lasts about an hour and is
refreshed a few minutes before it ends, by one replica at a time (`REFRESH_LEASE`).

What the bridge writes with a person's token comes back as that person's event: `OwnWrite`s (task, field, digest of
the value, time) let the relay recognise it whatever token wrote it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bridge.domain.model import AsanaUserGid, SlackUserId, TaskGid, TeamId

STATE_LIFETIME = timedelta(minutes=10)  # Asana's codes last about as long
REFRESH_BEFORE = timedelta(minutes=5)  # refresh this long before the access token ends
REFRESH_LEASE = timedelta(seconds=30)  # one replica refreshes a person's token at a time; a dead one's lease ends
OWN_WRITE_WINDOW = timedelta(minutes=10)  # an event this long after the bridge wrote the same value is its echo


@dataclass(frozen=True)
class Connection:
    """A Slack user's connected Asana account; the tokens are secrets (sealed at rest, never logged)."""

    team_id: TeamId
    slack_user_id: SlackUserId
    asana_user_gid: AsanaUserGid
    asana_name: str
    access_token: str
    refresh_token: str
    expires_at: datetime
    connected_at: datetime

    def __repr__(self) -> str:
        return f"Connection({self.team_id}/{self.slack_user_id} as {self.asana_user_gid}, tokens hidden)"

    def needs_refresh(self, now: datetime) -> bool:
        return now >= self.expires_at - REFRESH_BEFORE


@dataclass(frozen=True)
class Grant:
    """What Asana's token endpoint gave: tokens, their lifetime and the Asana user who consented."""

    access_token: str
    refresh_token: str
    expires_in: int
    user_gid: AsanaUserGid
    user_name: str

    def __repr__(self) -> str:
        return f"Grant(for {self.user_gid}, tokens hidden)"


@dataclass(frozen=True)
class PendingConnect:
    """A connect started in Slack, waiting for Asana to send the person back: kept by the digest of its state."""

    state_digest: str
    team_id: TeamId
    slack_user_id: SlackUserId
    code_verifier: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"PendingConnect({self.team_id}/{self.slack_user_id}, verifier hidden)"


@dataclass(frozen=True)
class OwnWrite:
    task_gid: TaskGid
    field: str  # completed, assignee, due_on, custom_fields.<gid>, section, name, comment, created
    value_digest: str
    written_at: datetime


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def new_state() -> str:
    return secrets.token_urlsafe(32)


def new_verifier() -> str:
    """A PKCE code verifier: 43-128 unreserved characters (RFC 7636 §4.1)."""
    return secrets.token_urlsafe(48)


def challenge(verifier: str) -> str:
    """The S256 code challenge of a verifier (RFC 7636 §4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def pending(state: str, team_id: TeamId, user: SlackUserId, verifier: str, *, now: datetime) -> PendingConnect:
    return PendingConnect(digest(state), team_id, user, verifier, now + STATE_LIFETIME)


def writes_of_update(task_gid: TaskGid, changes: Mapping[str, Any], *, now: datetime) -> list[OwnWrite]:
    """The fields an update sets, as own writes (custom fields one by one)."""
    out: list[OwnWrite] = []
    for key, value in changes.items():
        if key == "custom_fields" and isinstance(value, Mapping):
            out.extend(OwnWrite(task_gid, f"custom_fields.{f}", digest(str(v)), now) for f, v in value.items())
        else:
            out.append(OwnWrite(task_gid, key, digest(_plain(value)), now))
    return out


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def own_change_kinds(
    writes: Iterable[OwnWrite], task: Mapping[str, Any], *, project_gid: str, priority_field: str | None, now: datetime
) -> set[str]:
    """Which kinds of change (domain.relay.Change.kind) the task shows only because the bridge wrote them: a recent
    own write whose value the task still has."""
    recent = {(w.field, w.value_digest) for w in writes if now - w.written_at <= OWN_WRITE_WINDOW}
    kinds: set[str] = set()

    def wrote(field: str, value: Any) -> bool:
        return (field, digest(_plain(value))) in recent

    if wrote("completed", bool(task.get("completed"))):
        kinds |= {"completed", "reopened"}
    if wrote("assignee", (task.get("assignee") or {}).get("gid")):
        kinds |= {"assigned", "unassigned"}
    if wrote("due_on", task.get("due_on")):
        kinds.add("due")
    if wrote("name", task.get("name")):
        kinds.add("renamed")
    for custom in task.get("custom_fields") or ():
        if custom.get("gid") == priority_field and wrote(
            f"custom_fields.{priority_field}", (custom.get("enum_value") or {}).get("gid")
        ):
            kinds.add("priority")
    section = next(
        (
            (m.get("section") or {}).get("gid")
            for m in task.get("memberships") or ()
            if (m.get("project") or {}).get("gid") == project_gid
        ),
        None,
    )
    if wrote("section", section):
        kinds.add("section")
    return kinds


def wrote_comment(writes: Iterable[OwnWrite], text: str, *, now: datetime) -> bool:
    d = digest(text)
    return any(w.field == "comment" and w.value_digest == d and now - w.written_at <= OWN_WRITE_WINDOW for w in writes)
