"""Reading one value of bridge.toml's policy: its type checked, its mistakes named by key (PolicyError)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any

from bridge.domain.durations import Span, parse_duration
from bridge.domain.policy import PolicyError


def table(data: Mapping[str, Any], key: str, prefix: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise PolicyError(prefix + key, "expected a table")
    return value


def no_unknown_keys(prefix: str, data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            raise PolicyError(prefix + str(key), f"unknown key; expected one of {', '.join(allowed)}")


def get(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], prefix: str, expected: str) -> Any:
    value = data[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # TOML booleans are ints to isinstance(); a `true` where a number belongs is still a mistake.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise PolicyError(prefix + key, expected)
    return value


def duration(data: Mapping[str, Any], key: str, default: Span, prefix: str, *, zero: bool = False) -> Span:
    """`zero`: "0m" means "at once" for this key; elsewhere a zero duration could never work and is refused."""
    if key not in data:
        return default
    text = get(data, key, str, prefix, 'expected a duration string like "4h" or "2d"')
    try:
        return parse_duration(text, zero=zero)
    except ValueError as exc:
        raise PolicyError(prefix + key, str(exc)) from None


def clock(data: Mapping[str, Any], key: str, default: time, prefix: str) -> time:
    if key not in data:
        return default
    text = get(data, key, str, prefix, 'expected a time like "09:00"')
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise PolicyError(prefix + key, f'expected a time like "09:00", got {text!r}') from None


def email(data: Mapping[str, Any], key: str, prefix: str) -> str:
    value = str(get(data, key, str, prefix, "expected an email address"))
    local, at, domain = value.partition("@")
    # People are found by email in Slack and Asana: a Slack handle ("@lead") or a bare name would find nobody.
    if not (local and at and "." in domain.strip(".") and not any(c.isspace() or c == "@" for c in local + domain)):
        raise PolicyError(prefix + key, f"expected an email address like lead@example.com, got {value!r}")
    return value


def name(data: Mapping[str, Any], key: str, prefix: str, expected: str) -> str:
    value = str(get(data, key, str, prefix, expected))
    if not value.strip():
        raise PolicyError(prefix + key, f"{expected}, got an empty one")
    return value
