"""Rasa's HTTP API, as the payments service uses it: the outbox tells a conversation that
something happened (payment confirmed, reminder due), the agent console reads transcripts and
sends agents' messages; rasa answers through the conversation's own channel (`output_channel=latest`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from payments.domain.errors import UpstreamUnavailable
from payments.services.notifications import DeliveryFailed


class HttpRasaNotifier:
    """The outbox's way to tell a conversation something (NotificationService's notifier)."""

    def __init__(self, base_url: str, auth_token: str, timeout_seconds: float = 10.0) -> None:
        self.conversations = RasaConversations(base_url, auth_token, timeout_seconds)

    async def trigger_intent(self, conversation_id: str, intent: str, entities: dict[str, Any]) -> None:
        try:
            await self.conversations.trigger_intent(conversation_id, intent, entities)
        except UpstreamUnavailable as exc:
            raise DeliveryFailed(exc.detail) from exc


class RasaConversations:
    """What the agent console asks of Rasa's HTTP API: read a conversation, add events to it
    (an agent's message, a hand-back) with their side effects sent through the customer's own
    channel, and trigger an intent. Raises UpstreamUnavailable when rasa does not answer."""

    def __init__(self, base_url: str, auth_token: str, timeout_seconds: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth_token = auth_token
        self.timeout_seconds = timeout_seconds

    def _url(self, conversation_id: str, path: str) -> str:
        # "+" stays as it is: Sanic 21.12 does not decode path parameters, so "%2B1512..." would be
        # a different conversation from "+1512..." (phone-number conversation ids).
        return f"{self.base_url}/conversations/{quote(conversation_id, safe='+')}/{path}"

    async def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        params = {"token": self.auth_token, **kwargs.pop("params", {})}
        try:
            async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
                response = await client.request(method, url, params=params, **kwargs)
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(f"the assistant (rasa) is unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            raise UpstreamUnavailable(f"the assistant (rasa) answered HTTP {response.status_code}")
        return response.json()

    async def events(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every event of the conversation, oldest first (all sessions)."""
        tracker = await self._request("GET", self._url(conversation_id, "tracker"), params={"include_events": "ALL"})
        return list(tracker.get("events") or [])

    async def append(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """Add events; a bot event is also sent to the customer on the channel they last used."""
        await self._request(
            "POST",
            self._url(conversation_id, "tracker/events"),
            params={"output_channel": "latest", "execute_side_effects": "true"},
            json=events,
        )

    async def trigger_intent(self, conversation_id: str, intent: str, entities: dict[str, Any] | None = None) -> None:
        await self._request(
            "POST",
            self._url(conversation_id, "trigger_intent"),
            params={"output_channel": "latest"},
            json={"name": intent, "entities": entities or {}},
        )
