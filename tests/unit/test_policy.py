"""bridge.toml → Policy, and Settings from the environment: every mistake names its key."""

from __future__ import annotations

import tomllib
from datetime import date, time, timedelta
from pathlib import Path

import pytest

from bridge.config import ConfigError, load_policy, load_settings
from bridge.domain.durations import Span, parse_duration
from bridge.domain.model import CaptureMode
from bridge.domain.policy import PolicyError
from bridge.domain.policy_parsing import parse_policy
from bridge.secret import Secret

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", Span.of(minutes=90)),
        ("4h", Span.of(hours=4)),
        ("36h", Span.of(hours=36)),
        ("2d", Span(days=2)),
        ("0.5d", Span(days=0.5)),
        ("1w", Span(weeks=1)),
        ("1w2d", Span(weeks=1, days=2)),
        ("1d4h", Span(days=1, time=timedelta(hours=4))),
        ("1h30m", Span.of(minutes=90)),
        ("45s", Span(time=timedelta(seconds=45))),
        (" 2D ", Span(days=2)),
        ("0.5h", Span.of(minutes=30)),
    ],
)
def test_durations_keep_their_units(text: str, expected: Span) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "4", "h", "4 hours", "-1h", "0m", "0d", "1y"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["0m", "0s", "0d", "0h0m"])
def test_zero_where_it_means_at_once(text: str) -> None:
    assert not parse_duration(text, zero=True)


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[triage]\nrepeat = "0m"', "triage.repeat"),
        ('[reminders]\noverdue_repeat = "0d"', "reminders.overdue_repeat"),
        ('[routing]\nreassign_after = "0h"', "routing.reassign_after"),
        ('[sla]\nP1 = { first_response = "0m", resolution = "2d" }', "sla.P1.first_response"),
    ],
)
def test_zero_is_refused_where_it_cannot_work(toml: str, key: str) -> None:
    with pytest.raises(PolicyError, match="above zero") as caught:
        parse_policy(tomllib.loads(toml))
    assert caught.value.key == key


def test_zero_grace_and_lead_mean_at_once() -> None:
    policy = parse_policy(tomllib.loads('[triage]\ngrace = "0m"\n[reminders]\nlead = "0h"'))
    assert not policy.triage.grace and not policy.reminders.lead


def test_example_file_parses_into_the_documented_policy() -> None:
    policy = load_policy(REPO / "bridge.example.toml")
    assert policy.business_hours.timezone == "America/New_York"
    assert policy.business_hours.days == (0, 1, 2, 3, 4)
    assert policy.business_hours.start == time(9) and policy.business_hours.end == time(17)
    assert date(2026, 12, 25) in policy.business_hours.holidays
    assert policy.sla.targets["P0"].first_response == Span.of(hours=1)
    assert policy.sla.targets["P3"].resolution == Span(days=10)
    assert policy.sla.warn_at == 0.75
    assert policy.triage.section == "Needs triage" and policy.triage.grace == Span.of(hours=4)
    assert policy.reminders.lead == Span(days=1)
    assert policy.capture.mode is CaptureMode.OFF and policy.capture.reaction == "ticket"
    assert [m.email for m in policy.routing.pool] == ["ana@example.com", "bo@example.com"]
    override = policy.for_project("1204000000000001")
    assert override.capture.mode is CaptureMode.ALL
    assert override.sla == policy.sla  # what the override leaves out is inherited
    assert policy.for_project("999") is policy


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[business_hours]\ntimezone = 'Mars/Olympus'", "business_hours.timezone"),
        ("[business_hours]\ndays = ['mon', 'funday']", "business_hours.days"),
        ("[business_hours]\nstart = '9am'", "business_hours.start"),
        ("[business_hours]\nstart = '17:00'\nend = '09:00'", "business_hours.end"),
        ("[business_hours]\nholidays = ['christmas']", "business_hours.holidays"),
        ("[sla]\nP0 = { first_response = '1h' }", "sla.P0.resolution"),
        ("[sla]\nP0 = { first_response = 'soon', resolution = '4h' }", "sla.P0.first_response"),
        ("[sla]\nwarn_at = 1.5", "sla.warn_at"),
        ("[sla]\nwarn_at = true", "sla.warn_at"),
        ("[triage]\ngrace = 4", "triage.grace"),
        ("[triage]\ntriager = 'lead'", "triage.triager"),
        ("[triage]\ntriager = '@lead'", "triage.triager"),  # a Slack handle finds nobody by email
        ("[triage]\ntriager = 'lead@'", "triage.triager"),
        ("[triage]\npriority_field = ''", "triage.priority_field"),
        ("[triage]\nsection = '  '", "triage.section"),
        ('[projects."abc".sla]\nwarn_at = 0.5', 'projects."abc"'),  # not a gid: it would never apply
        ('[projects."https://app.asana.com/0/1204/list"]', 'projects."https://app.asana.com/0/1204/list"'),
        ("[reminders]\ndm_assignee = 'yes'", "reminders.dm_assignee"),
        ("[reminders]\nrequired_fields = 'Priority'", "reminders.required_fields"),
        ("[reminders]\nrequired_fields = ['Priority', '']", "reminders.required_fields"),
        ("[capture]\nmode = 'some'", "capture.mode"),
        ("[capture]\ncombined_projects = ['Developer Questions']", "capture.combined_projects"),
        ("[routing]\npool = [{ skills = ['x'] }]", "routing.pool[0].email"),
        ("[routing]\npool = [{ email = 'a@x.io', capacity = 0 }]", "routing.pool[0].capacity"),
        ("[routing]\npool = [{ email = 'a@x.io', hours = '9-5' }]", "routing.pool[0].hours"),
        ("[routing]\npool = [{ email = 'a@x.io', hours = '17:00-09:00' }]", "routing.pool[0].hours"),
        ("[routing]\nwait_for = 'reply'", "routing.wait_for"),
        ("[routing]\nshort_sla = 'soon'", "routing.short_sla"),
        ("[routing]\nfollowers = { security = 'lead@x.io' }", "routing.followers.security"),
        ("[routing]\nfollowers = { security = ['lead'] }", "routing.followers.security"),
        ("[nags]\nx = 1", "nags"),
        ("[triage]\nsectoin = 'x'", "triage.sectoin"),
        ('[projects."123".sla]\nwarn_at = 2', 'projects."123".sla.warn_at'),
        ("[relay]\nkinds = ['completed', 'gossip']", "relay.kinds"),
        ("[relay]\nquiet = 1", "relay.quiet"),
        ("[identity]\nrequire_connected = 'yes'", "identity.require_connected"),
        ("[identity]\nrequire = true", "identity.require"),
    ],
)
def test_policy_mistakes_name_the_key(toml: str, key: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(tomllib.loads(toml))
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{key}: ")


BASE_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-1",
    "SLACK_SIGNING_SECRET": "shh",
    "ASANA_ACCESS_TOKEN": "2/1/hush-hush",
}


