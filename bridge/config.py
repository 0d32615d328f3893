"""Settings read once from an environment mapping (plus `.env`) and the policy file `bridge.toml`."""

from __future__ import annotations

import binascii
import tomllib
from base64 import urlsafe_b64decode
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

from dotenv import dotenv_values

from bridge.adapters.holiday_calendars import holiday_days
from bridge.domain.policy import Policy, PolicyError
from bridge.domain.policy_parsing import parse_policy
from bridge.secret import Secret

N = TypeVar("N", int, float)
T = TypeVar("T")

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///bridge.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_ASANA_API_URL = "https://app.asana.com/api/1.0"


class ConfigError(Exception):
    """Configuration that cannot work: one line per problem, each naming the variable or key."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    asana_access_token: Secret
    slack_bot_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_app_token: Secret | None = None
    slack_client_id: str | None = None
    slack_client_secret: Secret | None = None
    asana_workspace_gid: str | None = None
    public_url: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "0.0.0.0"
    port: int = 3000
    config_path: Path | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    asana_api_url: str = DEFAULT_ASANA_API_URL
    tick_seconds: float = 60.0
    # Events API polling: projects without a webhook every this often, projects with one ten times slower.
    events_poll_seconds: float = 30.0
    # How often the bridge's Asana webhooks are checked: lost ones re-created, failing ones told in the channel.
    reconcile_seconds: float = 600.0
    # How long a burst of changes on one task settles before it is told in Slack as one reply.
    relay_window_seconds: float = 2.0
    # How long a worker owns claimed inbox events; after a crash another run takes them over when it ends.
    inbox_lease_seconds: float = 30.0
    # How long relayed events are kept: a resend of one within this long is recognised and skipped.
    inbox_retention_days: float = 7.0
    # Asana's per-token quota: 150/min on free workspaces, 1,500/min on paid ones.
    asana_requests_per_minute: int = 150
    asana_timeout_seconds: int = 30
    # Fernet key(s) sealing webhook secrets and Slack tokens in the database; unset: stored as they are.
    encryption_key: Secret | None = None
    # The report: the secret report links are signed with (unset: one kept in the database) and an operator token.
    report_secret: Secret | None = None
    report_token: Secret | None = None
    # An Asana OAuth app, so people can connect their own Asana account (unset: everyone acts through the bridge).
    asana_client_id: str | None = None
    asana_client_secret: Secret | None = None
    policy: Policy = field(default_factory=Policy)

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def oauth(self) -> bool:
        return self.slack_client_id is not None

    def webhook_target(self, hook_key: str) -> str | None:
        """The URL Asana posts deliveries of one hook to, or None when there is no public URL."""
        if self.public_url is None:
            return None
        return f"{self.public_url.rstrip('/')}/asana/webhooks/{hook_key}"

    @property
    def asana_oauth_redirect(self) -> str:
        """Where Asana's consent page sends people back (the redirect URL registered with the Asana app)."""
        return f"{self.base_url}/asana/oauth_redirect"

    @property
    def base_url(self) -> str:
        """Where people reach the bridge (report links): the public URL, else the listen address."""
        if self.public_url is not None:
            return self.public_url.rstrip("/")
        host = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"


