"""Every word the bridge says in Slack, and the Block Kit it says it with: one package for wording, a module per
surface. Callers write `from bridge import wording` and `wording.<name>`."""

from bridge.wording import when as when
from bridge.wording.card import *  # noqa: F403
from bridge.wording.commands import *  # noqa: F403
from bridge.wording.home import *  # noqa: F403
from bridge.wording.identity import *  # noqa: F403
from bridge.wording.install import *  # noqa: F403
from bridge.wording.kit import Blocks as Blocks
from bridge.wording.kit import escape as escape
from bridge.wording.kit import first_line as first_line
from bridge.wording.kit import person as person
from bridge.wording.nag_clicks import *  # noqa: F403
from bridge.wording.nags import *  # noqa: F403
from bridge.wording.notes import *  # noqa: F403
from bridge.wording.relay import *  # noqa: F403
from bridge.wording.reports import *  # noqa: F403
from bridge.wording.routing import *  # noqa: F403
from bridge.wording.suggest import *  # noqa: F403
from bridge.wording.task_command import *  # noqa: F403
from bridge.wording.unfurls import *  # noqa: F403
