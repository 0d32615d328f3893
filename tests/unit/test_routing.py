"""Routing: keyword match, load, fairness, and who is skipped (out of office, at capacity, outside hours, had it)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from bridge.domain.business_time import clock_for
from bridge.domain.durations import parse_duration
from bridge.domain.policy import BusinessHours, Policy, PoolMember, Routing, Sla, SlaTarget
from bridge.domain.routing import (
    Candidate,
    Choice,
    Skip,
    SkipReason,
    Stage,
    Unassigned,
    choose,
    in_hours,
    match_keywords,
    moves_on,
    routing_allowed,
    short_sla,
    stage,
)

TODAY = date(2026, 3, 4)  # a Wednesday
ANA = "ana@example.com"
BO = "bo@example.com"
CY = "cy@example.com"


def ana(**changes: Any) -> Candidate:
    return Candidate(ANA, skills=("webhooks", "python"), **changes)


def bo(**changes: Any) -> Candidate:
    return Candidate(BO, skills=("oauth", "node", "rate limit"), **changes)


def cy(**changes: Any) -> Candidate:
    return Candidate(CY, skills=("python", "sql"), **changes)


def pick(title: str, *candidates: Candidate, notes: str = "", **options: Any) -> Choice:
    return choose(title, notes, candidates, today=TODAY, **options)


@pytest.mark.parametrize(
    ("text", "skills", "expected"),
    [
        pytest.param("OAuth flow broken", ["oauth"], ["oauth"], id="case-insensitive"),
        pytest.param("upgrade oauthlib", ["oauth"], [], id="no-match-inside-a-word"),
        pytest.param("re-oauth the app", ["oauth"], ["oauth"], id="hyphen-is-a-boundary"),
        pytest.param("(oauth).", ["oauth"], ["oauth"], id="punctuation-is-a-boundary"),
        pytest.param("hit the Rate  limit", ["rate limit"], ["rate limit"], id="phrase-across-whitespace"),
        pytest.param("rate\nlimit hit", ["rate limit"], ["rate limit"], id="phrase-across-newline"),
        pytest.param("rate limiter", ["rate limit"], [], id="phrase-needs-boundary-at-end"),
        pytest.param("the rate is a limit", ["rate limit"], [], id="phrase-words-adjacent"),
        pytest.param("C++ build fails", ["c++"], ["c++"], id="symbol-skill"),
        pytest.param("abc++ lib", ["c++"], [], id="symbol-skill-needs-boundary-before"),
        pytest.param("python and sql", ["sql", "python", "go"], ["sql", "python"], id="skills-order-kept"),
        pytest.param("python", ["python", "python"], ["python"], id="once-each"),
        pytest.param("anything", ["", "  "], [], id="blank-skill-ignored"),
        pytest.param("a.b", ["a.b"], ["a.b"], id="dot-is-literal"),
        pytest.param("axb", ["a.b"], [], id="dot-is-not-a-wildcard"),
        pytest.param("My webhook stopped", ["webhooks"], ["webhooks"], id="plural-skill-singular-text"),
        pytest.param("Webhooks stopped", ["webhook"], ["webhook"], id="singular-skill-plural-text"),
        pytest.param("slow queries", ["query"], ["query"], id="y-and-ies"),
        pytest.param("a slow query", ["Queries"], ["Queries"], id="ies-and-y-any-case"),
        pytest.param("two patches", ["patch"], ["patch"], id="es-plural"),
        pytest.param("hit the rate limits", ["rate limit"], ["rate limit"], id="phrase-plural-last-word"),
        pytest.param("the access is denied", ["acces"], [], id="no-stem-of-a-double-s"),
        pytest.param("webhooksmith", ["webhook"], [], id="plural-still-needs-a-boundary"),
    ],
)
def test_match_keywords(text: str, skills: list[str], expected: list[str]) -> None:
    assert match_keywords(text, skills) == expected


@pytest.mark.parametrize(
    ("title", "notes", "candidates", "options", "assignee"),
    [
        pytest.param("OAuth login loops", "", [ana(), bo()], {}, BO, id="skill-in-title"),
        pytest.param("Login loops", "after the oauth redirect", [ana(), bo()], {}, BO, id="skill-in-notes"),
        pytest.param("oauth in python", "", [ana(), bo(open_tasks=0), cy()], {}, ANA, id="tie-on-match-email-order"),
        pytest.param("python webhooks", "", [cy(), ana(open_tasks=4)], {}, ANA, id="more-matches-beat-load"),
        pytest.param("python", "", [ana(open_tasks=3), cy(open_tasks=2)], {}, CY, id="match-tie-fewest-open"),
        pytest.param(
            "python", "", [ana(past_assignments=7), cy(past_assignments=2)], {}, CY, id="load-tie-fewest-past"
        ),
        pytest.param(
            "python",
            "",
            [ana(open_tasks=1, past_assignments=0), cy(open_tasks=0, past_assignments=9)],
            {},
            CY,
            id="load-before-past",
        ),
        pytest.param("Printer on fire", "", [ana(open_tasks=2), bo(open_tasks=1)], {}, BO, id="no-match-fewest-open"),
        pytest.param("Printer on fire", "", [cy(), bo(), ana()], {}, ANA, id="no-match-all-tied-email-order"),
        pytest.param("Printer", "", [cy(), bo(), ana()], {"last_chosen": ANA}, BO, id="round-robin-after-last"),
        pytest.param("Printer", "", [cy(), bo(), ana()], {"last_chosen": BO}, CY, id="round-robin-next"),
        pytest.param("Printer", "", [cy(), bo(), ana()], {"last_chosen": CY}, ANA, id="round-robin-wraps"),
        pytest.param(
            "Printer", "", [cy(), bo(open_tasks=1), ana()], {"last_chosen": ANA}, CY, id="round-robin-only-among-tied"
        ),
    ],
)
def test_ranking(title: str, notes: str, candidates: list[Candidate], options: dict[str, Any], assignee: str) -> None:
    assert choose(title, notes, candidates, today=TODAY, **options).assignee == assignee


def test_order_of_candidates_does_not_matter() -> None:
    people = [ana(open_tasks=1), bo(open_tasks=1), cy(open_tasks=1)]
    assert {pick("printer", *order).assignee for order in (people, people[::-1], people[1:] + people[:1])} == {ANA}


def test_fewest_open_tasks_is_said_only_when_it_is_true() -> None:
    assert pick("OAuth", bo(open_tasks=3), cy(open_tasks=1)).fewest is False  # the skill won over the load
    assert pick("printer", bo(open_tasks=3), cy(open_tasks=1)).fewest is True


def test_choice_carries_the_reason_parts() -> None:
    choice = pick("OAuth rate limit", bo(open_tasks=2), ana(out_of_office=((date(2026, 3, 2), date(2026, 3, 6)),)))
    assert choice == Choice(
        BO,
        matched=("oauth", "rate limit"),
        open_tasks=2,
        fewest=True,  # the only one eligible
        skipped=(Skip(ANA, SkipReason.OUT_OF_OFFICE, back_on=date(2026, 3, 7)),),
    )


@pytest.mark.parametrize(
    ("ranges", "back_on"),
    [
        pytest.param([], None, id="no-entries"),
        pytest.param([(date(2026, 3, 5), date(2026, 3, 6))], None, id="starts-tomorrow"),
        pytest.param([(date(2026, 3, 1), date(2026, 3, 3))], None, id="ended-yesterday"),
        pytest.param([(date(2026, 3, 4), date(2026, 3, 4))], date(2026, 3, 5), id="today-only"),
        pytest.param([(date(2026, 3, 4), date(2026, 3, 8))], date(2026, 3, 9), id="starts-today"),
        pytest.param([(date(2026, 3, 2), date(2026, 3, 4))], date(2026, 3, 5), id="ends-today"),
        pytest.param([(date(2026, 3, 2), date(2026, 3, 6))], date(2026, 3, 7), id="inside"),
        pytest.param(
            [(date(2026, 3, 9), date(2026, 3, 10)), (date(2026, 3, 2), date(2026, 3, 8))],
            date(2026, 3, 11),
            id="adjacent-ranges-chain",
        ),
        pytest.param(
            [(date(2026, 3, 2), date(2026, 3, 5)), (date(2026, 3, 7), date(2026, 3, 9))],
            date(2026, 3, 6),
            id="gap-ends-the-chain",
        ),
    ],
)
def test_out_of_office(ranges: list[tuple[date, date]], back_on: date | None) -> None:
    choice = pick("python", ana(out_of_office=tuple(ranges)), cy(open_tasks=3))
    if back_on is None:
        assert (choice.assignee, choice.skipped) == (ANA, ())
    else:
        assert (choice.assignee, choice.skipped) == (CY, (Skip(ANA, SkipReason.OUT_OF_OFFICE, back_on),))


@pytest.mark.parametrize(
    ("open_tasks", "capacity", "skipped"),
    [
        pytest.param(4, 5, False, id="below"),
        pytest.param(5, 5, True, id="at"),
        pytest.param(6, 5, True, id="above"),
        pytest.param(0, 1, False, id="capacity-one-free"),
    ],
)
def test_capacity(open_tasks: int, capacity: int, skipped: bool) -> None:
    choice = pick("python", ana(open_tasks=open_tasks, capacity=capacity), cy(open_tasks=9, capacity=10))
    assert choice.assignee == (CY if skipped else ANA)
    assert choice.skipped == ((Skip(ANA, SkipReason.AT_CAPACITY),) if skipped else ())


@pytest.mark.parametrize(
    ("short_sla", "assignee", "skipped"),
    [
        pytest.param(True, CY, (Skip(ANA, SkipReason.OUTSIDE_HOURS),), id="short-sla-skips"),
        pytest.param(False, ANA, (), id="long-sla-ignores-hours"),
    ],
)
def test_working_hours(short_sla: bool, assignee: str, skipped: tuple[Skip, ...]) -> None:
    choice = pick("python", ana(in_hours=False), cy(open_tasks=3), short_sla=short_sla)
    assert (choice.assignee, choice.skipped) == (assignee, skipped)


@pytest.mark.parametrize(
    ("candidates", "options", "expected"),
    [
        pytest.param([], {}, Choice(None, unassigned=Unassigned.NO_POOL), id="empty-pool"),
        pytest.param(
            [ana(open_tasks=5), bo(out_of_office=((TODAY, date(2026, 3, 8)),)), cy(in_hours=False)],
            {"short_sla": True},
            Choice(
                None,
                skipped=(
                    Skip(ANA, SkipReason.AT_CAPACITY),
                    Skip(BO, SkipReason.OUT_OF_OFFICE, date(2026, 3, 9)),
                    Skip(CY, SkipReason.OUTSIDE_HOURS),
                ),
                unassigned=Unassigned.NOBODY_ELIGIBLE,
            ),
            id="everyone-skipped",
        ),
        pytest.param(
            [ana(out_of_office=((TODAY, TODAY),))],
            {"previously_assigned": [BO]},
            Choice(
                None,
                skipped=(Skip(ANA, SkipReason.OUT_OF_OFFICE, date(2026, 3, 5)),),
                unassigned=Unassigned.NOBODY_ELIGIBLE,
            ),
            id="only-member-away",
        ),
    ],
)
def test_nobody_eligible(candidates: list[Candidate], options: dict[str, Any], expected: Choice) -> None:
    assert pick("python", *candidates, **options) == expected


@pytest.mark.parametrize(
    ("candidates", "previously_assigned", "assignee", "skipped"),
    [
        pytest.param([ana(), cy()], [ANA], CY, [ANA], id="best-match-had-it"),
        pytest.param([ana(), cy()], ["ANA@example.com"], CY, [ANA], id="email-case-ignored"),
        pytest.param([ana(), bo(), cy()], [ANA, CY], BO, [ANA, CY], id="no-match-beats-bouncing-back"),
        pytest.param([ana(), cy(open_tasks=1)], [CY, ANA], CY, [ANA], id="everyone-had-it-not-latest"),
        pytest.param([ana(), cy(open_tasks=1)], [ANA, CY], ANA, [CY], id="everyone-had-it-latest-other"),
        pytest.param([ana()], [ANA], ANA, [], id="only-one-eligible-gets-it-back"),
        pytest.param(
            [ana(), cy(out_of_office=((TODAY, TODAY),))],
            [ANA],
            ANA,
            [],
            id="the-new-one-is-away",
        ),
    ],
)
def test_reassignment(
    candidates: list[Candidate], previously_assigned: list[str], assignee: str, skipped: list[str]
) -> None:
    choice = pick("python", *candidates, previously_assigned=previously_assigned)
    assert choice.assignee == assignee
    assert [s.email for s in choice.skipped if s.reason is SkipReason.HAD_TASK] == skipped


@pytest.mark.parametrize(
    ("title", "rules", "assignee", "followers"),
    [
        pytest.param("OAuth error", {"oauth": [CY, "sec@example.com"]}, BO, (CY, "sec@example.com"), id="adds"),
        pytest.param("OAuth error", {"oauth": [BO, CY]}, BO, (CY,), id="not-the-assignee"),
        pytest.param("oauthlib bump", {"oauth": [CY]}, ANA, (), id="word-boundary"),
        pytest.param("oauth and security", {"oauth": [CY], "security": [CY]}, BO, (CY,), id="once-each"),
    ],
)
def test_keyword_followers(title: str, rules: dict[str, list[str]], assignee: str, followers: tuple[str, ...]) -> None:
    choice = pick(title, ana(), bo(open_tasks=1), follow_rules=rules)
    assert (choice.assignee, choice.followers) == (assignee, followers)


def test_followers_even_when_nobody_is_eligible() -> None:
    choice = pick("oauth", ana(open_tasks=5), follow_rules={"oauth": [CY]})
    assert (choice.assignee, choice.followers) == (None, (CY,))


def test_candidate_of_pool_member() -> None:
    member = PoolMember("bo@example.com", skills=("oauth",), capacity=3)
    ranges = [(TODAY, TODAY)]
    assert Candidate.of(member, open_tasks=2, past_assignments=4, out_of_office=ranges, in_hours=False) == Candidate(
        BO,
        skills=("oauth",),
        capacity=3,
        open_tasks=2,
        past_assignments=4,
        out_of_office=((TODAY, TODAY),),
        in_hours=False,
    )


@pytest.mark.parametrize(
    ("manual", "allowed"), [pytest.param(True, False, id="manual"), pytest.param(False, True, id="auto")]
)
def test_manual_assignment_turns_routing_off(manual: bool, allowed: bool) -> None:
    assert routing_allowed(manual) is allowed


# ---- the reassignment window, in business time ---------------------------------------------------------------------

HOURS = BusinessHours(timezone="UTC", start=time(9), end=time(17), holidays=frozenset({date(2026, 3, 6)}))
CLOCK = clock_for(HOURS)
WINDOW = CLOCK.span(parse_duration("1d"))  # one working day: 8 working hours


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("assigned", "pinged", "now", "expected"),
    [
        ("2026-03-04 09:00", None, "2026-03-04 14:59", None),  # 5h59m of 8h: not yet 3/4
        ("2026-03-04 09:00", None, "2026-03-04 15:00", Stage.PING),  # 6h = 3/4 of the window
        ("2026-03-04 09:00", "2026-03-04 15:00", "2026-03-04 16:59", None),  # pinged, window not over
        ("2026-03-04 09:00", "2026-03-04 15:00", "2026-03-04 17:00", Stage.REASSIGN),  # 8h worked, 2h since ping
        # Evenings do not count: assigned at 16:00, 6 working hours come at 14:00 the next day.
        ("2026-03-04 16:00", None, "2026-03-05 13:59", None),
        ("2026-03-04 16:00", None, "2026-03-05 14:00", Stage.PING),
        # Friday is a holiday and then the weekend: Thursday 15:00 + 6h working = Monday 13:00.
        ("2026-03-05 15:00", None, "2026-03-08 23:00", None),
        ("2026-03-05 15:00", None, "2026-03-09 13:00", Stage.PING),
        # A late ping (the bridge was down) still leaves the holder a quarter of the window (2h) to answer.
        ("2026-03-04 09:00", "2026-03-05 10:00", "2026-03-05 11:59", None),
        ("2026-03-04 09:00", "2026-03-05 10:00", "2026-03-05 12:00", Stage.REASSIGN),
    ],
)
def test_stage_of_a_routed_task(assigned: str, pinged: str | None, now: str, expected: Stage | None) -> None:
    at = utc(pinged) if pinged else None
    assert stage(CLOCK, WINDOW, assigned_at=utc(assigned), pinged_at=at, now=utc(now)) is expected


@pytest.mark.parametrize(
    ("assigned", "pinged", "expected"),
    [
        ("2026-03-04 09:00", "2026-03-04 15:00", "2026-03-04 17:00"),  # pinged on time: the window's end
        ("2026-03-04 09:00", "2026-03-04 16:30", "2026-03-05 10:30"),  # late: 2 working hours after the ping
        # Held for the holder's morning: pinged at 03:00 (closed), so the quarter counts from 09:00.
        ("2026-03-04 13:00", "2026-03-05 03:00", "2026-03-05 13:00"),
        ("2026-03-04 13:00", "2026-03-09 03:00", "2026-03-09 11:00"),
    ],
)
def test_a_ping_never_names_a_past_moment(assigned: str, pinged: str, expected: str) -> None:
    at = moves_on(CLOCK, WINDOW, assigned_at=utc(assigned), pinged_at=utc(pinged))
    assert at == utc(expected)
    assert at > utc(pinged)
    # And the task moves on then, not a minute before.
    assert stage(CLOCK, WINDOW, assigned_at=utc(assigned), pinged_at=utc(pinged), now=at) is Stage.REASSIGN
    before = at - timedelta(minutes=1)
    assert stage(CLOCK, WINDOW, assigned_at=utc(assigned), pinged_at=utc(pinged), now=before) is None


@pytest.mark.parametrize(
    ("hours", "now", "expected"),
    [
        (None, "2026-03-04 08:59", False),  # the team's hours: 09:00-17:00
        (None, "2026-03-04 09:00", True),
        (None, "2026-03-04 17:00", False),
        ((time(6), time(14)), "2026-03-04 06:30", True),  # their own, earlier hours
        ((time(6), time(14)), "2026-03-04 15:00", False),
        ((time(6), time(14)), "2026-03-07 07:00", False),  # Saturday: not a working day, whatever the hours
        ((time(6), time(14)), "2026-03-06 07:00", False),  # a holiday
    ],
)
def test_in_hours(hours: tuple[time, time] | None, now: str, expected: bool) -> None:
    assert in_hours(PoolMember(ANA, hours=hours), HOURS, utc(now)) is expected


@pytest.mark.parametrize(
    ("priority", "expected"),
    [("P0", True), ("p1", True), ("P2", False), (None, False), ("P9", False)],
)
def test_short_sla(priority: str | None, expected: bool) -> None:
    policy = Policy(
        sla=Sla(
            targets={
                "P0": SlaTarget(parse_duration("1h"), parse_duration("4h")),
                "P1": SlaTarget(parse_duration("4h"), parse_duration("2d")),
                "P2": SlaTarget(parse_duration("1d"), parse_duration("5d")),
            }
        ),
        routing=Routing(short_sla=parse_duration("4h")),
    )
    assert short_sla(policy, priority) is expected
