"""manifest.yml is a valid Slack app manifest (Slack's own JSON schema) and declares the contract of DESIGN §4:
both commands, the create_task shortcut, every event, the Home tab, the Asana unfurl domain and the scopes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bridge.cli import check_manifest
from bridge.sandbox.slack.context import BOT_SCOPES, CONVERSATION_SCOPES, METHOD_SCOPES

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "data" / "specs" / "slack-manifest"
PUBLIC_URL = "https://bridge.example.com"

EVENTS = {
    "message.channels",
    "message.groups",
    "reaction_added",
    "app_home_opened",
    "app_mention",
    "link_shared",
    "app_uninstalled",
    "tokens_revoked",
}
# The scope each event needs (reference/slack.md §6); app_home_opened, app_uninstalled and tokens_revoked need none.
EVENT_SCOPES = {
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "reaction_added": "reactions:read",
    "app_mention": "app_mentions:read",
    "link_shared": "links:read",
}
# What the bridge calls beyond the per-method table: commands/shortcuts, and posting where it has not joined.
FEATURE_SCOPES = {"commands", "chat:write.public"}


def load_manifest() -> dict[str, Any]:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert isinstance(manifest, dict)
    return manifest


def validator_for(manifest: dict[str, Any]) -> jsonschema.protocols.Validator:
    """Slack's schema for the manifest's major version (1 when `_metadata` does not say)."""
    major = manifest.get("_metadata", {}).get("major_version", 1)
    schema = json.loads((SCHEMAS / f"manifest.schema.{major}.0.0.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def errors(manifest: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator_for(manifest).iter_errors(manifest)
    ]


def test_manifest_matches_slacks_schema() -> None:
    manifest = load_manifest()
    assert manifest["_metadata"]["major_version"] == 1
    assert errors(manifest) == []


def test_bridge_check_accepts_the_manifest() -> None:
    assert check_manifest(ROOT / "manifest.yml") == []


def test_commands_shortcut_home_and_unfurls() -> None:
    features = load_manifest()["features"]
    commands = {c["command"]: c for c in features["slash_commands"]}
    assert set(commands) == {"/task", "/asana"}
    for command in commands.values():
        # With escaping on, Slack sends mentions as <@U123|name>, which /task parses for the assignee.
        assert command["should_escape"] is True
        assert command["url"] == f"{PUBLIC_URL}/slack/events"
        assert command["description"] and command["usage_hint"]
    assert [(s["type"], s["callback_id"], s["name"]) for s in features["shortcuts"]] == [
        ("message", "create_task", "Create Asana task")
    ]
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["app_home"]["messages_tab_enabled"] is True
    assert features["unfurl_domains"] == ["app.asana.com"]
    assert features["bot_user"]["display_name"]


def test_events_interactivity_and_http_mode() -> None:
    manifest = load_manifest()
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == EVENTS
    assert settings["event_subscriptions"]["request_url"] == f"{PUBLIC_URL}/slack/events"
    assert settings["interactivity"] == {"is_enabled": True, "request_url": f"{PUBLIC_URL}/slack/events"}
    assert (settings["socket_mode_enabled"], settings["org_deploy_enabled"], settings["token_rotation_enabled"]) == (
        False,
        False,
        False,
    )
    assert manifest["oauth_config"]["redirect_urls"] == [f"{PUBLIC_URL}/slack/oauth_redirect"]
    assert manifest["display_information"]["name"] == "Asana Bridge"


def test_scopes_cover_every_event_and_method() -> None:
    scopes = set(load_manifest()["oauth_config"]["scopes"]["bot"])
    needed = {EVENT_SCOPES[e] for e in EVENTS if e in EVENT_SCOPES}
    needed |= set(METHOD_SCOPES.values())
    needed |= {CONVERSATION_SCOPES["read"][kind] for kind in ("channel", "group")}
    needed |= FEATURE_SCOPES
    assert needed - scopes == set()
    # users:read.email must be requested together with users:read (api.slack.com/scopes/users:read.email).
    assert "users:read" in scopes
    # The Slack emulator grants exactly these, so tests exercise what an install really allows.
    assert scopes == set(BOT_SCOPES)


def broken(change: str) -> dict[str, Any]:
    manifest = copy.deepcopy(load_manifest())
    if change == "command without slash":
        manifest["features"]["slash_commands"][0]["command"] = "task"
    elif change == "name too long":
        manifest["display_information"]["name"] = "Asana Bridge for Slack and Asana Teams"
    elif change == "shortcut name too long":
        manifest["features"]["shortcuts"][0]["name"] = "Create an Asana task from this"
    elif change == "unknown setting":
        manifest["settings"]["socket_mode"] = True
    elif change == "interactivity without is_enabled":
        del manifest["settings"]["interactivity"]["is_enabled"]
    elif change == "bad unfurl domain":
        manifest["features"]["unfurl_domains"] = ["https://app.asana.com"]
    return manifest


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ("command without slash", "features/slash_commands/0/command"),
        ("name too long", "display_information/name"),
        ("shortcut name too long", "features/shortcuts/0/name"),
        ("unknown setting", "settings"),
        ("interactivity without is_enabled", "settings/interactivity"),
        ("bad unfurl domain", "features/unfurl_domains/0"),
    ],
)
def test_the_schema_check_rejects_broken_manifests(change: str, where: str) -> None:
    assert [e for e in errors(broken(change)) if e.startswith(f"{where}: ")] != []
