"""The `[routing]` section of bridge.toml's policy: who picks up new tasks, by keyword and by rotation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any

from bridge.domain import policy_values as read
from bridge.domain.policy import (
    WAIT_FOR,
    PolicyError,
    PoolMember,
    Routing,
)


def read_routing(data: Mapping[str, Any], base: Routing, prefix: str) -> Routing:
    prefix += "routing."
    read.no_unknown_keys(prefix, data, ("reassign_after", "pool", "wait_for", "short_sla", "followers"))
    pool = base.pool
    if "pool" in data:
        raw = read.get(data, "pool", list, prefix, "expected a list of {email, skills, capacity, hours} tables")
        pool = tuple(_pool_member(entry, f"{prefix}pool[{index}].") for index, entry in enumerate(raw))
    wait_for = base.wait_for
    if "wait_for" in data:
        wait_for = read.get(data, "wait_for", str, prefix, f"expected one of {', '.join(WAIT_FOR)}")
        if wait_for not in WAIT_FOR:
            raise PolicyError(prefix + "wait_for", f"expected one of {', '.join(WAIT_FOR)}")
    followers = base.followers
    if "followers" in data:
        table = read.get(
            data, "followers", Mapping, prefix, 'expected a table like { security = ["lead@example.com"] }'
        )
        followers = {}
        for keyword, emails in table.items():
            key = f"{prefix}followers.{keyword}"
            if not isinstance(emails, list) or not emails or not all(isinstance(e, str) and "@" in e for e in emails):
                raise PolicyError(key, "expected a list of email addresses")
            followers[str(keyword).lower()] = tuple(emails)
    return Routing(
        reassign_after=read.duration(data, "reassign_after", base.reassign_after, prefix),
        pool=pool,
        wait_for=wait_for,
        short_sla=read.duration(data, "short_sla", base.short_sla, prefix),
        followers=followers,
    )


def _pool_member(entry: Any, key: str) -> PoolMember:
    if not isinstance(entry, Mapping):
        raise PolicyError(key.rstrip("."), "expected a table with email, skills and capacity")
    read.no_unknown_keys(key, entry, ("email", "skills", "capacity", "hours"))
    if "email" not in entry:
        raise PolicyError(key + "email", "missing; expected an email address")
    skills = entry.get("skills", [])
    if not isinstance(skills, list) or not all(isinstance(skill, str) for skill in skills):
        raise PolicyError(key + "skills", "expected a list of words")
    capacity = entry.get("capacity", 5)
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise PolicyError(key + "capacity", "expected a whole number of at least 1")
    hours = None
    if "hours" in entry:
        text = read.get(entry, "hours", str, key, 'expected working hours like "08:00-16:00"')
        start, _, end = text.partition("-")
        try:
            hours = (time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
        except ValueError:
            raise PolicyError(key + "hours", f'expected working hours like "08:00-16:00", got {text!r}') from None
        if hours[0] >= hours[1]:
            raise PolicyError(key + "hours", f'expected a start before the end, like "08:00-16:00", got {text!r}')
    return PoolMember(
        email=read.email(entry, "email", key), skills=tuple(s.lower() for s in skills), capacity=capacity, hours=hours
    )
