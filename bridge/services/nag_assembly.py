"""The nagger and its parts (posts, open tasks, mentions, people's presence), assembled from one store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bridge.domain.policy import Policy
from bridge.ports import (
    AsanaPort,
    Clock,
    Leadership,
    LinkReads,
    NagIndex,
    NagLog,
    OutboxStore,
    SlackTeams,
    TaskStore,
    UserMappings,
)
from bridge.services.nag_mentions import NagMentions
from bridge.services.nag_prepass import QuietArming
from bridge.services.nags import Nagger
from bridge.services.open_tasks import OpenTasks
from bridge.services.outbox import Outbox
from bridge.services.people import People
from bridge.services.pool import Pool
from bridge.services.presence import Presence


class NagStore(LinkReads, TaskStore, NagLog, NagIndex, UserMappings, OutboxStore, Leadership, Protocol):
    """A store holding everything the nagger and its parts read (the SQL store; the unit tests' fake): what
    `nagger_for` builds them from. The Nagger itself takes only the protocols it calls."""


def nagger_for(
    store: NagStore,
    *,
    asana: AsanaPort,
    slack: SlackTeams,
    clock: Clock,
    policy: Policy,
    on_sent: Callable[[str], None] = lambda kind: None,
    presence: Presence | None = None,
    people: People | None = None,
    quiet: QuietArming | None = None,
) -> Nagger:
    """The nagger and its parts (posts, open tasks, mentions), all reading one store."""
    presence = presence or Presence(slack=slack, pool=Pool(store=store, asana=asana, slack=slack))
    return Nagger(
        links=store,
        tasks=store,
        index=store,
        sent=store,
        leadership=store,
        outbox=Outbox(store=store, slack=slack, clock=clock),
        open_tasks=OpenTasks(store=store, clock=clock, policy=policy),
        mentions=NagMentions(mappings=store, slack=slack, presence=presence, policy=policy, people=people),
        presence=presence,
        asana=asana,
        slack=slack,
        clock=clock,
        policy=policy,
        on_sent=on_sent,
        quiet=quiet,
    )
