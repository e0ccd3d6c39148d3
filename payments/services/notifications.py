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
from payments.domain.compliance import Medium, with_opt_out
from payments.domain.standing import Purpose
from payments.services.clock import Clock, utc_now

log = logging.getLogger(__name__)

RASA_TRIGGER_INTENT = "rasa_trigger_intent"
SMS = "sms"
PENDING, HELD = "pending", "held"
# A message held by a pending report goes out when the report is dismissed, unless it is older
# than this: a reminder of a date long gone helps nobody.
RELEASE_WITHIN = timedelta(days=2)


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
    purpose: Purpose = Purpose.COLLECTION,
) -> None:
    """Queue `trigger_intent` for a conversation, inside the caller's transaction.

    A second call with the same `dedupe_key` (a replayed webhook) adds nothing. `purpose`:
    `collection` (a reminder, a link: checked against the standing and the contact rules before
    every attempt) or `notice` (the answer to something the customer just did, like a payment's
    result: sent unless the medium may carry nothing).
    """
    _add(
        session,
        NotificationRow(
            kind=RASA_TRIGGER_INTENT,
            account_id=account_id,
            conversation_id=conversation_id,
            channel=channel,
            payload={"intent": intent, "entities": entities, "purpose": Purpose(purpose).value},
            dedupe_key=dedupe_key,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        ),
    )


def enqueue_sms(
    session: Session,
    *,
    to: str,
    body: str,
    dedupe_key: str,
    now: datetime,
    account_id: str | None = None,
    purpose: Purpose = Purpose.COLLECTION,
) -> None:
    """Queue an SMS we start (a reminder, a link, a notice). The body always ends with the
    opt-out notice (12 CFR 1006.6(e)); the outbox checks the contact rules again before each attempt."""
    _add(
        session,
        NotificationRow(
            kind=SMS,
            account_id=account_id,
            channel="sms",
            payload={"to": to, "body": with_opt_out(body), "purpose": Purpose(purpose).value},
            dedupe_key=dedupe_key,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        ),
    )


def release_held(session: Session, account_id: str, now: datetime) -> int:
    """Put the account's held messages (younger than `RELEASE_WITHIN`) back in the queue; they
    are checked again before they go. Returns how many."""
    rows = session.scalars(
        select(NotificationRow).where(
            NotificationRow.account_id == account_id,
            NotificationRow.status == HELD,
            NotificationRow.created_at >= now - RELEASE_WITHIN,
        )
    )
    released = 0
    for row in rows:
        row.status, row.next_attempt_at = PENDING, now
        released += 1
    return released


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
    deferred: int = 0  # not now (contact hours, call limits): tried again when allowed
    held: int = 0  # not while the account is paused or the medium is refused


@dataclass(frozen=True)
class Verdict:
    """The gate's answer for one attempt: send now, not before `not_before`, or hold (a person or
    a lifted pause must release it)."""

    send: bool
    not_before: datetime | None = None
    reason: str | None = None


class OutboxGate(Protocol):
    """The contact rules at send time (`ComplianceService.outbox_verdict`)."""

    def outbox_verdict(self, account_id: str, medium: Medium, purpose: Purpose, at: datetime) -> Verdict: ...


class NotificationService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        rasa: RasaNotifier,
        sms: SmsSender,
        *,
        max_attempts: int = 8,
        clock: Clock = utc_now,
        gate: OutboxGate | None = None,
    ) -> None:
        self.sessions = sessions
        self.rasa = rasa
        self.sms = sms
        self.max_attempts = max_attempts
        self.clock = clock
        # None only in tests of the delivery mechanics: production always passes the compliance gate.
        self.gate = gate

    async def deliver_due(self, limit: int = 50) -> DeliveryReport:
        """Send pending messages whose time has come. Before every attempt, retries included, the
        gate checks the account's standing and the contact rules again: a message that may not go
        now waits for `next_allowed_at` (its attempts not counted), one the account's standing
        refuses is held. Failures back off exponentially (30 s, 1 min, 2 min, ...) and are marked
        `failed` after `max_attempts`."""
        now = self.clock()
        with self.sessions() as session:
            due = list(
                session.scalars(
                    select(NotificationRow)
                    .where(NotificationRow.status == PENDING, NotificationRow.next_attempt_at <= now)
                    .order_by(NotificationRow.id)
                    .limit(limit)
                )
            )
        sent = retried = failed = deferred = held = 0
        for row in due:
            verdict = self._verdict(row)
            if not verdict.send:
                if self._postpone(row.id, verdict):
                    deferred, held = (deferred + 1, held) if verdict.not_before else (deferred, held + 1)
                continue
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
        return DeliveryReport(sent, retried, failed, deferred, held)

    def _verdict(self, row: NotificationRow) -> Verdict:
        if self.gate is None or row.account_id is None:
            return Verdict(True)
        medium = Medium(row.channel) if row.channel in {m.value for m in Medium} else Medium.SMS
        purpose = Purpose((row.payload or {}).get("purpose", Purpose.COLLECTION.value))
        return self.gate.outbox_verdict(row.account_id, medium, purpose, self.clock())

    def _postpone(self, row_id: int, verdict: Verdict) -> bool:
        with self.sessions.begin() as session:
            current = session.get(NotificationRow, row_id)
            if current is None or current.status != PENDING:
                return False
            if verdict.not_before is not None:
                current.next_attempt_at = verdict.not_before
            else:
                current.status = HELD
            current.last_error = (verdict.reason or "")[:500] or None
            return True

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
