"""The composition root: the one place that builds every concrete piece from Settings (tests override any).

The builders live in bridge/wiring/: adapters (store, gateways, metrics), services, inbound (Bolt, web app), workers,
and the lifecycle of the built bridge (start, Socket Mode, drain).
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bridge.config import ConfigError, Settings
from bridge.entrypoints.asana_webhooks import DeliveryPace
from bridge.entrypoints.background import Background
from bridge.ports import Clock
from bridge.wiring.adapters import AsanaClient, BridgeStore, Identity, build_adapters
from bridge.wiring.inbound import build_bolt, build_web, register_listeners
from bridge.wiring.lifecycle import Bridge
from bridge.wiring.services import build_identities, build_services
from bridge.wiring.workers import build_workers

__all__ = ["AsanaClient", "Bridge", "BridgeStore", "Identity", "build", "build_identities"]


async def build(
    settings: Settings,
    *,
    store: BridgeStore | None = None,
    asana: AsanaClient | None = None,
    slack_client: AsyncWebClient | None = None,  # the SDK client Bolt needs too, so not a port
    clock: Clock | None = None,
    slack_post_interval: float = 1.0,
    retry_delays: tuple[float, ...] | None = None,
) -> Bridge:
    if settings.slack_bot_token is None and not settings.oauth:
        raise ConfigError("SLACK_BOT_TOKEN: required unless SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set")
    adapters = await build_adapters(
        settings,
        store=store,
        asana=asana,
        slack_client=slack_client,
        clock=clock,
        slack_post_interval=slack_post_interval,
    )
    background = Background()
    pace = DeliveryPace()  # webhook deliveries kept, as the inbox worker sees them
    services = build_services(settings, adapters, background)
    bolt = build_bolt(settings, adapters)
    register_listeners(bolt, settings, adapters, services, background, retry_delays=retry_delays)
    return Bridge(
        settings=settings,
        adapters=adapters,
        services=services,
        bolt=bolt,
        web_app=build_web(settings, adapters, services, bolt, pace),
        workers=build_workers(settings, adapters, services, pace),
        background=background,
    )