def test_settings_defaults(tmp_path: Path) -> None:
    settings = load_settings(BASE_ENV, cwd=tmp_path)
    assert settings.database_url == "sqlite+aiosqlite:///bridge.db"
    assert (settings.host, settings.port, settings.tick_seconds) == ("0.0.0.0", 3000, 60.0)
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.asana_api_url == "https://app.asana.com/api/1.0"
    assert settings.public_url is None and settings.webhook_target("k") is None
    assert not settings.socket_mode and settings.config_path is None
    assert (settings.relay_window_seconds, settings.inbox_retention_days) == (2.0, 7.0)
    assert load_settings({**BASE_ENV, "BRIDGE_INBOX_RETENTION_DAYS": "30"}, cwd=tmp_path).inbox_retention_days == 30
    assert "hush-hush" not in repr(settings) and "shh" not in repr(settings)


def test_settings_read_dotenv_and_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BRIDGE_PORT=4000\nBRIDGE_PUBLIC_URL=https://bot.example.com/\nBRIDGE_HOST=a\n")
    settings = load_settings({**BASE_ENV, "BRIDGE_HOST": "127.0.0.1"}, cwd=tmp_path)
    assert settings.port == 4000 and settings.host == "127.0.0.1"
    assert settings.webhook_target("abc") == "https://bot.example.com/asana/webhooks/abc"


def test_settings_read_bridge_toml(tmp_path: Path) -> None:
    (tmp_path / "bridge.toml").write_text("[capture]\nmode = 'all'\n")
    assert load_settings(BASE_ENV, cwd=tmp_path).policy.capture.mode is CaptureMode.ALL


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN"),
        ({"ASANA_ACCESS_TOKEN": " "}, "ASANA_ACCESS_TOKEN"),
        ({"ASANA_WORKSPACE_GID": "acme"}, "ASANA_WORKSPACE_GID"),
        ({"SLACK_APP_TOKEN": "xoxb-2"}, "SLACK_APP_TOKEN"),
        ({"SLACK_CLIENT_ID": "123.456"}, "SLACK_CLIENT_ID"),
        ({"BRIDGE_PORT": "http"}, "BRIDGE_PORT"),
        ({"BRIDGE_PORT": "70000"}, "BRIDGE_PORT"),
        ({"BRIDGE_TICK_SECONDS": "0"}, "BRIDGE_TICK_SECONDS"),
        ({"BRIDGE_INBOX_RETENTION_DAYS": "0.5"}, "BRIDGE_INBOX_RETENTION_DAYS"),
        ({"BRIDGE_PUBLIC_URL": "bot.example.com"}, "BRIDGE_PUBLIC_URL"),
        ({"SLACK_API_URL": "ftp://x"}, "SLACK_API_URL"),
        ({"BRIDGE_DATABASE_URL": "mysql://x"}, "BRIDGE_DATABASE_URL"),
        ({"BRIDGE_CONFIG": "missing.toml"}, "BRIDGE_CONFIG"),
    ],
)
def test_settings_mistakes_name_the_variable(tmp_path: Path, change: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE_ENV, **change}, cwd=tmp_path)
    assert str(caught.value).startswith(variable)
    assert "\n" not in str(caught.value)


