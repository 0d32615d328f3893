"""A small company in the emulators: the same people in Slack and Asana, a channel and a triage project."""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.sandbox.asana_emulator import AsanaEmulator
from bridge.sandbox.slack_emulator import SlackEmulator

SIGNING_SECRET = "sandbox-signing-secret"
BRIDGE_ASANA_TOKEN = "2/1200000000000001/sandbox-bridge-token"
# The emulated Asana's OAuth app, for people connecting their own Asana account (issue #20).
ASANA_CLIENT_ID = "1200000000000777"
ASANA_CLIENT_SECRET = "sandbox-asana-client-secret"
PRIORITIES = ("P0", "P1", "P2", "P3")
SECTIONS = ("Needs triage", *PRIORITIES)
PEOPLE = (
    ("ana", "Ana Lopez", "ana@example.com"),
    ("bo", "Bo Chen", "bo@example.com"),
    ("cy", "Cy Park", "cy@example.com"),
)


@dataclass
class World:
    """Both emulators, started and seeded; ids by name for scripts and tests."""

    asana: AsanaEmulator
    slack: SlackEmulator
    workspace: str
    bridge_user: str
    project: str
    priority_field: str
    channel: str
    asana_people: dict[str, str] = field(default_factory=dict)
    slack_people: dict[str, str] = field(default_factory=dict)
    moved: set[str] = field(default_factory=set)  # people who live in a timezone of their own (see `move`)

    def move(self, key: str, timezone: str) -> None:
        """Someone lives elsewhere: their Slack profile's timezone (users.info `tz`) becomes `timezone`."""
        self.slack.set_timezone(self.slack_people[key], timezone)
        self.moved.add(key)

    def live_with_the_team(self, timezone: str) -> None:
        """Everyone not moved lives in the team's timezone, as most of a team does."""
        for key, user in self.slack_people.items():
            if key not in self.moved:
                self.slack.set_timezone(user, timezone)

    def environment(
        self,
        *,
        port: int,
        database_url: str,
        public_url: str | None = None,
        socket_mode: bool = False,
        oauth: bool = False,
        asana_oauth: bool = False,
    ) -> dict[str, str]:
        """The bridge's environment for this world (what an operator would put in `.env`). With `socket_mode` the
        bridge gets the app-level token and no signing secret: Slack reaches it over a WebSocket it opens. With
        `oauth` it gets the app's client id and secret instead of a bot token (the multi-workspace install). With
        `asana_oauth` people can connect their own Asana account: the emulated Asana's OAuth app is registered with
        the bridge's redirect URL (which needs the public URL) and the bridge gets its client id and secret."""
        auth = {"SLACK_APP_TOKEN": self.slack.app_token} if socket_mode else {"SLACK_SIGNING_SECRET": SIGNING_SECRET}
        app = self.slack.oauth.app
        install = (
            {"SLACK_CLIENT_ID": app.client_id, "SLACK_CLIENT_SECRET": app.client_secret}
            if oauth
            else {"SLACK_BOT_TOKEN": self.slack.bot_token}
        )
        env = {
            **install,
            **auth,
            "SLACK_API_URL": self.slack.api_url,
            "ASANA_ACCESS_TOKEN": BRIDGE_ASANA_TOKEN,
            "ASANA_API_URL": self.asana.url,
            "ASANA_WORKSPACE_GID": self.workspace,
            "ASANA_REQUESTS_PER_MINUTE": "1500",
            "BRIDGE_HOST": "127.0.0.1",
            "BRIDGE_PORT": str(port),
            "BRIDGE_DATABASE_URL": database_url,
            # Bursts settle fast in the sandbox, so scripts and tests see relays within a second.
            "BRIDGE_RELAY_WINDOW_SECONDS": "0.3",
            "BRIDGE_INBOX_LEASE_SECONDS": "3",
        }
        if public_url:
            env["BRIDGE_PUBLIC_URL"] = public_url
        if asana_oauth:
            redirect = f"{public_url or f'http://127.0.0.1:{port}'}/asana/oauth_redirect"
            self.asana.add_oauth_app(ASANA_CLIENT_ID, ASANA_CLIENT_SECRET, redirect)
            env.update({"ASANA_CLIENT_ID": ASANA_CLIENT_ID, "ASANA_CLIENT_SECRET": ASANA_CLIENT_SECRET})
        return env

    async def stop(self) -> None:
        await self.slack.stop()
        await self.asana.stop()


async def start_world(*, fast: bool = True) -> World:
    """Start both emulators on 127.0.0.1 and seed them. `fast` shortens Asana's delivery batching and retries."""
    asana = AsanaEmulator(batch_window=0.02, retry_delays=(0.05, 0.2, 1.0)) if fast else AsanaEmulator()
    workspace = asana.add_workspace("Example Co")
    bridge_user = asana.add_user("Asana Bridge", "bridge@example.com", [workspace], token=BRIDGE_ASANA_TOKEN)
    slack = SlackEmulator()
    people_asana = {key: asana.add_user(name, email, [workspace]) for key, name, email in PEOPLE}
    people_slack = {key: slack.add_user(key, email) for key, _, email in PEOPLE}
    project = asana.add_project(
        workspace, "Developer Questions", SECTIONS, members=[bridge_user, *people_asana.values()]
    )
    priority = asana.add_enum_custom_field(workspace, "Priority", PRIORITIES, projects=[project])
    channel = slack.add_channel("questions", members=[*people_slack.values(), slack.team.bot.user_id])
    await asana.start()
    await slack.start()
    return World(
        asana=asana,
        slack=slack,
        workspace=workspace,
        bridge_user=bridge_user,
        project=project,
        priority_field=priority,
        channel=channel,
        asana_people=people_asana,
        slack_people=people_slack,
    )
