"""The use cases, each built from the adapters and the few other services it works with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bridge.adapters.asana_oauth import AsanaOAuth
from bridge.adapters.store.sql_store import SqlStore
from bridge.adapters.worker_process import WorkerProcess, seen_by_other_processes
from bridge.config import Settings
from bridge.entrypoints.background import Background
from bridge.ports import BridgeAsana, Clock, IdentityStore, SlackTeams
from bridge.services.access import Access
from bridge.services.acting import ActingFor
from bridge.services.answers import AnswerIndex
from bridge.services.capture import Capture
from bridge.services.capture_request import Captured, CaptureRequest
from bridge.services.cards import Cards
from bridge.services.identity import Identities
from bridge.services.links import Links
from bridge.services.people import People
from bridge.services.pool import Pool
from bridge.services.presence import Presence
from bridge.services.reports import Reports
from bridge.services.routing import Router
from bridge.services.routing_clicks import RoutingClicks
from bridge.services.suggest import Suggestions
from bridge.services.threads import Threads
from bridge.services.unfurls import Unfurls
from bridge.services.webhooks import WebhookReconciler, WebhookRegistrar
from bridge.wiring.adapters import Adapters


@dataclass
class Services:
    """The use cases the inbound paths and the workers share, each built once."""

    people: People
    cards: Cards
    links: Links
    identities: Identities
    acting_for: ActingFor | None  # a person's own Asana access, when people can connect theirs
    answers: AnswerIndex
    suggestions: Suggestions
    capture: Capture
    threads: Threads
    reconciler: WebhookReconciler
    presence: Presence
    router: Router
    routing_clicks: RoutingClicks
    reports: Reports
    unfurls: Unfurls
    worker: WorkerProcess | None  # long pure work (reports, judging every task) in a process of its own, if any


def build_services(settings: Settings, adapters: Adapters, background: Background) -> Services:
    """The services more than one inbound path or worker shares; those only one uses (the relay, the nagger,
    home, nag actions, undo) are built beside it, in wiring/workers.py and wiring/inbound.py."""
    a, identity = adapters, adapters.identity
    store, asana, slack, clock, policy = a.store, a.asana, a.slack, a.clock, settings.policy
    people = People(store=store, slack=slack, asana=asana, clock=clock)
    cards = Cards(links=store, captures=store, slack=slack, people=people, clock=clock, policy=policy)
    identities = build_identities(
        settings,
        store,  # the SQL store keeps people's Asana connections too
        asana,
        slack,
        clock,
        workspace_gid=lambda: identity.workspace_gid,
        bridge_user=lambda: identity.user_gid,
    )
    acting_for = identities.for_person if identities.configured else None
    # The index of resolved work lives in the SQL store, on its engine's own full-text search.
    answers = AnswerIndex(store=store, asana=asana, slack=slack, clock=clock)
    suggestions = _suggestions(settings, a, people, cards)
    # One view of people's hours and absences (and their caches) for routing and nags.
    presence = Presence(slack=slack, pool=Pool(store=store, asana=asana, slack=slack))
    worker = _worker(settings, a)
    router = _router(settings, a, presence, cards)
    return Services(
        people=people,
        cards=cards,
        links=_links(settings, a),
        identities=identities,
        acting_for=acting_for,
        answers=answers,
        suggestions=suggestions,
        capture=_capture(settings, a, people, cards, suggestions, background, acting_for),
        threads=_threads(a, people, answers, acting_for),
        reconciler=_reconciler(settings, a),
        presence=presence,
        router=router,
        routing_clicks=RoutingClicks(
            routings=store,
            links=store,
            tasks=store,
            asana=asana,
            slack=slack,
            people=people,
            pool=presence.pool,
            clock=clock,
            policy=policy,
            router=router,
        ),
        reports=_reports(settings, a, worker),
        unfurls=_unfurls(settings, a, people, acting_for),
        worker=worker,
    )


def _suggestions(settings: Settings, a: Adapters, people: People, cards: Cards) -> Suggestions:
    return Suggestions(
        store=a.store,
        asana=a.asana,
        slack=a.slack,
        clock=a.clock,
        policy=settings.policy,
        asker_of=lambda team, user, link: people.asana_user(team, user, link.workspace_gid),
        engine=a.store.engine.dialect.name,
        access=Access(asana=a.asana),
        cards=cards,
    )


def _threads(a: Adapters, people: People, answers: AnswerIndex, acting_for: ActingFor | None) -> Threads:
    return Threads(
        comments=a.store,
        captures=a.store,
        tasks=a.store,
        asana=a.asana,
        slack=a.slack,
        clock=a.clock,
        people=people,
        acting_for=acting_for,
        answers=answers,
    )


def _router(settings: Settings, a: Adapters, presence: Presence, cards: Cards) -> Router:
    return Router(
        routings=a.store,
        links=a.store,
        tasks=a.store,
        posts=a.store,
        asana=a.asana,
        slack=a.slack,
        clock=a.clock,
        policy=settings.policy,
        presence=presence,
        cards=cards,
    )


def _unfurls(settings: Settings, a: Adapters, people: People, acting_for: ActingFor | None) -> Unfurls:
    return Unfurls(
        asana=a.asana,
        slack=a.slack,
        people=people,
        policy=settings.policy,
        workspace_gid=lambda: a.identity.workspace_gid,
        links=a.store,
        tasks=a.store,
        acting_for=acting_for,
    )


def _links(settings: Settings, a: Adapters) -> Links:
    return Links(
        links=a.store,
        webhooks=a.store,
        inbox=a.store,
        asana=a.asana,
        clock=a.clock,
        policy=settings.policy,
        webhook_target=settings.webhook_target,
        workspace_gid=lambda: a.identity.workspace_gid,
    )


def _capture(
    settings: Settings,
    a: Adapters,
    people: People,
    cards: Cards,
    suggestions: Suggestions,
    background: Background,
    acting_for: ActingFor | None,
) -> Capture:
    async def suggest_soon(captured: Captured, request: CaptureRequest) -> None:
        # Beside the capture, not in its way: the capture ends (and forgets its /task) without waiting on the search.
        background.spawn(suggestions.for_capture(captured, request), name=f"suggest {captured.task.gid}")

    return Capture(
        links=a.store,
        tasks=a.store,
        captures=a.store,
        posts=a.store,
        asana=a.asana,
        slack=a.slack,
        people=people,
        clock=a.clock,
        policy=settings.policy,
        cards=cards,
        holder=a.holder,
        acting_for=acting_for,
        after_capture=suggest_soon,
        defer=lambda work, name: background.spawn(work, name=name),
    )


def _reconciler(settings: Settings, a: Adapters) -> WebhookReconciler:
    return WebhookReconciler(
        webhooks=a.store,
        links=a.store,
        asana=a.asana,
        slack=a.slack,
        clock=a.clock,
        registrar=WebhookRegistrar(
            webhooks=a.store, asana=a.asana, clock=a.clock, webhook_target=settings.webhook_target
        ),
        workspace_gid=lambda: a.identity.workspace_gid,
    )


def _worker(settings: Settings, a: Adapters) -> WorkerProcess | None:
    """A process of its own for long pure work (a report's full reload of 100,000 tasks takes a core for seconds),
    unless the database is one only this process can see. Started at its first use."""
    url = a.store.engine.url.render_as_string(hide_password=False)
    if not seen_by_other_processes(url):
        return None
    count_due = a.store.count_due if isinstance(a.store, SqlStore) else None
    worker = WorkerProcess(url, settings.policy, count_due=count_due)
    a.closers.append(worker.close)
    return worker


def _reports(settings: Settings, a: Adapters, worker: WorkerProcess | None) -> Reports:
    return Reports(
        links=a.store,
        reports=a.store,
        secrets=a.store,
        slack=a.slack,
        clock=a.clock,
        policy=settings.policy,
        base_url=settings.base_url,
        secret=settings.report_secret.reveal() if settings.report_secret else None,
        operator_token=settings.report_token.reveal() if settings.report_token else None,
        deflections=a.store,
        builder=worker,
    )


def build_identities(
    settings: Settings,
    store: IdentityStore,
    asana: BridgeAsana,
    slack: SlackTeams,
    clock: Clock,
    *,
    workspace_gid: Callable[[], str | None],
    bridge_user: Callable[[], str | None],
) -> Identities:
    """People acting as themselves in Asana when an Asana OAuth app is configured (else all act as the bridge);
    each replica builds its own on its own store connection."""
    oauth = None
    if settings.asana_client_id is not None and settings.asana_client_secret is not None:
        oauth = AsanaOAuth(
            api_url=settings.asana_api_url,
            client_id=settings.asana_client_id,
            client_secret=settings.asana_client_secret.reveal(),
            redirect_uri=settings.asana_oauth_redirect,
        )
    return Identities(
        store=store,
        oauth=oauth,
        asana=asana,
        slack=slack,
        clock=clock,
        policy=settings.policy,
        workspace_gid=workspace_gid,
        bridge_user=bridge_user,
    )
