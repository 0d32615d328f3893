"""Every word the bridge says in Slack, and the Block Kit it says it with: one package for wording, a module per
surface. Callers write `from bridge.adapters import blocks` and `blocks.<name>`."""

from bridge.adapters.blocks import when as when
from bridge.adapters.blocks.card import *  # noqa: F403
from bridge.adapters.blocks.commands import *  # noqa: F403
from bridge.adapters.blocks.home import *  # noqa: F403
from bridge.adapters.blocks.identity import *  # noqa: F403
from bridge.adapters.blocks.install import *  # noqa: F403
from bridge.adapters.blocks.kit import Blocks as Blocks
from bridge.adapters.blocks.kit import escape as escape
from bridge.adapters.blocks.kit import first_line as first_line
from bridge.adapters.blocks.kit import person as person
from bridge.adapters.blocks.nags import *  # noqa: F403
from bridge.adapters.blocks.notes import *  # noqa: F403
from bridge.adapters.blocks.relay import *  # noqa: F403
from bridge.adapters.blocks.reports import *  # noqa: F403
from bridge.adapters.blocks.routing import *  # noqa: F403
from bridge.adapters.blocks.suggest import *  # noqa: F403
from bridge.adapters.blocks.task_command import *  # noqa: F403
from bridge.adapters.blocks.unfurls import *  # noqa: F403
