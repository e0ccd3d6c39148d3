"""A stand-in for Rasa's HTTP API (payments.services.console.Conversations), for unit and API tests."""

from __future__ import annotations

from typing import Any

from payments.domain.errors import UpstreamUnavailable


class FakeConversations:
    """Keeps each conversation's events in memory; `down=True` makes every call fail like an
    unreachable rasa."""

    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.tracker_events: dict[str, list[dict[str, Any]]] = {}
        self.triggered: list[tuple[str, str, dict[str, Any]]] = []

    def _check(self) -> None:
        if self.down:
            raise UpstreamUnavailable("the assistant (rasa) is unreachable: ConnectError")

    async def events(self, conversation_id: str) -> list[dict[str, Any]]:
        self._check()
        return list(self.tracker_events.get(conversation_id, []))

    async def append(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        self._check()
        self.tracker_events.setdefault(conversation_id, []).extend(events)

    async def trigger_intent(self, conversation_id: str, intent: str, entities: dict[str, Any] | None = None) -> None:
        self._check()
        self.triggered.append((conversation_id, intent, dict(entities or {})))
