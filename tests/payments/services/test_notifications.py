"""The outbox at send time: the compliance gate is asked before every attempt (retries too), a
message that may not go now waits without using an attempt, one the standing refuses is held;
every SMS we start carries the opt-out notice."""

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import select

from payments.adapters.orm import NotificationRow
from payments.domain.accounts import AccountFlag
from payments.domain.compliance import OPT_OUT_NOTICE
from payments.domain.standing import Purpose
from payments.services.compliance import ComplianceService
from payments.services.notifications import DeliveryFailed, NotificationService, enqueue_rasa_intent, enqueue_sms

MARIA, MARIA_PHONE = "A1001", "+15125550101"


@dataclass
class Vendors:
    fail_sms: int = 0
    sms: list[tuple[str, str]] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)

    async def trigger_intent(self, conversation_id: str, intent: str, entities: dict[str, Any]) -> None:
        self.intents.append(intent)

    async def send_sms(self, to: str, body: str) -> None:
        if self.fail_sms:
            self.fail_sms -= 1
            raise DeliveryFailed("twilio down")
        self.sms.append((to, body))


def queue_sms(sessions, clock, key="m1", body="Your payment of $95.00 is due.", purpose=Purpose.COLLECTION):
    with sessions.begin() as session:
        enqueue_sms(session, to=MARIA_PHONE, body=body, dedupe_key=key, now=clock(), account_id=MARIA, purpose=purpose)


def row(sessions, key="m1") -> NotificationRow:
    with sessions() as session:
        return session.scalar(select(NotificationRow).where(NotificationRow.dedupe_key == key))


@pytest.fixture
def compliance(sessions, clock):
    return ComplianceService(sessions, clock=clock)


@pytest.fixture
def outbox(sessions, clock, compliance):
    vendors = Vendors()
    return NotificationService(sessions, vendors, vendors, clock=clock, gate=compliance), vendors


@pytest.mark.parametrize("body", ["Your payment is due.", f"Your payment is due. {OPT_OUT_NOTICE}"])
def test_every_sms_we_start_ends_with_the_opt_out_notice_once(sessions, clock, body):
    queue_sms(sessions, clock, body=body)
    stored = row(sessions).payload["body"]
    assert stored.endswith(OPT_OUT_NOTICE) and stored.count(OPT_OUT_NOTICE) == 1


async def test_a_message_sent_within_the_rules(outbox, sessions, clock):
    service, vendors = outbox
    queue_sms(sessions, clock)
    report = await service.deliver_due()
    assert report.sent == 1 and vendors.sms[0][1].endswith(OPT_OUT_NOTICE)


async def test_a_retry_is_checked_again_and_waits_for_contact_hours(outbox, sessions, clock):
    service, vendors = outbox
    clock.now = datetime(2026, 3, 3, 2, 50, tzinfo=timezone.utc)  # 20:50 in Chicago
    vendors.fail_sms = 1
    queue_sms(sessions, clock)
    assert (await service.deliver_due()).retried == 1  # Twilio down; retry in 30 s, at 20:50:30
    clock.advance(minutes=15)  # 21:05 in Chicago: the retry is due, and outside hours now
    report = await service.deliver_due()
    assert (report.sent, report.deferred) == (0, 1) and vendors.sms == []
    waiting = row(sessions)
    assert waiting.status == "pending" and waiting.attempts == 1  # the deferral used no attempt
    assert waiting.next_attempt_at == datetime(2026, 3, 3, 14, 0, tzinfo=timezone.utc)  # 08:00 in Chicago
    clock.now = waiting.next_attempt_at
    assert (await service.deliver_due()).sent == 1


async def test_a_message_for_a_paused_account_is_held_not_sent(outbox, sessions, clock, compliance):
    service, vendors = outbox
    queue_sms(sessions, clock)
    compliance.set_flag(MARIA, AccountFlag.BANKRUPTCY, actor="agent:sam", channel="console")
    report = await service.deliver_due()
    assert (report.sent, report.held) == (0, 1) and vendors.sms == []
    held = row(sessions)
    assert held.status == "held" and held.last_error == "collection_paused"
    clock.advance(days=1)
    assert (await service.deliver_due()).sent == 0  # held messages are not retried


async def test_a_payment_result_is_a_notice_and_reaches_a_disputed_account_at_night(
    outbox, sessions, clock, compliance
):
    service, vendors = outbox
    compliance.set_flag(MARIA, AccountFlag.DISPUTE, actor="customer", channel="sms")
    clock.now = datetime(2026, 3, 3, 4, 0, tzinfo=timezone.utc)  # 22:00: the customer just paid on the page
    with sessions.begin() as session:
        enqueue_rasa_intent(
            session,
            conversation_id=MARIA_PHONE,
            channel="sms",
            intent="payment_succeeded",
            entities={},
            dedupe_key="p1",
            now=clock(),
            account_id=MARIA,
            purpose=Purpose.NOTICE,
        )
    assert (await service.deliver_due()).sent == 1 and vendors.intents == ["payment_succeeded"]


async def test_the_outbox_sees_a_revocation_made_after_queueing(outbox, sessions, clock, compliance):
    service, vendors = outbox
    queue_sms(sessions, clock)
    compliance.revoke(
        phone=MARIA_PHONE, account_id=None, media=["sms"], cease=False, channel="voice", conversation_id="voice-CA1"
    )
    report = await service.deliver_due()
    assert report.held == 1 and vendors.sms == [] and row(sessions).last_error == "opted_out"


async def test_without_a_gate_nothing_is_checked(sessions, clock, compliance):
    vendors = Vendors()
    queue_sms(sessions, clock)
    clock.advance(hours=10)  # 04:00 in Chicago
    assert (await NotificationService(sessions, vendors, vendors, clock=clock).deliver_due()).sent == 1
