"""What reaches the bridge: the Bolt app and its listeners, and the web app (Slack, webhooks, health, reports)."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from bridge.adapters.slack_installations import SqlInstallationStore, oauth_state_store
from bridge.config import Settings
from bridge.entrypoints import slack as slack_listeners
from bridge.entrypoints import slack_install
from bridge.entrypoints.asana_connect import AsanaConnectPage
from bridge.entrypoints.asana_webhooks import AsanaWebhookReceiver, DeliveryPace
from bridge.entrypoints.background import Background
from bridge.entrypoints.health import Health
from bridge.entrypoints.report import ReportPages
from bridge.entrypoints.slack_listener import Listeners
from bridge.entrypoints.slack_oauth import cached_authorize, oauth_settings
from bridge.entrypoints.task_backlog import TaskBacklog
from bridge.entrypoints.web import build_web_app
from bridge.services.capture_retries import RETRY_DELAYS
from bridge.services.home import Home
from bridge.services.nag_actions import NagActions
from bridge.services.undo import Undo
from bridge.wiring.adapters import Adapters
from bridge.wiring.services import Services


def _not_token_skipped(record: logging.LogRecord) -> bool:
    return record.getMessage() != "As you gave `client` as well, `token` will be unused."


def build_bolt(settings: Settings, adapters: Adapters) -> AsyncApp:
    """The Bolt app, without listeners yet."""
    installations = adapters.installations
    # Bolt gets its client, token and signing secret explicitly so it never reads the environment.
    # Bolt reads SLACK_BOT_TOKEN from the environment even when it is given a client, then warns at every start that
    # it will not use it; the client (built from Settings) is the one source of the token.
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_not_token_skipped)
    return AsyncApp(
        client=adapters.slack_client,
        signing_secret=settings.slack_signing_secret.reveal() if settings.slack_signing_secret else "",
        name="slack-asana-bridge",
        # Every request reaches Bolt through entrypoints/slack_http.py, which checks the signature on the raw bytes
        # first (and Socket Mode has none): Bolt checking it again was 2-3 % of an ack.
        request_verification_enabled=False,
        raise_error_for_unhandled_request=True,  # answered 200 and logged by entrypoints/slack_http.py
        # The answer goes out as soon as a listener returns. Otherwise Bolt runs each listener as a task of its own
        # and polls for its ack every 10 ms, so every ack waited up to 10 ms more (and the polls cost an ack's CPU
        # under a burst). Listeners ack, then hand any longer work to the tracked background, and return: none
        # waits on Slack or Asana after its ack (tests/integration/test_listener_returns.py).
        process_before_response=True,
        **(
            _oauth(settings, installations, oauth_state_store(adapters.store.engine), adapters.slack_client)
            if installations
            else {}
        ),
    )


def register_listeners(
    bolt: AsyncApp,
    settings: Settings,
    adapters: Adapters,
    services: Services,
    background: Background,
    *,
    retry_delays: tuple[float, ...] | None = None,
) -> None:
    store, asana, slack, clock = adapters.store, adapters.asana, adapters.slack, adapters.clock
    identity, installations = adapters.identity, adapters.installations
    links, capture, threads, unfurls = services.links, services.capture, services.threads, services.unfurls
    people, cards, acting_for, identities = services.people, services.cards, services.acting_for, services.identities
    routing, reports = services.routing_clicks, services.reports
    suggestions, answers = services.suggestions, services.answers
    delays = RETRY_DELAYS if retry_delays is None else retry_delays  # how captures wait out an Asana outage
    # First: the team a request acts for is known before any listener runs, and uninstall beats the quiet no-op.
    slack_install.register(
        bolt,
        links=links,
        background=background,
        installations=installations,
        forget_team=slack.forget_team,
        forget_people=identities.forget_workspace,
    )
    slack_listeners.register(
        bolt,
        Listeners(
            links=links,
            capture=capture,
            threads=threads,
            link_reads=store,
            slack_events=store,
            slack=slack,
            clock=clock,
            policy=settings.policy,
            background=background,
            unfurls=unfurls,
            home=Home(
                links=store,
                tasks=store,
                reports=store,
                user_settings=store,
                slack=slack,
                people=people,
                clock=clock,
                policy=settings.policy,
                workspace_gid=lambda: identity.workspace_gid,
                identities=identities,
            ),
            nag_actions=NagActions(
                nag_log=store,
                links=store,
                tasks=store,
                mappings=store,
                asana=asana,
                slack=slack,
                people=people,
                clock=clock,
                policy=settings.policy,
                cards=cards,
                acting_for=acting_for,
            ),
            routing=routing,
            reports=reports,
            undo=Undo(store=store, asana=asana, slack=slack, clock=clock),
            identities=identities,
            task_backlog=TaskBacklog(capture=capture, background=background, retry_delays=delays),
            suggestions=suggestions,
            answers=answers,
            retry_delays=delays,
        ),
    )


def build_web(
    settings: Settings, adapters: Adapters, services: Services, bolt: AsyncApp, pace: DeliveryPace
) -> web.Application:
    store, clock, metrics, slack = adapters.store, adapters.clock, adapters.metrics, adapters.slack
    identities = services.identities
    return build_web_app(
        bolt=bolt,
        signing_secret=settings.slack_signing_secret.reveal() if settings.slack_signing_secret else None,
        receiver=AsanaWebhookReceiver(webhooks=store, inbox=store, clock=clock, metrics=metrics, pace=pace),
        health=Health(
            database=store,
            inbox=store,
            links=store,
            webhooks=store,
            clock=clock,
            metrics=metrics,
            slack_auth_error=lambda: slack.auth_error,
            webhooks_expected=settings.public_url is not None,
        ),
        metrics=metrics,
        report=ReportPages(services.reports),
        asana_connect=AsanaConnectPage(identities) if identities.configured else None,
    )


def _oauth(
    settings: Settings,
    installations: SqlInstallationStore,
    states: AsyncSQLAlchemyOAuthStateStore,
    client: AsyncWebClient,
) -> dict[str, Any]:
    """Bolt's arguments for the multi-workspace install: the OAuth flow, and authorize with its cache on."""
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    secret = settings.slack_client_secret.reveal()
    return {
        "oauth_settings": oauth_settings(
            client_id=settings.slack_client_id,
            client_secret=secret,
            api_url=settings.slack_api_url,
            public_url=settings.public_url,
            installations=installations,
            states=states,
        ),
        "authorize": cached_authorize(
            client_id=settings.slack_client_id, client_secret=secret, installations=installations, client=client
        ),
    }
