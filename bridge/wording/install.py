"""The multi-workspace install: the page the installer's browser lands on after Slack's consent screen."""

from __future__ import annotations

import html

INSTALL_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>'
    "<body><h1>{title}</h1><p>{text}</p></body></html>"
)


def install_succeeded_page(team_name: str) -> str:
    return INSTALL_PAGE.format(
        title="Installed",
        text=html.escape(
            f"The Asana bridge is installed in {team_name or 'your workspace'}. "
            "Link a channel to an Asana project with /asana link <project URL>."
        ),
    )


def install_failed_page(reason: str) -> str:
    return INSTALL_PAGE.format(
        title="Not installed",
        text=html.escape(f"The Asana bridge was not installed ({reason}). Start again from the install link."),
    )
