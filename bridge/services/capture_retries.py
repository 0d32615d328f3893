"""A person's capture through an Asana outage: retried in the background, and they hear how it ended."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bridge import wording
from bridge.errors import AsanaRateLimited, AsanaUnavailable
from bridge.services.capture import Capture
from bridge.services.capture_request import AlreadyCaptured, Captured, CaptureRequest

log = logging.getLogger(__name__)

Tell = Callable[[str], Awaitable[None]]
RETRY_DELAYS = (5.0, 20.0, 60.0, 300.0, 600.0)


async def capture_with_retries(
    capture: Capture,
    request: CaptureRequest,
    tell: Tell,
    *,
    delays: tuple[float, ...] = RETRY_DELAYS,
    landed: Callable[[Captured], Awaitable[None]] | None = None,
) -> Captured | AlreadyCaptured | None:
    """Capture, and when Asana is down keep trying in the background and tell the person how it ended.

    A person's request is never dropped silently: they hear that it is delayed, then that it landed (or not).
    `landed` tells them about the task in its own way (a /task's confirmation), however long it took.
    """
    started = capture.now()
    told = False
    for attempt in range(len(delays) + 1):
        try:
            if attempt and request.marker_key is not None:
                # The last attempt may have created the task before its answer was lost: look before creating.
                found = await capture.recovery.recover(request, since=started - timedelta(minutes=1))
                if found is not None:
                    result: Captured | AlreadyCaptured = found
                    break
            result = await capture.capture(request)
            break
        except (AsanaUnavailable, AsanaRateLimited) as exc:
            if attempt == len(delays):
                await tell(wording.CAPTURE_GAVE_UP.format(title=wording.escape(request.title)))
                return None
            # Told once a retry has failed too, not at the first refusal: that can come within milliseconds of
            # the ack, before Slack has shown the ack's own answer, which the confirmation would then replace
            # instead of this one (seen in CI as a "not answering" line left above "Created in Asana").
            if not told and attempt >= 1:
                await tell(wording.ASANA_RETRYING.format(reason=exc))
                told = True
            log.warning("capture delayed (%s); retrying in %.0fs", exc, delays[attempt])
            await asyncio.sleep(delays[attempt])
    if isinstance(result, Captured) and landed is not None:
        await landed(result)
    elif told and isinstance(result, Captured):
        await tell(wording.task_landed(result.task))
    return result