def test_socket_mode_needs_no_signing_secret(tmp_path: Path) -> None:
    env = {**BASE_ENV, "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": "xapp-1-A"}
    assert load_settings(env, cwd=tmp_path).socket_mode


def test_unparsable_toml_is_one_line_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "bridge.toml").write_text("[sla\nP0 = ")
    with pytest.raises(ConfigError, match=r"bridge\.toml: not valid TOML") as caught:
        load_settings(BASE_ENV, cwd=tmp_path)
    assert "\n" not in str(caught.value)


def test_secret_hides_its_value() -> None:
    secret = Secret("xoxb-very-secret")
    assert "very" not in repr(secret) and "very" not in str(secret) and "very" not in f"{secret}"
    assert secret.reveal() == "xoxb-very-secret"


def test_routing_keys_parse() -> None:
    policy = parse_policy(
        tomllib.loads(
            """
[routing]
reassign_after = "1d"
wait_for = "acknowledgement"
short_sla = "2h"
followers = { Security = ["lead@example.com", "cto@example.com"] }
pool = [{ email = "ana@example.com", skills = ["OAuth"], capacity = 3, hours = "08:00-16:30" }]
"""
        )
    )
    routing = policy.routing
    assert routing.reassign_after == Span(days=1)
    assert routing.wait_for == "acknowledgement"
    assert routing.short_sla == Span.of(hours=2)
    assert routing.followers == {"security": ("lead@example.com", "cto@example.com")}
    assert routing.pool[0].skills == ("oauth",)
    assert routing.pool[0].hours == (time(8, 0), time(16, 30))


def test_every_mistake_is_named_at_once_one_line_each(tmp_path: Path) -> None:
    (tmp_path / "bridge.toml").write_text("[triage]\ntriager = '@lead'\n")
    env = {
        "SLACK_BOT_TOKEN": "",
        "SLACK_SIGNING_SECRET": "",
        "ASANA_ACCESS_TOKEN": "",
        "BRIDGE_PORT": "http",
        "SLACK_API_URL": "slack.com",
    }
    with pytest.raises(ConfigError) as caught:
        load_settings(env, cwd=tmp_path, read_dotenv=False)
    named = [problem.split(":")[0] for problem in caught.value.problems]
    assert named == [
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "ASANA_ACCESS_TOKEN",
        "BRIDGE_PORT",
        "SLACK_API_URL",
        f"{tmp_path / 'bridge.toml'}",
    ]
    assert str(caught.value).splitlines() == list(caught.value.problems)
    assert "triage.triager" in caught.value.problems[-1]


def test_require_connected_is_read_and_overridden_per_project() -> None:
    policy = parse_policy(
        tomllib.loads('[identity]\nrequire_connected = true\n[projects."123".identity]\nrequire_connected = false')
    )
    assert policy.identity.require_connected is True
    assert policy.for_project("123").identity.require_connected is False
    assert policy.for_project("456").identity.require_connected is True
    assert parse_policy({}).identity.require_connected is False


def test_asana_oauth_app_needs_both_its_id_and_its_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE_ENV, "ASANA_CLIENT_ID": "1200"}, cwd=tmp_path)
    assert "ASANA_CLIENT_ID and ASANA_CLIENT_SECRET" in str(caught.value)
    settings = load_settings(
        {
            **BASE_ENV,
            "ASANA_CLIENT_ID": "1200",
            "ASANA_CLIENT_SECRET": "app-secret",
            "BRIDGE_PUBLIC_URL": "https://b.io",
        },
        cwd=tmp_path,
    )
    assert settings.asana_client_secret is not None and "app-secret" not in repr(settings)
    assert settings.asana_oauth_redirect == "https://b.io/asana/oauth_redirect"
