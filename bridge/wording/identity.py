"""Connecting one's own Asana account: `/asana connect` and `disconnect`, the page Asana's consent screen sends people
back to, the App Home's connection section, the one-time offer, and the words written into Asana on someone's
behalf. Names from Asana are hostile text: escaped for mrkdwn here and for HTML on the pages."""

from __future__ import annotations

import html

from bridge.wording.install import INSTALL_PAGE
from bridge.wording.kit import Blocks, escape

ASANA_CONNECT = "asana_connect"  # the link button to Asana's consent page: acked only
ASANA_CONNECT_START = "asana_connect_start"  # the App Home's button: makes a fresh link (one works 10 minutes)
ASANA_DISCONNECT = "asana_disconnect"

CONNECT_NOT_SET_UP = (
    "Connecting your own Asana account isn't set up on this bridge: everything is done by the bridge's Asana user. "
    "(The operator sets ASANA_CLIENT_ID and ASANA_CLIENT_SECRET to turn it on.)"
)
NOT_CONNECTED = "Your Asana account isn't connected, so there was nothing to disconnect."
CONNECTION_DROPPED = (
    "Asana refused to renew your connection (it was revoked or has expired), so I forgot it. What you do from Slack "
    "is done by the bridge on your behalf until you connect again with `/asana connect`."
)

CONNECTION_REFUSED = (
    "Asana no longer accepts your connection (it may have been revoked in Asana), so nothing was changed. "
    "Run `/asana disconnect`, then `/asana connect` to connect again."
)


def connect_prompt(url: str) -> tuple[str, Blocks]:
    """The private answer to /asana connect: a link to Asana's consent page, for this person only."""
    text = (
        "Connect your Asana account, so that what you do from Slack (tasks, comments, buttons) is yours in Asana. "
        "The link works once, for you, for 10 minutes."
    )
    return text, [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": text},
            "accessory": _connect_button(url),
        }
    ]


def _connect_button(url: str) -> dict[str, object]:
    return {
        "type": "button",
        "action_id": ASANA_CONNECT,
        "text": {"type": "plain_text", "text": "Connect Asana"},
        "url": url,
        "style": "primary",
    }


def already_connected(asana_name: str) -> str:
    return f"You're connected to Asana as *{escape(asana_name)}*. `/asana disconnect` to undo it."


def disconnected(asana_name: str) -> str:
    return (
        f"Disconnected: the bridge no longer acts as *{escape(asana_name)}* in Asana, and Asana was told to revoke "
        "its access."
    )


def connect_offer(url: str) -> tuple[str, Blocks]:
    """Said once to someone acting from Slack without a connected account (the bridge acted on their behalf)."""
    text = (
        "The bridge just did that in Asana *on your behalf*, as its own Asana user. Connect your Asana account and "
        "it will be yours in Asana (history, notifications, \u201ccreated by\u201d); the button works for 10 "
        "minutes, `/asana connect` any time. I'll only mention this once."
    )
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}, "accessory": _connect_button(url)}]


def connect_required(url: str) -> str:
    return (
        "This workspace asks people to connect their own Asana account before acting from Slack, "
        f"so nothing was changed. <{url}|Connect Asana>, then try again."
    )


def no_access(project_name: str | None) -> str:
    """A person's own token was refused (403/404): nothing was changed, and nothing is retried as the bridge."""
    where = f"the Asana project *{escape(project_name)}*" if project_name else "that Asana project or task"
    return (
        f"Your Asana account has no access to {where}, so nothing was changed. "
        "Ask a member of the project to add you, then try again."
    )


def on_behalf_of(name: str) -> str:
    """Written into Asana (plain text) when the bridge acts for someone whose Asana account isn't connected."""
    return f"Done from Slack by the bridge on behalf of {name}."


def home_connect_link(url: str) -> str:
    """The App Home's note after "Connect Asana": a fresh link (the Home may stay open longer than one lasts)."""
    return f"<{url}|Open Asana's page to connect your account> (the link works once, for 10 minutes)."


def home_connection(*, asana_name: str | None) -> Blocks:
    """The App Home's section about the person's Asana connection."""
    if asana_name is not None:
        text = f"*Asana account:* connected as *{escape(asana_name)}*. What you do from Slack is yours in Asana."
        button: dict[str, object] = {
            "type": "button",
            "action_id": ASANA_DISCONNECT,
            "text": {"type": "plain_text", "text": "Disconnect"},
            "value": "disconnect",
        }
    else:
        text = "*Asana account:* not connected. The bridge acts on your behalf, as its own Asana user."
        button = {
            "type": "button",
            "action_id": ASANA_CONNECT_START,
            "text": {"type": "plain_text", "text": "Connect Asana"},
            "value": "connect",
            "style": "primary",
        }
    return [
        {"type": "divider"},
        {
            "type": "section",
            "block_id": "home_asana_connection",
            "text": {"type": "mrkdwn", "text": text},
            "accessory": button,
        },
    ]


# ---- the page Asana's consent screen sends the person back to ------------------------------------------------------

CONNECT_STATE_UNKNOWN = (
    "This link was used already, has expired, or was not made for this browser's request. "
    "Run /asana connect in Slack for a new one."
)
CONNECT_DECLINED = "You declined on Asana's page, so nothing was connected. Run /asana connect again to connect."
CONNECT_ASANA_ERROR = "Asana answered with an error ({error}), so nothing was connected. Run /asana connect again."
CONNECT_NO_CODE = "Asana's answer had no authorization code, so nothing was connected. Run /asana connect again."
CONNECT_CODE_REFUSED = (
    "Asana did not accept the authorization code (it may have been used already or expired), so nothing was "
    "connected. Run /asana connect again."
)
CONNECT_WRONG_WORKSPACE = (
    "That Asana account is not in the workspace this bridge serves, so nothing was connected. Log in to Asana with "
    "your work account and run /asana connect again."
)
CONNECT_ASANA_DOWN = "Asana is not answering right now, so nothing was connected. Try /asana connect again later."
CONNECT_NOT_SET_UP_PAGE = "Connecting Asana accounts isn't set up on this bridge."


def connected_page(asana_name: str) -> str:
    return INSTALL_PAGE.format(
        title="Connected",
        text=html.escape(
            f"You're connected as {asana_name} in Asana. What you do from Slack is now yours in Asana. "
            "You can close this tab."
        ),
    )


def connect_failed_page(reason: str) -> str:
    return INSTALL_PAGE.format(title="Not connected", text=html.escape(reason))