def load_settings(environ: Mapping[str, str], *, cwd: Path | None = None, read_dotenv: bool = True) -> Settings:
    """Build Settings from the environment (which wins over `.env`) and bridge.toml; raise ConfigError."""
    cwd = cwd or Path.cwd()
    env: dict[str, str] = {}
    if read_dotenv and (cwd / ".env").is_file():
        env.update({k: v for k, v in dotenv_values(cwd / ".env").items() if v is not None})
    env.update(environ)
    values = {key: value.strip() for key, value in env.items() if value.strip()}

    def secret(name: str) -> Secret | None:
        return Secret(values[name]) if name in values else None

    # Every problem at once: an operator fixing one variable per start would need as many starts as mistakes.
    read = _Reader(values)
    app_token = secret("SLACK_APP_TOKEN")
    if app_token is not None and not app_token.reveal().startswith("xapp-"):
        read.problems.append("SLACK_APP_TOKEN: expected an app-level token starting with xapp-")
    client_id, client_secret = values.get("SLACK_CLIENT_ID"), secret("SLACK_CLIENT_SECRET")
    if (client_id is None) != (client_secret is None):
        read.problems.append(
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: set both for a multi-workspace install, or neither"
        )
    bot_token = secret("SLACK_BOT_TOKEN")
    if bot_token is None and client_id is None:
        read.problems.append("SLACK_BOT_TOKEN: required (the xoxb- token of the app) unless SLACK_CLIENT_ID is set")
    if bot_token is not None and not bot_token.reveal().startswith("xoxb-"):
        read.problems.append("SLACK_BOT_TOKEN: expected a bot token starting with xoxb-")
    signing_secret = secret("SLACK_SIGNING_SECRET")
    if signing_secret is None and app_token is None:
        read.problems.append("SLACK_SIGNING_SECRET: required in HTTP mode (Basic Information → Signing Secret)")
    asana_token = secret("ASANA_ACCESS_TOKEN")
    if asana_token is None:
        read.problems.append("ASANA_ACCESS_TOKEN: required (a personal access token of the bridge's Asana user)")
    workspace = values.get("ASANA_WORKSPACE_GID")
    if workspace is not None and not workspace.isdigit():
        read.problems.append(f"ASANA_WORKSPACE_GID: expected a numeric gid, got {workspace!r}")

    asana_client_id, asana_client_secret = values.get("ASANA_CLIENT_ID"), secret("ASANA_CLIENT_SECRET")
    if (asana_client_id is None) != (asana_client_secret is None):
        read.problems.append(
            "ASANA_CLIENT_ID and ASANA_CLIENT_SECRET: set both to let people connect Asana, or neither"
        )

    config_path = read.checked(lambda: _config_path(values, cwd), None)
    settings = Settings(
        asana_access_token=asana_token or Secret(""),
        slack_bot_token=bot_token,
        slack_signing_secret=signing_secret,
        slack_app_token=app_token,
        slack_client_id=client_id,
        slack_client_secret=client_secret,
        asana_workspace_gid=workspace,
        public_url=read.url("BRIDGE_PUBLIC_URL", None),
        database_url=read.checked(
            lambda: _database_url(values.get("BRIDGE_DATABASE_URL", DEFAULT_DATABASE_URL)), DEFAULT_DATABASE_URL
        ),
        host=values.get("BRIDGE_HOST", "0.0.0.0"),
        port=read.number("BRIDGE_PORT", 3000, int, low=0, high=65535),
        config_path=config_path,
        slack_api_url=read.url("SLACK_API_URL", DEFAULT_SLACK_API_URL) or DEFAULT_SLACK_API_URL,
        asana_api_url=(read.url("ASANA_API_URL", DEFAULT_ASANA_API_URL) or DEFAULT_ASANA_API_URL).rstrip("/"),
        tick_seconds=read.number("BRIDGE_TICK_SECONDS", 60.0, float, low=0.05, high=86400),
        events_poll_seconds=read.number("BRIDGE_EVENTS_POLL_SECONDS", 30.0, float, low=0.05, high=86400),
        reconcile_seconds=read.number("BRIDGE_RECONCILE_SECONDS", 600.0, float, low=1.0, high=86400),
        relay_window_seconds=read.number("BRIDGE_RELAY_WINDOW_SECONDS", 2.0, float, low=0.0, high=600),
        inbox_lease_seconds=read.number("BRIDGE_INBOX_LEASE_SECONDS", 30.0, float, low=1.0, high=3600),
        inbox_retention_days=read.number("BRIDGE_INBOX_RETENTION_DAYS", 7.0, float, low=1.0, high=3650),
        asana_requests_per_minute=read.number("ASANA_REQUESTS_PER_MINUTE", 150, int, low=1, high=100_000),
        asana_timeout_seconds=read.number("ASANA_TIMEOUT_SECONDS", 30, int, low=1, high=600),
        encryption_key=read.checked(lambda: _encryption_key(secret("BRIDGE_ENCRYPTION_KEY")), None),
        report_secret=read.checked(lambda: _report_secret(secret("BRIDGE_REPORT_SECRET")), None),
        report_token=secret("BRIDGE_REPORT_TOKEN"),
        asana_client_id=asana_client_id,
        asana_client_secret=asana_client_secret,
        policy=read.checked(lambda: load_policy(config_path) if config_path else Policy(), Policy()),
    )
    if read.problems:
        raise ConfigError(*read.problems)
    return settings


