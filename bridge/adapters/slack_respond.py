"""Answers through a request's response_url that get through Slack's bad moments.

Bolt's own `respond` makes one attempt: a 5xx, a 429 or a dropped connection on the way back to the person loses
their answer (a /task's confirmation, a command's result) without a word. This one is the same call with
slack_sdk's retry handlers, and it raises when Slack still refuses, so the caller logs it (see `quietly`).
A 5xx may come after Slack showed the answer, so a retry can show it twice; the answers that matter most replace
the message they answer (`replace_original`), which a second delivery leaves as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

# A response_url may be used five times in 30 minutes; failed attempts do not count, so these can be generous.
RETRIES = 5


class SlackAnswerFailed(Exception):
    """Slack still refused an answer after the retries."""


class LastingRespond(AsyncRespond):
    def __init__(self, *, response_url: str, session: aiohttp.ClientSession | None = None) -> None:
        super().__init__(response_url=response_url)
        self._session = session  # made for every request with a response_url, so the client waits for a first answer

    def _client(self) -> AsyncWebhookClient:
        return AsyncWebhookClient(
            url=str(self.response_url),
            session=self._session,
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(max_retry_count=RETRIES),
                AsyncRateLimitErrorRetryHandler(max_retry_count=RETRIES),
                AsyncServerErrorRetryHandler(max_retry_count=RETRIES),
            ],
        )

    async def __call__(  # type: ignore[override]  # the same keywords as Bolt's; a whole message as a dict too
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[dict[str, Any] | Block] | None = None,
        **options: Any,
    ) -> WebhookResponse:
        if isinstance(text, dict):
            message = dict(text)
        else:
            message = {"text": text, **{k: v for k, v in options.items() if v is not None}}
            if blocks:
                message["blocks"] = [b.to_dict() if isinstance(b, Block) else b for b in blocks]
        response = await self._client().send_dict(message)
        if response.status_code >= 300:
            raise SlackAnswerFailed(f"response_url answered {response.status_code}: {response.body}")
        return response
