"""`/asana report`: the channel's SLA summary with the signed link to the full report."""

from __future__ import annotations

from bridge.domain.report import Report, Status
from bridge.wording import when
from bridge.wording.kit import Blocks

REPORT_NOT_LINKED = (
    "This channel isn't linked to an Asana project, so it has no report. Link it with `/asana link <project link>`, "
    "or run `/asana report` in a linked channel."
)
REPORT_MEMBERS_ONLY = "Only members of this channel get a link to its report. Join the channel, then try again."


def report_summary(project_name: str, report: Report, *, url: str, days: int) -> tuple[str, Blocks]:
    """The short summary `/asana report` posts: open, at risk, breached, this week's median first response."""
    week = report.this_week
    median = week.first_response.median if week is not None else None
    response = when.first_response(median) if median is not None else "no responses yet"
    counts = report.counts
    text = (
        f"SLA report for {project_name}: {report.open} open, {counts[Status.AT_RISK]} at risk, "
        f"{counts[Status.BREACHED]} breached; median first response this week: {response}."
    )
    fields = [
        ("Open", str(report.open)),
        (":large_yellow_circle: At risk", str(counts[Status.AT_RISK])),
        (":red_circle: Breached", str(counts[Status.BREACHED])),
        ("Median first response this week", response + " (business time)" if median is not None else response),
    ]
    if report.deflections is not None and report.deflections.suggested:
        found = report.deflections
        saved = when.working(found.saved)
        fields.append(
            (
                ":bulb: Answered by earlier questions",
                f"{found.accepted} of {found.suggested} suggested ({found.rejected} not it); saved {saved}",
            )
        )
        text += f" Earlier answers accepted: {found.accepted} of {found.suggested}."
    return text, [
        {"type": "header", "text": {"type": "plain_text", "text": f"SLA report: {project_name}"[:150]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in fields]},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": REPORT_OPEN,
                    "text": {"type": "plain_text", "text": "Open the full report"},
                    "url": url,
                }
            ],
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"<{url}|Report link> for members of this channel; it works for {days} days.",
                }
            ],
        },
    ]


REPORT_OPEN = "report_open"
