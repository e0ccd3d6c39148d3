"""Contract test: the connectors' revocation client (channels/revocation.py) against the real
payments app it calls, `POST /api/contact/revocations` (contract C4): what the phrase matcher
produces is accepted and recorded (201), a body with nothing to record it against is refused.

Starts `.venv/payments` (migrated and seeded SQLite in a temporary folder) on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channels.revocation import RECORDED, REFUSED, PaymentsRevocationLedger, RevocationDesk
from testkit.processes import payments_service

TOKEN = "contract-service-token"
MARIA_PHONE = "+15125550101"  # A1001 in the seed
DANA_PHONE = "+14045550105"  # A1005


@pytest.fixture(scope="module")
def payments_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with payments_service(tmp_path_factory.mktemp("payments"), TOKEN) as url:
        yield url


class Recording:
    """The real ledger, remembering what it sent and got."""

    def __init__(self, url: str) -> None:
        self.ledger = PaymentsRevocationLedger(url, TOKEN, 10)
        self.outcomes: list[str] = []

    async def record(self, body: dict) -> str:
        outcome = await self.ledger.record(body)
        self.outcomes.append(outcome)
        return outcome


@pytest.mark.parametrize(
    "said, channel, phone, account",
    [
        ("stop calling me", "sms", MARIA_PHONE, None),
        ("don't text me", "voice", MARIA_PHONE, None),
        ("don't email me", "sms", MARIA_PHONE, None),
        ("don't call me at work, and not after 6pm", "sms", MARIA_PHONE, None),
        ("stop texting me", "web", None, "A1001"),
        ("cease all communication", "sms", DANA_PHONE, None),
    ],
)
async def test_what_the_matcher_produces_is_recorded(
    payments_url: str, said: str, channel: str, phone: str | None, account: str | None
) -> None:
    recording = Recording(payments_url)
    answer = await RevocationDesk(recording).handle(
        said, channel=channel, conversation_id=f"contract-{channel}", phone=phone, account_id=account
    )
    assert recording.outcomes == [RECORDED]
    assert answer is not None and ("We've recorded" in answer.text or "We've noted" in answer.text)


async def test_a_body_with_nothing_to_record_against_is_refused(payments_url: str) -> None:
    ledger = PaymentsRevocationLedger(payments_url, TOKEN, 10)
    assert (
        await ledger.record(
            {
                "phone": None,
                "account_id": None,
                "conversation_id": "c",
                "channel": "web",
                "media": ["sms"],
                "cease": False,
            }
        )
        == REFUSED
    )


async def test_a_wrong_service_token_is_refused(payments_url: str) -> None:
    ledger = PaymentsRevocationLedger(payments_url, "not-the-token", 10)
    assert (
        await ledger.record(
            {"phone": MARIA_PHONE, "conversation_id": "c", "channel": "sms", "media": ["sms"], "cease": False}
        )
        == REFUSED
    )


async def test_a_report_from_a_paused_conversation_is_filed(payments_url: str) -> None:
    recording = PaymentsRevocationLedger(payments_url, TOKEN, 10)
    answer = await RevocationDesk(recording).report(
        "this is not my debt", channel="sms", conversation_id=DANA_PHONE, phone=DANA_PHONE
    )
    assert answer is not None and "we've recorded that" in answer.text
