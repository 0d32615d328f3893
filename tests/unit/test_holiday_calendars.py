"""`[business_hours] holiday_calendar`: public holidays from the `holidays` package, added to the explicit list."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from pathlib import Path

import pytest

from bridge.adapters.holiday_calendars import holiday_days
from bridge.config import ConfigError, load_settings
from bridge.domain.business_time import clock_for
from bridge.domain.policy import PolicyError
from bridge.domain.policy_parsing import parse_policy
from tests.unit.test_business_time import ny

ENV = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "shh", "ASANA_ACCESS_TOKEN": "2/1/hush-hush"}
TODAY = date(2026, 12, 6)


@pytest.mark.parametrize(
    ("code", "day", "off"),
    [
        pytest.param("US", date(2026, 11, 26), True, id="us-thanksgiving"),
        pytest.param("US", date(2026, 7, 3), True, id="us-independence-day-observed-on-friday"),
        pytest.param("US", date(2026, 2, 12), False, id="us-no-lincolns-birthday"),
        pytest.param("US-NY", date(2026, 2, 12), True, id="new-york-lincolns-birthday"),
        pytest.param("us-ny", date(2026, 2, 12), True, id="codes-are-case-blind"),
        pytest.param("GB-SCT", date(2026, 1, 2), True, id="scotland-2-january"),
        pytest.param("GB-ENG", date(2026, 1, 2), False, id="england-works-2-january"),
        pytest.param("DE", date(2031, 10, 3), True, id="years-ahead-are-laid-out"),
        pytest.param("US", date(2026, 12, 7), False, id="a-working-monday"),
    ],
)
def test_calendar_days(code: str, day: date, off: bool) -> None:
    assert (day in holiday_days(code, today=TODAY)) is off


@pytest.mark.parametrize("code", ["XX", "US-ZZ", "", "-NY"])
def test_unknown_code_is_a_value_error_naming_it(code: str) -> None:
    with pytest.raises(ValueError, match="unknown holiday calendar"):
        holiday_days(code, today=TODAY)


def test_calendar_adds_to_the_explicit_list_and_moves_the_clock() -> None:
    toml = '[business_hours]\ntimezone = "America/New_York"\nholiday_calendar = "US-NY"\nholidays = ["2026-12-24"]'
    hours = parse_policy(tomllib.loads(toml), calendars=holiday_days).business_hours
    assert hours.holiday_calendar == "US-NY"
    assert hours.is_holiday(date(2026, 12, 24)) and hours.is_holiday(date(2026, 12, 25))
    # Wed 25 Nov 16:00 + 2 working hours: one that day, Thanksgiving (Thu 26) is off, the second on Fri 27.
    assert clock_for(hours).add(ny("2026-11-25 16:00"), timedelta(hours=2)) == ny("2026-11-27 10:00")


def test_projects_override_the_calendar() -> None:
    toml = """
[business_hours]
holiday_calendar = "US"
[projects."1".business_hours]
holiday_calendar = "GB-SCT"
[projects."2".business_hours]
holiday_calendar = ""
[projects."3".business_hours]
start = "08:00"
"""
    policy = parse_policy(tomllib.loads(toml), calendars=holiday_days)
    thanksgiving, scottish = date(2026, 11, 26), date(2026, 11, 30)  # St Andrew's Day (observed)
    assert policy.business_hours.is_holiday(thanksgiving) and not policy.business_hours.is_holiday(scottish)
    scots = policy.for_project("1").business_hours
    assert scots.is_holiday(scottish) and not scots.is_holiday(thanksgiving)
    assert policy.for_project("2").business_hours.holiday_calendar is None
    assert not policy.for_project("2").business_hours.is_holiday(thanksgiving)
    assert policy.for_project("3").business_hours.is_holiday(thanksgiving)  # inherited with the rest


def test_without_a_lookup_a_calendar_is_refused() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(tomllib.loads('[business_hours]\nholiday_calendar = "US"'))
    assert caught.value.key == "business_hours.holiday_calendar"


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[business_hours]\nholiday_calendar = "XX"', "business_hours.holiday_calendar"),
        ("[business_hours]\nholiday_calendar = 1", "business_hours.holiday_calendar"),
        ('[projects."12".business_hours]\nholiday_calendar = "US-QQ"', 'projects."12".business_hours.holiday_calendar'),
    ],
)
def test_an_unknown_code_stops_the_start_with_one_line_naming_the_key(tmp_path: Path, toml: str, key: str) -> None:
    (tmp_path / "bridge.toml").write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_settings(ENV, cwd=tmp_path)
    message = str(caught.value)
    assert f"bridge.toml: {key}:" in message
    assert "\n" not in message
