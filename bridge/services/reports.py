"""Reports: the SLA report of one link or of all, who may read it, and the summary `/asana report` posts.

The report-link secret is BRIDGE_REPORT_SECRET when set; otherwise one is made at first use and kept in the
database, so that every replica signs and checks links alike. Replacing it (`bridge rotate-report-secret`, or a
new BRIDGE_REPORT_SECRET) revokes every link handed out.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Protocol

from bridge import wording
from bridge.domain.model import ChannelId, Link, SlackUserId, TeamId
from bridge.domain.policy import Policy
from bridge.domain.report import ALL, Report, typical_first_response
from bridge.domain.report_access import LINK_LIFETIME, Credentials, Grant, Refusal, check, signed_query
from bridge.domain.report_export import Export, Form
from bridge.domain.report_tasks import link_id
from bridge.domain.suggest import Deflection, summarize
from bridge.ports import Clock, LinkReads, ReportStore, SecretStore, SlackTeams
from bridge.ports.reports import ReportBuilder
from bridge.services.errors import UserError
from bridge.services.report_build import ReportMaker

log = logging.getLogger(__name__)

SECRET_NAME = "report_links"  # the row of server_secrets that signs report links


class DeflectionSource(Protocol):
    async def deflections_since(self, since: datetime, *, team_id: TeamId | None = None) -> list[Deflection]: ...


class AccessDenied(Exception):
    """No report for this request; `refusal` says why (MISSING is a 401, the rest 403)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


class UnknownLink(Exception):
    """The report of a link that does not exist (asked for with a grant to every link)."""


@dataclass(frozen=True)
class ReportLink:
    id: str
    name: str  # the Asana project's name
    channel_id: ChannelId


@dataclass(frozen=True)
class ReportView:
    """A report as one reader may see it: which links they may pick from, and which one they picked."""

    report: Report
    links: tuple[ReportLink, ...]
    selected: str  # ALL or a link id
    grant: Grant

    @property
    def title(self) -> str:
        return next((link.name for link in self.links if link.id == self.selected), "All links")


@dataclass(frozen=True)
class _Access:
    """What a request may read: the links it may pick from, the one it picked, and the links its report covers."""

    selected: str
    grant: Grant
    links: tuple[ReportLink, ...]
    chosen: list[Link]

    def view(self, report: Report) -> ReportView:
        return ReportView(report=report, links=self.links, selected=self.selected, grant=self.grant)


