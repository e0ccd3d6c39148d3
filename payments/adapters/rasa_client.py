"""Tells a conversation that something happened (payment confirmed, reminder due) through Rasa's
HTTP API; rasa then answers through that conversation's own channel (`output_channel=latest`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from payments.services.notifications import DeliveryFailed


class HttpRasaNotifier:
    def __init__(self, base_url: str, auth_token: str, timeout_seconds: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth_token = auth_token
        self.timeout_seconds = timeout_seconds

    async def trigger_intent(self, conversation_id: str, intent: str, entities: dict[str, Any]) -> None:
        # "+" stays as it is: Sanic 21.12 does not decode path parameters, so "%2B1512..." would be
        # a different conversation from "+1512..." (phone-number conversation ids).
        url = f"{self.base_url}/conversations/{quote(conversation_id, safe='+')}/trigger_intent"
        try:
            async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
                response = await client.post(
                    url,
                    params={"output_channel": "latest", "token": self.auth_token},
                    json={"name": intent, "entities": entities},
                )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"rasa unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            raise DeliveryFailed(f"rasa answered HTTP {response.status_code}")
