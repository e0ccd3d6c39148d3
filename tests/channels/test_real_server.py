"""SMS and voice through the REAL rasa server (with the action server and payments service, see
testkit/stack.py), Twilio's REST API played by testkit/twilio.py's stand-in. Proves what unit
tests cannot: bot/credentials.yml loads both connectors, replies and pushed messages reach the
number, and a card number typed or spoken never lands in the tracker store (the SQLite file is
searched) or in any process's log, at DEBUG level.

Needs the trained model models/evenkeel.tar.gz and does not retrain it: when the model is
older than the training data, the module is skipped with that reason (`make model` first).
"""

from __future__ import annotations

import sqlite3
import tarfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import count
from typing import Any

import httpx
import pytest

from contracts.channel_facts import verify
from testkit.stack import CHANNEL_FACTS_KEY, MODEL, RASA_TOKEN, ROOT, Stack
from testkit.twilio import TwilioApiStandIn
from tests.channels.conftest import signature

PHONE = "+15125550101"  # Maria Lopez in the demo data: card 4821, born 1985-03-14, ZIP 78701
OUR_NUMBER = "+15005550006"
ACCOUNT_SID = "AC" + "e" * 32
AUTH_TOKEN = "e2e-twilio-auth-token"
CARD_FORMS = (
    "4111111111111111",
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "1111 1111 1111",
    "one one one one one one",
)
_sids = count(1)


def stale_model_reason() -> str | None:
    """Why the trained model cannot be used here, or None."""
    if not MODEL.exists():
        return "no trained model at models/evenkeel.tar.gz: run `make model` (this test does not train)"
    training = [ROOT / "bot/config.yml", *ROOT.glob("bot/domain/*.yml"), *ROOT.glob("data/**/*.yml")]
    newer = sorted(str(p.relative_to(ROOT)) for p in training if p.stat().st_mtime > MODEL.stat().st_mtime)
    if newer:
        return (
            f"models/evenkeel.tar.gz is older than {len(newer)} training file(s) ({', '.join(newer[:3])}...): "
            "run `make model`; this test does not retrain"
        )
    with tarfile.open(MODEL) as archive:
        member = next((m for m in archive.getmembers() if m.name.endswith("domain_provider/domain.yml")), None)
        domain = archive.extractfile(member).read().decode() if member else ""
    if "card_number_shared" not in domain:
        return "the trained model predates the card_number_shared intent: run `make model`"
    return None


pytestmark = pytest.mark.skipif(stale_model_reason() is not None, reason=str(stale_model_reason()))


class ChannelStack(Stack):
    """The e2e stack, with rasa's Twilio settings pointed at the stand-in and every log at DEBUG."""

    twilio_api_base: str = ""

    @property
    def env(self) -> dict[str, str]:
        return {
            **super().env,
            "TWILIO_API_BASE": self.twilio_api_base,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": OUR_NUMBER,
            "LOG_LEVEL": "DEBUG",
        }


@pytest.fixture(scope="module")
def twilio_api() -> Iterator[Any]:
    api = TwilioApiStandIn(ACCOUNT_SID, AUTH_TOKEN).start_in_thread()
    yield api
    api.stop_thread()


@pytest.fixture(scope="module")
def stack(twilio_api: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChannelStack]:
    running = ChannelStack(tmp_path_factory.mktemp("channels-stack"))
    running.twilio_api_base = twilio_api.base_url
    try:
        running.start()
        yield running
    finally:
        running.stop()


def sms_form(body: str, sid: str | None = None) -> dict[str, str]:
    sid = sid or f"SM{next(_sids):032d}"
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": PHONE,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "FromState": "TX",
        "FromCountry": "US",
        "ToCity": "",
        "FromZip": "",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }


def post_signed(stack: Stack, path: str, form: dict[str, str]) -> httpx.Response:
    url = stack.rasa_url + path
    return httpx.post(url, data=form, headers={"X-Twilio-Signature": signature(url, form, AUTH_TOKEN)}, timeout=60)


def text(stack: Stack, twilio_api: Any, body: str, sid: str | None = None, expect: bool = True) -> list[str]:
    """Send one SMS; the SMS the assistant sends back (waits until they stop coming)."""
    before = len(twilio_api.to(PHONE))
    reply = post_signed(stack, "/webhooks/twilio_sms/webhook", sms_form(body, sid))
    assert reply.status_code == 200, reply.text
    assert ET.fromstring(reply.text).tag == "Response"
    if not expect:
        time.sleep(3)
        return [m.body for m in twilio_api.to(PHONE)[before:]]
    twilio_api.wait_for(lambda _: len(twilio_api.to(PHONE)) > before, timeout=60)
    settled = -1
    while settled != len(twilio_api.to(PHONE)):  # a turn's SMS go out one after another
        settled = len(twilio_api.to(PHONE))
        time.sleep(1.5)
    return [m.body for m in twilio_api.to(PHONE)[before:]]


def tracker_db_text(stack: Stack) -> str:
    with sqlite3.connect(stack.workdir / "tracker.db") as db:
        return "\n".join(str(row[0]) for row in db.execute("SELECT data FROM events"))


def all_logs(stack: Stack) -> str:
    return "\n".join(p.log_path.read_text(errors="replace") for p in stack.processes.values() if p.log_path.exists())


