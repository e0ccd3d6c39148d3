"""The outbox: messages to customers are written in the same transaction as the change that
causes them, then delivered (with retries and back-off) by `deliver_due`, so none is lost when
rasa or Twilio is down and none is sent twice (a unique `dedupe_key` per message)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from payments.adapters.orm import NotificationRow
from payments.services.clock import Clock, utc_now

log = logging.getLogger(__name__)

RASA_TRIGGER_INTENT = "rasa_trigger_intent"
SMS = "sms"


class DeliveryFailed(Exception):
    """A transient failure: try again later."""


class RasaNotifier(Protocol):
    async def trigger_intent(self, conversation_id: str, intent: str, entities: dict[str, Any]) -> None: ...


class SmsSender(Protocol):
    async def send_sms(self, to: str, body: str) -> None: ...


def enqueue_rasa_intent(
    session: Session,
    *,
    conversation_id: str,
    channel: str,
    intent: str,
    entities: dict[str, Any],
    dedupe_key: str,
    now: datetime,
    account_id: str | None = None,
) -> None:
    """Queue `trigger_intent` for a conversation, inside the caller's transaction.

    A second call with the same `dedupe_key` (a replayed webhook) adds nothing.
    """
    _add(session, NotificationRow(
        kind=RASA_TRIGGER_INTENT, account_id=account_id, conversation_id=conversation_id, channel=channel,
        payload={"intent": intent, "entities": entities}, dedupe_key=dedupe_key,
        status="pending", attempts=0, next_attempt_at=now, created_at=now,
    ))


def enqueue_sms(
    session: Session, *, to: str, body: str, dedupe_key: str, now: datetime, account_id: str | None = None
) -> None:
    """Queue an SMS we start (a reminder). The caller has already passed the contact check."""
    _add(session, NotificationRow(
        kind=SMS, account_id=account_id, channel="sms", payload={"to": to, "body": body},
        dedupe_key=dedupe_key, status="pending", attempts=0, next_attempt_at=now, created_at=now,
    ))


def _add(session: Session, row: NotificationRow) -> None:
    exists = session.scalar(select(NotificationRow.id).where(NotificationRow.dedupe_key == row.dedupe_key))
    if exists is None:
        # A savepoint, so a concurrent duplicate cannot roll back the caller's own work.
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            log.info("notification %s already queued", row.dedupe_key)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    retried: int
    failed: int


class NotificationService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        rasa: RasaNotifier,
        sms: SmsSender,
        *,
        max_attempts: int = 8,
        clock: Clock = utc_now,
    ) -> None:
        self.sessions = sessions
        self.rasa = rasa
        self.sms = sms
        self.max_attempts = max_attempts
        self.clock = clock

    async def deliver_due(self, limit: int = 50) -> DeliveryReport:
        """Send pending messages whose time has come. Failures back off exponentially (30 s, 1 min,
        2 min, ...) and are marked `failed` after `max_attempts`."""
        now = self.clock()
        with self.sessions() as session:
            due = list(session.scalars(
                select(NotificationRow)
                .where(NotificationRow.status == "pending", NotificationRow.next_attempt_at <= now)
                .order_by(NotificationRow.id)
                .limit(limit)
            ))
        sent = retried = failed = 0
        for row in due:
            error = await self._send(row)
            with self.sessions.begin() as session:
                current = session.get(NotificationRow, row.id)
                if current is None or current.status != "pending":
                    continue  # another worker got there first
                current.attempts += 1
                if error is None:
                    current.status, current.sent_at, current.last_error = "sent", self.clock(), None
                    sent += 1
                elif current.attempts >= self.max_attempts:
                    current.status, current.last_error = "failed", error[:500]
                    failed += 1
                    log.error("notification %s failed for good: %s", current.dedupe_key, error)
                else:
                    current.last_error = error[:500]
                    current.next_attempt_at = self.clock() + timedelta(seconds=30 * 2 ** (current.attempts - 1))
                    retried += 1
        return DeliveryReport(sent, retried, failed)

    async def _send(self, row: NotificationRow) -> str | None:
        try:
            if row.kind == RASA_TRIGGER_INTENT:
                await self.rasa.trigger_intent(
                    row.conversation_id or "", row.payload["intent"], row.payload.get("entities", {})
                )
            elif row.kind == SMS:
                await self.sms.send_sms(row.payload["to"], row.payload["body"])
            else:
                return f"unknown notification kind {row.kind}"
        except DeliveryFailed as exc:
            return str(exc) or type(exc).__name__
        return None