class Reports:
    def __init__(
        self,
        *,
        links: LinkReads,
        reports: ReportStore,
        secrets: SecretStore,
        slack: SlackTeams,
        clock: Clock,
        policy: Policy,
        base_url: str,
        secret: str | None = None,
        operator_token: str | None = None,
        lifetime: timedelta = LINK_LIFETIME,
        deflections: DeflectionSource | None = None,
        builder: ReportBuilder | None = None,
    ) -> None:
        self._deflections = deflections  # what suggestions of earlier answers settled (issue 22)
        self._links = links
        self._reports = reports
        self._secrets = secrets
        self._slack = slack
        self._clock = clock
        self._policy = policy
        self._base_url = base_url.rstrip("/")
        self._configured_secret = secret
        self._operator_token = operator_token
        self._lifetime = lifetime
        # Builds the reports: in a process of its own when the bridge's wiring gives one, else in this one.
        self._builder: ReportBuilder = builder or ReportMaker(reports, policy)

    async def _secret(self, *, make: bool = True) -> bytes:
        """The secret links are signed with. Only issuing a link may make it: checking a request never writes (a
        request with no valid link changes nothing), and with no secret yet no link can be valid anyway."""
        if self._configured_secret is not None:
            return self._configured_secret.encode()
        # Read each time (one primary-key read): a rotation by any replica or by the CLI holds everywhere at once.
        candidate = new_secret() if make else None
        stored = await self._secrets.server_secret(SECRET_NAME, candidate=candidate, now=self._clock.now())
        return (stored or new_secret()).encode()  # none yet: a throwaway that nothing was signed with

    async def rotate_secret(self) -> None:
        """Make a new stored secret: every link signed so far stops working."""
        await self._secrets.replace_server_secret(SECRET_NAME, new_secret(), now=self._clock.now())

    async def link_url(self, scope: str) -> str:
        """A signed link to the report of `scope` (a link id or ALL), valid for the configured lifetime."""
        query = signed_query(await self._secret(), scope, now=self._clock.now(), lifetime=self._lifetime)
        return f"{self._base_url}/report?{query}"

    async def view(self, credentials: Credentials, wanted: str | None, *, rows: int | None = None) -> ReportView:
        """The report a request asked for, if its credentials allow it; raise AccessDenied or UnknownLink. With
        `rows`, only the most urgent `rows` open items are in it (the page), else every one."""
        access = await self._allowed(credentials, wanted)
        return access.view(await self._report(access.selected, access.chosen, rows=rows))

    async def export(self, credentials: Credentials, wanted: str | None, *, form: Form) -> tuple[ReportView, Export]:
        """As `view`, for the JSON and CSV exports: the view's report has no open items; the export has every one,
        serialized in `form` where the report was built."""
        access = await self._allowed(credentials, wanted)
        export = await self._builder.export(access.selected, access.chosen, self._clock.now(), form=form)
        report = await self._with_deflections(export.report, access.chosen)
        return access.view(report), replace(export, report=report)

    async def _allowed(self, credentials: Credentials, wanted: str | None) -> _Access:
        selected = wanted or credentials.scope or ALL
        verdict = check(
            credentials,
            secret=await self._secret(make=False),
            operator_token=self._operator_token,
            wanted=selected,
            now=self._clock.now(),
        )
        if isinstance(verdict, Refusal):
            raise AccessDenied(verdict)
        links = await self._links.list_links()
        visible = [link for link in links if verdict.allows(link_id(link.team_id, link.channel_id))]
        chosen = [link for link in visible if selected in (ALL, link_id(link.team_id, link.channel_id))]
        if selected != ALL and not chosen:
            raise UnknownLink(selected)
        return _Access(
            selected=selected,
            grant=verdict,
            links=tuple(
                ReportLink(link_id(link.team_id, link.channel_id), link.project_name, link.channel_id)
                for link in sorted(visible, key=lambda link: link.project_name.casefold())
            ),
            chosen=chosen,
        )

    async def _report(self, scope: str, links: list[Link], *, rows: int | None = None) -> Report:
        report = await self._builder.report(scope, links, self._clock.now(), rows=rows)
        return await self._with_deflections(report, links)

    async def _with_deflections(self, report: Report, links: list[Link]) -> Report:
        """The report's weeks' deflections of these links, and the first-response time the accepted ones saved."""
        if self._deflections is None or not report.weeks:
            return report
        since = datetime.combine(report.weeks[0].start, time(), tzinfo=UTC)
        keys = {(link.team_id, link.channel_id) for link in links}
        rows = [d for d in await self._deflections.deflections_since(since) if (d.team_id, d.channel_id) in keys]
        return replace(report, deflections=summarize(rows, typical_first_response=typical_first_response(report)))

    async def post_summary(self, team_id: TeamId, channel_id: ChannelId, user: SlackUserId) -> None:
        """`/asana report`: the channel's summary with a signed link, for a member of the linked channel."""
        link = await self._links.get_link(team_id, channel_id)
        if link is None:
            raise UserError(wording.REPORT_NOT_LINKED)
        # The link opens the channel's report to whoever holds it: hand it only to the channel's members.
        slack = self._slack.for_team(team_id)
        if user not in await slack.channel_members(channel_id):
            raise UserError(wording.REPORT_MEMBERS_ONLY)
        scope = link_id(team_id, channel_id)
        report = await self._report(scope, [link], rows=0)  # counts only
        text, summary = wording.report_summary(
            link.project_name, report, url=await self.link_url(scope), days=self._lifetime.days
        )
        await slack.post_message(channel_id, text, blocks=summary)


def new_secret() -> str:
    return secrets.token_urlsafe(32)
