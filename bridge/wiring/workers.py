"""The background loops: the Events poller, the inbox worker, the sweeper, retention, heartbeat, reconcile, nags."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from bridge.adapters.malloc import give_back
from bridge.config import Settings
from bridge.domain.identity import OWN_WRITE_WINDOW
from bridge.entrypoints.asana_webhooks import DeliveryPace
from bridge.entrypoints.inbox_worker import InboxRetention, InboxWorker
from bridge.entrypoints.loop_lag import LoopLagProbe
from bridge.entrypoints.periodic import Every
from bridge.entrypoints.workers import (
    CaptureSweeper,
    EventsPoller,
    NagScheduler,
    ReplicaHeartbeat,
    WebhookReconcileLoop,
)
from bridge.services.nag_assembly import nagger_for
from bridge.services.new_tasks import NewTasks
from bridge.services.relay import Relay
from bridge.services.relay_posts import RelayPosts
from bridge.wiring.adapters import Adapters
from bridge.wiring.services import Services

log = logging.getLogger(__name__)
MEMORY_TRIM_SECONDS = 60.0


@dataclass
class Workers:
    """Every loop the bridge runs beside serving; lifecycle.Bridge starts and stops them."""

    poller: EventsPoller
    inbox_worker: InboxWorker
    sweeper: CaptureSweeper
    retention: InboxRetention
    heartbeat: ReplicaHeartbeat
    reconcile_loop: WebhookReconcileLoop
    nag_scheduler: NagScheduler
    loop_lag: LoopLagProbe
    # Native memory the threads freed goes back to the system once a minute (bridge.adapters.malloc says why).
    memory_trim: Every


def build_workers(settings: Settings, adapters: Adapters, services: Services, pace: DeliveryPace) -> Workers:
    a = adapters
    store, asana, clock, metrics, holder = a.store, a.asana, a.clock, a.metrics, a.holder
    return Workers(
        poller=EventsPoller(
            sync_tokens=store,
            inbox=store,
            tasks=store,
            links=store,
            webhooks=store,
            asana=asana,
            clock=clock,
            fast_seconds=settings.events_poll_seconds,
            slow_seconds=settings.events_poll_seconds * 10,
            reconcile_seconds=settings.reconcile_seconds,
        ),
        inbox_worker=build_inbox_worker(settings, adapters, services, pace),
        # Longer than a capture's own retries (about 16 minutes), so the two never work on one message at once.
        sweeper=CaptureSweeper(
            store=store, capture=services.capture, clock=clock, after=timedelta(minutes=20), holder=holder
        ),
        retention=InboxRetention(store=store, clock=clock, keep=timedelta(days=settings.inbox_retention_days)),
        heartbeat=ReplicaHeartbeat(
            store=store,
            clock=clock,
            limiter=asana.limiter,
            holder=holder,
            on_share=lambda per_minute: metrics.asana_quota.set(per_minute),
        ),
        reconcile_loop=WebhookReconcileLoop(services.reconciler),
        nag_scheduler=build_nag_scheduler(settings, adapters, services),
        loop_lag=LoopLagProbe(metrics=metrics),
        memory_trim=Every("memory-trim", _give_back_memory),
    )


async def _give_back_memory() -> None:
    started = time.perf_counter()
    given = give_back()
    log.debug(
        "malloc_trim: %s in %.1f ms",
        "pages given back" if given else "nothing to give",
        (time.perf_counter() - started) * 1000,
    )


def build_inbox_worker(settings: Settings, adapters: Adapters, services: Services, pace: DeliveryPace) -> InboxWorker:
    a = adapters
    store, asana, slack, clock, metrics = a.store, a.asana, a.slack, a.clock, a.metrics
    identity, holder, identity_store = a.identity, a.holder, a.store
    cards, people, identities, answers = services.cards, services.people, services.identities, services.answers
    posts = RelayPosts(
        links=store,
        mappings=store,
        posts=store,
        slack=slack,
        people=people,
        clock=clock,
        # A post recorded by a worker whose claim has not run out may still be on its way.
        in_flight_for=timedelta(seconds=2 * settings.inbox_lease_seconds),
        holder=holder,
    )

    def bridge_user() -> str | None:  # known once the bridge has asked Asana who it is
        return identity.user_gid

    worker = InboxWorker(
        inbox=store,
        tasks=store,
        relay=Relay(
            tasks=store,
            comments=store,
            mappings=store,
            asana=asana,
            clock=clock,
            bridge_user=bridge_user,
            policy=settings.policy,
            cards=cards,
            posts=posts,
            new_tasks=NewTasks(
                links=store, tasks=store, asana=asana, clock=clock, bridge_user=bridge_user, cards=cards, posts=posts
            ),
            own_writes=(
                (lambda task: identity_store.own_writes_of(task, since=clock.now() - OWN_WRITE_WINDOW))
                if identities.configured
                else None
            ),
            answers=answers,
        ),
        clock=clock,
        window=settings.relay_window_seconds,
        lease_seconds=settings.inbox_lease_seconds,
        metrics=metrics,
        pace=pace,
        holder=holder,
    )
    pace.on_kept(worker.delivery_kept)
    return worker


def build_nag_scheduler(settings: Settings, adapters: Adapters, services: Services) -> NagScheduler:
    metrics = adapters.metrics
    return NagScheduler(
        nagger_for(
            adapters.store,
            asana=adapters.asana,
            slack=adapters.slack,
            clock=adapters.clock,
            policy=settings.policy,
            on_sent=lambda kind: metrics.nags_sent.labels(kind).inc(),
            presence=services.presence,
            people=services.people,
            quiet=services.worker,
        ),
        services.router,
    )