class _Reader:
    """Reads values, keeping each problem instead of stopping at the first."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values
        self.problems: list[str] = []

    def checked(self, read: Callable[[], T], fallback: T) -> T:
        try:
            return read()
        except ConfigError as exc:
            self.problems.extend(exc.problems)
            return fallback

    def url(self, name: str, default: str | None) -> str | None:
        return self.checked(lambda: _url(self.values, name, default), default)

    def number(self, name: str, default: N, kind: type[N], *, low: float, high: float) -> N:
        return self.checked(lambda: _number(self.values, name, default, kind, low=low, high=high), default)


def load_policy(path: Path) -> Policy:
    """Read and validate the policy file; raise ConfigError naming the file and the bad key."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"BRIDGE_CONFIG: cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    try:
        return parse_policy(data, calendars=holiday_days)
    except PolicyError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _config_path(values: Mapping[str, str], cwd: Path) -> Path | None:
    if "BRIDGE_CONFIG" in values:
        path = Path(values["BRIDGE_CONFIG"])
        path = path if path.is_absolute() else cwd / path
        if not path.is_file():
            raise ConfigError(f"BRIDGE_CONFIG: no such file {path}")
        return path
    default = cwd / "bridge.toml"
    return default if default.is_file() else None


def _url(values: Mapping[str, str], name: str, default: str | None) -> str | None:
    if name not in values:
        return default
    parsed = urlparse(values[name])
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{name}: expected an http(s) URL, got {values[name]!r}")
    return values[name]


def _report_secret(value: Secret | None) -> Secret | None:
    if value is not None and len(value.reveal()) < 16:
        raise ConfigError("BRIDGE_REPORT_SECRET: too short to sign links with; use at least 16 random characters")
    return value


def _database_url(url: str) -> str:
    if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(
            "BRIDGE_DATABASE_URL: expected sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db"
        )
    return url


def _encryption_key(key: Secret | None) -> Secret | None:
    """Fernet keys (32 url-safe base64 bytes), comma-separated when rotating: the first seals, all open."""
    if key is None:
        return None
    parts = [part.strip() for part in key.reveal().split(",") if part.strip()]
    for part in parts:
        try:
            good = len(urlsafe_b64decode(part.encode())) == 32 and len(part) == 44
        except (binascii.Error, ValueError):
            good = False
        if not good:
            raise ConfigError(
                "BRIDGE_ENCRYPTION_KEY: expected Fernet keys (44 characters of url-safe base64, e.g. from "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)"
            )
    return key if parts else None


def _number(values: Mapping[str, str], name: str, default: N, kind: type[N], *, low: float, high: float) -> N:
    if name not in values:
        return default
    try:
        number = kind(values[name])
    except ValueError:
        raise ConfigError(f"{name}: expected a {'whole ' if kind is int else ''}number, got {values[name]!r}") from None
    if not low <= number <= high:
        raise ConfigError(f"{name}: expected a number from {low:g} to {high:g}, got {values[name]!r}")
    return number