def test_sms_conversation_with_a_card_number_and_a_pushed_agent_reply(stack: ChannelStack, twilio_api: Any) -> None:
    greeting = text(stack, twilio_api, "hi")
    assert any("last 4 digits" in body for body in greeting), greeting

    removed = text(stack, twilio_api, "ok my card is 4111 1111 1111 1111 exp 12/26")
    assert any("deleted the card number" in body for body in removed), removed

    tracker = stack.tracker(PHONE)
    user_events = [e for e in tracker["events"] if e["event"] == "user"]
    card_turn = user_events[-1]
    assert card_turn["text"] == "/card_number_shared"
    assert card_turn["parse_data"]["intent"]["name"] == "card_number_shared"
    assert card_turn["input_channel"] == "twilio_sms"
    assert card_turn["metadata"]["phone"] == PHONE and card_turn["metadata"]["channel"] == "sms"
    facts = verify(card_turn["metadata"], PHONE, CHANNEL_FACTS_KEY)  # signed by the connector, with the stack's key
    assert facts is not None and (facts.channel, facts.phone) == ("sms", PHONE)

    # The same webhook delivered again (a Twilio retry) adds nothing.
    form = sms_form("4821")
    text(stack, twilio_api, form["Body"], sid=form["MessageSid"])
    count_before = len([e for e in stack.tracker(PHONE)["events"] if e["event"] == "user"])
    assert text(stack, twilio_api, form["Body"], sid=form["MessageSid"], expect=False) == []
    count_after = len([e for e in stack.tracker(PHONE)["events"] if e["event"] == "user"])
    assert count_after == count_before

    # An agent's reply through Rasa's API reaches the phone (output_channel=latest → twilio_sms).
    before = len(twilio_api.to(PHONE))
    pushed = httpx.post(
        # "+" stays as it is: Sanic 21.12 does not unquote path parameters ("%2B..." is another id).
        f"{stack.rasa_url}/conversations/{PHONE}/tracker/events",
        params={"output_channel": "latest", "execute_side_effects": "true", "token": RASA_TOKEN},
        json={"event": "bot", "text": "Hi, this is Sam from Lakeside Bank. I can help from here."},
        timeout=30,
    )
    assert pushed.status_code == 200, pushed.text
    twilio_api.wait_for(lambda _: len(twilio_api.to(PHONE)) > before, timeout=30)
    assert twilio_api.to(PHONE)[-1].body == "Hi, this is Sam from Lakeside Bank. I can help from here."

    stored, logged = tracker_db_text(stack), all_logs(stack)
    assert "card_number_shared" in stored
    assert "[card number removed]" in logged  # the logs searched are the ones the connector writes to
    for digits in CARD_FORMS:
        assert digits not in stored, f"{digits!r} is in the tracker store"
        assert digits not in logged, f"{digits!r} is in a log"


def test_voice_call_with_a_spoken_card_number(stack: ChannelStack) -> None:
    call_sid = "CA" + "9" * 32
    form = {
        "CallSid": call_sid,
        "AccountSid": ACCOUNT_SID,
        "From": PHONE,
        "To": OUR_NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "FromState": "TX",
        "FromCountry": "US",
        "ApiVersion": "2010-04-01",
    }
    answer = post_signed(stack, "/webhooks/twilio_voice/webhook", form)
    assert answer.status_code == 200, answer.text
    root = ET.fromstring(answer.text)
    gather = root.find("Gather")
    assert gather is not None and list(gather.iter("Say")), answer.text

    action = gather.get("action") or ""
    assert action.startswith(stack.rasa_url)
    spoken = {
        **form,
        "CallStatus": "in-progress",
        "SpeechResult": "four one one one one one one one one one one one one one one one",
        "Confidence": "0.9",
    }
    reply = httpx.post(
        action, data=spoken, headers={"X-Twilio-Signature": signature(action, spoken, AUTH_TOKEN)}, timeout=60
    )
    assert reply.status_code == 200, reply.text
    said = " ".join(s.text or "" for s in ET.fromstring(reply.text).iter("Say"))
    assert "card number" in said, said

    conversation = f"voice-{call_sid}"  # a call is a conversation of its own
    last_user = [e for e in stack.tracker(conversation)["events"] if e["event"] == "user"][-1]
    assert last_user["text"] == "/card_number_shared"
    assert last_user["input_channel"] == "twilio_voice"
    assert last_user["metadata"]["call_sid"] == call_sid
    facts = verify(last_user["metadata"], conversation, CHANNEL_FACTS_KEY)
    assert facts is not None and (facts.channel, facts.phone, facts.call_sid) == ("voice", PHONE, call_sid)

    stored, logged = tracker_db_text(stack), all_logs(stack)
    for digits in CARD_FORMS:
        assert digits not in stored and digits not in logged, digits


def test_the_same_sms_delivered_three_times_at_once_is_one_turn_and_one_reply(
    stack: ChannelStack, twilio_api: Any
) -> None:
    """Twilio retrying while the first delivery is still in flight: one user event in the real
    tracker (one record) and one set of SMS back (one reply)."""
    form = sms_form("what's my balance?")
    users_before = len([e for e in stack.tracker(PHONE)["events"] if e["event"] == "user"])
    sent_before = len(twilio_api.to(PHONE))
    with ThreadPoolExecutor(3) as pool:
        copies = [pool.submit(post_signed, stack, "/webhooks/twilio_sms/webhook", form) for _ in range(3)]
        answers = [copy.result() for copy in copies]
    assert [a.status_code for a in answers] == [200] * 3
    twilio_api.wait_for(lambda _: len(twilio_api.to(PHONE)) > sent_before, timeout=60)
    time.sleep(3)  # room for a duplicate turn's SMS to arrive, if there were one

    events = stack.tracker(PHONE)["events"]
    users = [i for i, e in enumerate(events) if e["event"] == "user"]
    assert len(users) == users_before + 1 and events[users[-1]]["text"] == form["Body"]
    turn = [e["text"] for e in events[users[-1] :] if e["event"] == "bot"]
    sent = " ".join(m.body for m in twilio_api.to(PHONE)[sent_before:])
    assert turn and all(sent.count(text[:40]) == 1 for text in turn), (turn, sent)
