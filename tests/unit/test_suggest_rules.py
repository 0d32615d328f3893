"""The suggestion rules (domain.suggest), table-driven."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bridge.domain.model import ChannelId, ProjectGid, SlackUserId, TaskGid, TeamId
from bridge.domain.policy import PolicyError, SuggestPolicy
from bridge.domain.policy_parsing import parse_policy
from bridge.domain.suggest import (
    Answer,
    Deflection,
    Match,
    Outcome,
    Reply,
    Scope,
    chosen,
    excerpt,
    may_decide,
    summarize,
    terms,
    with_replies,
)

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
T, C, P = TeamId("T1"), ChannelId("C1"), ProjectGid("100")
SCOPE = Scope(T, C, (P, ProjectGid("300")))


def answer(gid: str = "1", **kw: Any) -> Answer:
    base = Answer(
        task_gid=TaskGid(gid),
        team_id=T,
        channel_id=C,
        project_gids=(P,),
        title="VPN drops",
        permalink_url="https://app.asana.com/0/100/1",
        asked_at=NOW,
        resolved_at=NOW,
    )
    return replace(base, **kw)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How do I reset my VPN token?", ("reset", "vpn", "token")),
        ("the THE the", ()),
        ('"quoted" OR NEAR(x) -minus star* <@U1>', ("quoted", "near", "minus", "star", "u1")),
        ("VPN vpn Vpn", ("vpn",)),
        ("a " + " ".join(f"w{i}" for i in range(40)), tuple(f"w{i}" for i in range(24))),
    ],
)
def test_terms(text: str, expected: tuple[str, ...]) -> None:
    assert terms(text) == expected


def test_replies_go_in_front_and_the_askers_own_are_left_out() -> None:
    first = with_replies(answer(), [Reply("Try the portal", "Bo", False), Reply("thanks!", "Ana", True)])
    assert first.answer == "Try the portal" and first.answered_by == ("Bo",)
    second = with_replies(first, [Reply("Renew the cert", "Cy", False), Reply("and reboot", "Bo", False)])
    assert second.answer == "and reboot\n\nRenew the cert\n\nTry the portal"
    assert second.answered_by == ("Bo", "Cy")
    assert with_replies(second, [Reply("  ", "Dee", False)]) is second


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        ({}, True),
        ({"team_id": TeamId("T2")}, False),
        ({"project_gids": (ProjectGid("200"),)}, False),
        ({"project_gids": (ProjectGid("200"), ProjectGid("300"))}, True),  # in a combined project the link covers
        ({"private": True, "channel_id": ChannelId("G9")}, False),
        ({"private": True}, True),  # private, but this very channel
        ({"private": False, "channel_id": ChannelId("C9")}, True),
        ({"resolved_at": None}, False),
        ({"task_gid": TaskGid("new")}, False),  # the question itself
    ],
)
def test_privacy_and_scope(changes: dict[str, Any], shown: bool) -> None:
    found = chosen([Match(answer(**changes), 2.0)], SCOPE, min_score=1.0, max_results=3, exclude="new")
    assert bool(found) is shown


@pytest.mark.parametrize(
    ("scores", "min_score", "max_results", "expected"),
    [
        ([0.5, 2.0, 1.5], 1.0, 3, [2.0, 1.5]),
        ([0.5, 0.9], 1.0, 3, []),
        ([3.0, 2.0, 1.5, 1.2], 1.0, 3, [3.0, 2.0, 1.5]),
        ([3.0, 2.0], 0.0, 1, [3.0]),
    ],
)
def test_threshold_and_count(scores: list[float], min_score: float, max_results: int, expected: list[float]) -> None:
    matches = [Match(answer(str(i)), s) for i, s in enumerate(scores)]
    assert [m.score for m in chosen(matches, SCOPE, min_score=min_score, max_results=max_results)] == expected


def test_excerpt_is_two_lines_and_short() -> None:
    assert excerpt(answer(answer="one\n\n two \nthree")) == "one\ntwo"
    assert len(excerpt(answer(answer="x" * 1000))) == 220


def deflection(**kw: Any) -> Deflection:
    base = Deflection(
        task_gid=TaskGid("9"),
        team_id=T,
        channel_id=C,
        thread_ts="1.1",
        asker=SlackUserId("U1"),
        suggested=(TaskGid("1"),),
        asked_at=NOW,
        suggested_at=NOW,
    )
    return replace(base, **kw)


@pytest.mark.parametrize(
    ("user", "email", "triager", "allowed"),
    [
        ("U1", None, None, True),
        ("U2", None, None, False),
        ("U2", "Lead@Example.com", "lead@example.com", True),
        ("U2", "bo@example.com", "lead@example.com", False),
    ],
)
def test_who_settles(user: str, email: str | None, triager: str | None, allowed: bool) -> None:
    assert may_decide(deflection(), SlackUserId(user), email=email, triager=triager) is allowed


def test_summary_counts_and_time_saved() -> None:
    rows = [
        deflection(outcome=Outcome.ACCEPTED, decided_at=NOW + timedelta(minutes=10)),
        deflection(outcome=Outcome.ACCEPTED, decided_at=NOW + timedelta(hours=5)),  # slower than a person: 0 saved
        deflection(outcome=Outcome.REJECTED),
        deflection(),
    ]
    found = summarize(rows, typical_first_response=timedelta(hours=2))
    assert (found.suggested, found.accepted, found.rejected) == (4, 2, 1)
    assert found.saved == timedelta(hours=1, minutes=50)
    assert summarize(rows, typical_first_response=None).saved == timedelta(0)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ({}, SuggestPolicy()),
        ({"suggest": {"enabled": False}}, SuggestPolicy(enabled=False)),
        ({"suggest": {"min_score": 1, "max_results": 2}}, SuggestPolicy(min_score=1.0, max_results=2)),
    ],
)
def test_policy(toml: dict[str, object], expected: SuggestPolicy) -> None:
    assert parse_policy(toml).suggest == expected


def test_policy_per_project_and_mistakes() -> None:
    policy = parse_policy({"suggest": {"max_results": 3}, "projects": {"42": {"suggest": {"enabled": False}}}})
    assert policy.for_project("42").suggest == SuggestPolicy(enabled=False, max_results=3)
    assert policy.for_project("7").suggest.enabled
    for bad in ({"max_results": 0}, {"min_score": -1}, {"enabled": "yes"}, {"threshold": 1}):
        with pytest.raises(PolicyError, match="suggest"):
            parse_policy({"suggest": bad})
