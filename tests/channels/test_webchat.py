"""The web chat connector (channels/webchat.py) through a real socket.io connection: the
connector's blueprint behind Sanic's own server (the `serve` fixture in conftest.py), python-socketio's AsyncClient as the browser, and
a fake `on_new_message` that records what would reach Rasa and answers through the output channel
it was given (as Rasa does)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import socketio
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.server import _get_output_channel
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.config import ChannelSettings
from channels.rasa_input import CARD_NUMBER_SHARED
from channels.webchat import NO_ANSWER_TEXT, WebChatInput, WebChatOutput, session_token
from contracts.channel_facts import DEV_CHANNEL_FACTS_KEY, FACTS_KEY, verify
from tests.channels.conftest import ServeFn

REDIS_URL = os.environ.get("EVENKEEL_TEST_REDIS_URL")
SOCKET_PATH = "/webhooks/webchat/socket.io"
SESSION_ID = re.compile(r"web-[A-Za-z0-9_-]{32}")
CHOICE = '/inform{"plan_choice":"2"}'
QUIET = 0.6  # seconds to wait for something that must not arrive


@dataclass
class Server:
    """The connector behind a real Sanic server (tests/channels/conftest.py), with an in-memory
    tracker store on `app.ctx.agent` (where the connector reads offered buttons and history)."""

    channel: Any
    store: InMemoryTrackerStore = field(default_factory=lambda: InMemoryTrackerStore(Domain.empty()))
    url: str = ""
    received: list[UserMessage] = field(default_factory=list)
    processed: asyncio.Event = field(default_factory=asyncio.Event)
    silent: bool = False  # answer nothing, as Rasa does when an action fails

    async def on_new_message(self, message: UserMessage) -> None:
        """Plays Rasa: records the message, answers through the output channel it came with."""
        self.received.append(message)
        if not self.silent:
            await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")
        self.processed.set()

    async def save(self, sender_id: str, *events: Any) -> None:
        await self.store.save(DialogueStateTracker.from_events(sender_id, list(events)))

    async def next_message(self, timeout: float = 5) -> UserMessage:
        await asyncio.wait_for(self.processed.wait(), timeout)
        self.processed.clear()
        return self.received[-1]


async def start(serve: ServeFn, channel: Any) -> Server:
    server = Server(channel)
    served = await serve(channel, server.on_new_message)
    served.server.app.ctx.agent = SimpleNamespace(tracker_store=server.store)
    server.url = served.local("")
    return server


@pytest.fixture
async def server(serve: ServeFn) -> AsyncIterator[Server]:
    running = await start(serve, WebChatInput.from_credentials({}))
    yield running
    await running.channel.sio.shutdown()  # ends long-polling requests, so the server stops at once


class Browser:
    """A socket.io client that keeps every event it receives, by name."""

    def __init__(self, path: str = SOCKET_PATH) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.path = path
        self.events: dict[str, asyncio.Queue[Any]] = defaultdict(asyncio.Queue)
        self.session_id: str | None = None
        self.session_token: str | None = None

        @self.sio.on("*")
        async def any_event(event: str, data: Any = None) -> None:
            await self.events[event].put(data)

    async def connect(self, url: str) -> Browser:
        await self.sio.connect(url, socketio_path=self.path, transports=["polling"])
        return self

    async def start_session(self, session_id: Any = None, history: bool = False, token: Any = None) -> str:
        """`session_request` as the page sends it; a fresh session's token is kept, as the page does."""
        await self.sio.emit("session_request", {"session_id": session_id, "session_token": token, "history": history})
        self.session_id = await self.next("session_confirm")
        self.session_token = token
        while not self.events["session_token"].empty():
            issued = self.events["session_token"].get_nowait()
            assert issued["session_id"] == self.session_id
            self.session_token = issued["session_token"]
        return self.session_id

    async def say(self, message: str, **fields: Any) -> None:
        await self.sio.emit(
            "user_uttered",
            {"message": message, "session_id": self.session_id, "session_token": self.session_token, **fields},
        )

    async def next(self, event: str, timeout: float = 5) -> Any:
        return await asyncio.wait_for(self.events[event].get(), timeout)

    async def nothing(self, event: str) -> bool:
        try:
            await asyncio.wait_for(self.events[event].get(), QUIET)
        except asyncio.TimeoutError:
            return True
        return False

    async def close(self) -> None:
        # Abort: a graceful close waits for the pending long-poll request (up to the 25 s ping).
        await self.sio.eio.disconnect(abort=True)


@pytest.fixture
async def browser(server: Server) -> AsyncIterator[Browser]:
    client = await Browser().connect(server.url)
    yield client
    await client.close()


# --- the room: replies and pushed messages reach the browser ----------------------------------


async def test_reply_reaches_the_browser_through_its_room(server: Server, browser: Browser) -> None:
    session_id = await browser.start_session()
    assert SESSION_ID.fullmatch(session_id)

    await browser.say("hi")

    assert await browser.next("bot_uttered") == {"text": "echo: hi"}
    assert await browser.next("bot_turn_done") == {}
    message = await server.next_message()
    assert message.sender_id == session_id
    assert message.input_channel == "webchat"


async def test_rasas_own_socketio_channel_loses_the_reply_with_session_persistence(serve: ServeFn) -> None:
    """Why the subclass exists (RasaHQ/rasa#13027): Rasa 3.6 does not await `enter_room`, which
    python-socketio >= 5.10 made a coroutine. If this starts failing, upstream (or a pin) fixed
    it and the workaround in WebChatInput can go."""
    running = await start(serve, SocketIOInput(session_persistence=True))
    client = await Browser(path="/socket.io").connect(running.url)
    try:
        with pytest.warns(RuntimeWarning, match="enter_room' was never awaited"):
            await client.start_session()
        await client.say("hi")
        await running.next_message()
        assert await client.nothing("bot_uttered")
    finally:
        await client.close()
        await running.channel.sio.shutdown()


async def test_pushed_messages_reach_every_tab_of_the_conversation(server: Server, browser: Browser) -> None:
    """Agent replies and trigger_intent answers use `get_output_channel()`, not a reply path."""
    session_id = await browser.start_session()
    second_tab = await Browser().connect(server.url)
    try:
        assert await second_tab.start_session(session_id, token=browser.session_token) == session_id
        output = server.channel.get_output_channel()
        assert isinstance(output, WebChatOutput) and output.name() == "webchat"

        await output.send_text_message(session_id, "Your payment of $95.00 went through.")

        for tab in (browser, second_tab):
            assert await tab.next("bot_uttered") == {"text": "Your payment of $95.00 went through."}
    finally:
        await second_tab.close()


async def test_other_conversations_do_not_get_the_message(server: Server, browser: Browser) -> None:
    await browser.start_session()
    other = await Browser().connect(server.url)
    try:
        other_id = await other.start_session()
        await server.channel.get_output_channel().send_text_message(other_id, "only for the other one")
        assert await other.next("bot_uttered") == {"text": "only for the other one"}
        assert await browser.nothing("bot_uttered")
    finally:
        await other.close()


async def test_rasa_api_output_channel_latest_picks_the_web_chat() -> None:
    """What `POST /conversations/{id}/tracker/events?output_channel=latest` and `trigger_intent`
    resolve to for a web chat conversation (rasa.server._get_output_channel)."""
    channel = WebChatInput.from_credentials({})
    channel.blueprint(lambda message: asyncio.sleep(0))
    tracker = DialogueStateTracker.from_events("web-1", [UserUttered("hi", {"name": "greet"}, input_channel="webchat")])
    request = SimpleNamespace(
        args={"output_channel": "latest"}, app=SimpleNamespace(ctx=SimpleNamespace(input_channels=[channel]))
    )
    assert isinstance(_get_output_channel(request, tracker), WebChatOutput)


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="EVENKEEL_TEST_REDIS_URL is not set: Redis tests need a server")
async def test_with_a_message_queue_a_push_from_another_replica_reaches_the_browser(serve: ServeFn) -> None:
    """Two rasa replicas: the browser is connected to one, Rasa's API call lands on the other."""
    replicas = [await start(serve, WebChatInput.from_credentials({"message_queue_url": REDIS_URL})) for _ in range(2)]
    client = await Browser().connect(replicas[0].url)
    try:
        session_id = await client.start_session()
        await replicas[1].channel.get_output_channel().send_text_message(session_id, "Sam here.", agent="Sam")
        assert await client.next("bot_uttered") == {"text": "Sam here.", "agent": "Sam"}
    finally:
        await client.close()
        for replica in replicas:
            await replica.channel.sio.shutdown()


def test_without_a_message_queue_emits_stay_in_the_process() -> None:
    channel = WebChatInput.from_credentials({"message_queue_url": ""})
    channel.blueprint(lambda message: asyncio.sleep(0))
    assert type(channel.sio.manager).__name__ == "AsyncManager"


# --- the agent-message contract -----------------------------------------------------------------


async def test_an_agent_bot_event_reaches_the_page_marked_with_the_agent(server: Server, browser: Browser) -> None:
    """The console appends `{"event": "bot", "text", "metadata": {"agent": "Sam"}}`; Rasa sends
    `BotUttered.message()` (metadata merged in) through `send_response`."""
    session_id = await browser.start_session()
    output = server.channel.get_output_channel()

    joined = BotUttered("Hi Maria, I'm Sam. I've read your conversation.", metadata={"agent": "Sam"})
    await output.send_response(session_id, joined.message())
    left = BotUttered("I'll hand you back to the assistant.", metadata={"agent": "Sam", "agent_status": "left"})
    await output.send_response(session_id, left.message())
    assistant = BotUttered(
        "What would you like to do?",
        data={"buttons": [{"title": "Pay", "payload": "/make_payment"}]},
        metadata={"utter_action": "utter_what_next"},
    )
    await output.send_response(session_id, assistant.message())

    assert await browser.next("bot_uttered") == {
        "text": "Hi Maria, I'm Sam. I've read your conversation.",
        "agent": "Sam",
    }
    assert await browser.next("bot_uttered") == {
        "text": "I'll hand you back to the assistant.",
        "agent": "Sam",
        "agent_status": "left",
    }
    assert await browser.next("bot_uttered") == {
        "text": "What would you like to do?",
        "quick_replies": [{"content_type": "text", "title": "Pay", "payload": "/make_payment"}],
    }


async def test_custom_payloads_do_not_break_the_output(server: Server, browser: Browser) -> None:
    session_id = await browser.start_session()
    await server.channel.get_output_channel().send_response(session_id, {"custom": {"handoff": {"case_id": "H1"}}})
    assert await browser.next("bot_uttered") == {"custom": {"handoff": {"case_id": "H1"}}}


# --- sessions -----------------------------------------------------------------------------------


async def test_a_stored_session_is_kept_after_a_reload(server: Server, browser: Browser) -> None:
    session_id = await browser.start_session()
    await browser.close()
    reloaded = await Browser().connect(server.url)
    try:
        assert await reloaded.start_session(session_id, token=browser.session_token) == session_id
        assert reloaded.events["session_token"].empty()  # the same session: no new token
        await reloaded.say("still me")
        assert await reloaded.next("bot_uttered") == {"text": "echo: still me"}
        assert (await server.next_message()).sender_id == session_id
    finally:
        await reloaded.close()


@pytest.mark.parametrize(
    "foreign",
    ["+15125550101", "e2e-abc", "web-XYZ", "web-" + "a" * 31, "web-" + "a" * 32, f"web-{uuid.uuid4().hex}", {"x": 1}],
)
async def test_a_session_id_we_did_not_issue_gets_a_new_one(server: Server, browser: Browser, foreign: Any) -> None:
    """An SMS conversation's id is a phone number: a browser must not be able to join it; nor an
    id of the right shape that the server never issued."""
    session_id = await browser.start_session(foreign, history=True)
    assert session_id != foreign and SESSION_ID.fullmatch(session_id)
    assert browser.session_token == session_token(session_id, DEV_CHANNEL_FACTS_KEY)
    await browser.say("hello", session_id=foreign)  # the socket's binding wins over the payload
    assert (await server.next_message()).sender_id == session_id
    assert await browser.nothing("history")


async def test_another_browsers_session_is_refused_and_its_history_not_shown(server: Server, browser: Browser) -> None:
    victim = await browser.start_session()
    await server.save(victim, UserUttered("my ZIP is 78701", {"name": "inform"}), BotUttered("You're verified."))
    for token in (
        None,
        "",
        "0" * 64,
        browser.session_token.upper(),
        session_token(victim, "another-key"),
        session_token(f"web-{uuid.uuid4().hex}", DEV_CHANNEL_FACTS_KEY),
    ):
        attacker = await Browser().connect(server.url)
        try:
            got = await attacker.start_session(victim, history=True, token=token)
            assert got != victim, token
            assert await attacker.nothing("history")
            await attacker.say("what's my balance?", session_id=victim)
            assert (await server.next_message()).sender_id == got
        finally:
            await attacker.close()


async def test_a_message_flushed_before_session_request_binds_the_session(server: Server, browser: Browser) -> None:
    """socket.io clients flush buffered messages on reconnect before their `connect` handler runs."""
    session_id = await browser.start_session()
    again = await Browser().connect(server.url)
    try:
        await again.sio.emit(
            "user_uttered", {"message": "hi again", "session_id": session_id, "session_token": browser.session_token}
        )
        assert await again.next("session_confirm") == session_id
        assert (await server.next_message()).sender_id == session_id
        assert await again.next("bot_uttered") == {"text": "echo: hi again"}
    finally:
        await again.close()


async def test_a_message_flushed_with_a_session_id_we_did_not_issue_gets_a_new_session(
    server: Server, browser: Browser
) -> None:
    made_up = f"web-{uuid.uuid4().hex}"
    await browser.sio.emit("user_uttered", {"message": "hi", "session_id": made_up})
    issued = await browser.next("session_token")
    assert await browser.next("session_confirm") == issued["session_id"] != made_up
    assert (await server.next_message()).sender_id == issued["session_id"]


async def test_production_with_the_development_key_refuses_every_connection(serve: ServeFn) -> None:
    channel = WebChatInput(settings=ChannelSettings(evenkeel_env="production"))
    running = await start(serve, channel)
    try:
        # socket.io over long-polling, by hand (its client retries a refusal for 30 s):
        # open the engine.io session, ask to join the default namespace, read the answer.
        async with httpx.AsyncClient(base_url=running.url, timeout=10) as http:
            opened = await http.get(f"{SOCKET_PATH}/", params={"EIO": "4", "transport": "polling"})
            sid = json.loads(opened.text[1:])["sid"]
            await http.post(f"{SOCKET_PATH}/", params={"EIO": "4", "transport": "polling", "sid": sid}, content=b"40")
            answer = await http.get(f"{SOCKET_PATH}/", params={"EIO": "4", "transport": "polling", "sid": sid})
        assert answer.text.startswith("44"), answer.text  # CONNECT_ERROR: refused
        assert running.received == []
    finally:
        await channel.sio.shutdown()


async def test_a_turn_that_produced_no_reply_gets_an_apology(server: Server, browser: Browser) -> None:
    session_id = await browser.start_session()
    await server.save(session_id, ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet"}))
    server.silent = True
    await browser.say("03/14/1985")
    assert await browser.next("bot_uttered") == {"text": NO_ANSWER_TEXT}
    assert await browser.next("bot_turn_done") == {}


async def test_a_paused_conversation_stays_silent(server: Server, browser: Browser) -> None:
    session_id = await browser.start_session()
    await server.save(session_id, UserUttered("I need a person", {"name": "request_agent"}), ConversationPaused())
    server.silent = True
    await browser.say("hello?")
    assert await browser.next("bot_turn_done") == {}
    assert await browser.nothing("bot_uttered")


async def test_history_replays_the_current_session(server: Server, browser: Browser) -> None:
    session_id = f"web-{uuid.uuid4().hex}"
    buttons = [{"title": "3 monthly payments of $103.33", "payload": CHOICE}]
    await server.save(
        session_id,
        UserUttered("an earlier session", {"name": "greet"}),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("hi", {"name": "greet"}),
        BotUttered("Hello.\n\nWhat are the last 4 digits of your card?"),
        UserUttered(CARD_NUMBER_SHARED, {"name": "card_number_shared"}),
        BotUttered("Which one works for you?", data={"buttons": buttons}),
        UserUttered(CHOICE, {"name": "inform"}),
        UserUttered("EXTERNAL: payment_succeeded", {"name": "payment_succeeded"}),
        BotUttered("Hi, I'm Sam.", metadata={"agent": "Sam"}),
        BotUttered("Shall I book it?", data={"buttons": [{"title": "Yes", "payload": "/affirm"}]}),
    )

    token = session_token(session_id, DEV_CHANNEL_FACTS_KEY)  # as if this browser had been issued it
    assert await browser.start_session(session_id, history=True, token=token) == session_id
    history = await browser.next("history")

    assert history["messages"] == [
        {"from": "user", "text": "hi"},
        {"from": "bot", "text": "Hello."},
        {"from": "bot", "text": "What are the last 4 digits of your card?"},
        {"from": "user", "text": "(card number removed)"},
        {"from": "bot", "text": "Which one works for you?"},  # answered: its buttons are gone
        {"from": "user", "text": "3 monthly payments of $103.33"},
        {"from": "bot", "text": "Hi, I'm Sam.", "agent": "Sam"},
        {
            "from": "bot",
            "text": "Shall I book it?",
            "quick_replies": [{"content_type": "text", "title": "Yes", "payload": "/affirm"}],
        },
    ]


async def test_no_history_without_a_stored_session(server: Server, browser: Browser) -> None:
    await browser.start_session(None, history=True)
    assert await browser.nothing("history")


# --- what reaches Rasa ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "my card is 4111 1111 1111 1111",
        "4111-1111-1111-1111 exp 12/27",
        "amex 378282246310005 please",
        "x" * 1990 + " 4111 1111 1111 1111",  # across the length limit: masked before it is cut
    ],
)
async def test_a_typed_card_number_never_reaches_rasa(server: Server, browser: Browser, typed: str) -> None:
    await browser.start_session()
    await browser.say(typed, client_id="c7")

    masked = await browser.next("message_masked")
    message = await server.next_message()

    digits = re.sub(r"\D", "", typed.split(" exp")[0])
    assert message.text == CARD_NUMBER_SHARED == "/card_number_shared"
    assert digits not in re.sub(r"\D", "", str(message.metadata))
    assert masked["client_id"] == "c7"
    assert digits not in re.sub(r"\D", "", masked["text"])


@pytest.mark.parametrize("typed", ["03/14/1985", "4821", "1234 5678 9012 3456", "call me at 512 555 0101"])
async def test_other_numbers_pass(server: Server, browser: Browser, typed: str) -> None:
    await browser.start_session()
    await browser.say(typed)
    assert (await server.next_message()).text == typed
    assert await browser.nothing("message_masked")


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("/payment_succeeded", "payment_succeeded"),
        ('/payment_succeeded{"payment_id":"PAY-1"}', 'payment_succeeded{"payment_id":"PAY-1"}'),
        ("  //affirm", "affirm"),
        (CHOICE, 'inform{"plan_choice":"2"}'),
        ("I paid 1/2 of it", "I paid 1/2 of it"),
        ('/agent_handed_back{"agent_name": "Your bank"}', 'agent_handed_back{"agent_name": "Your bank"}'),
        ("EXTERNAL: payment_succeeded", "payment_succeeded"),
    ],
)
async def test_typed_text_cannot_inject_an_intent(server: Server, browser: Browser, typed: str, sent: str) -> None:
    await browser.start_session()
    await browser.say(typed)
    assert (await server.next_message()).text == sent


async def test_a_message_of_html_reaches_rasa_as_the_same_text(server: Server, browser: Browser) -> None:
    await browser.start_session()
    html = "<html><body><p>STOP</p><img src=x onerror=alert(1)></body></html>"
    await browser.say(html)
    assert (await server.next_message()).text == html


async def test_a_lone_slash_sends_nothing(server: Server, browser: Browser) -> None:
    await browser.start_session()
    await browser.say(" / ")
    assert await browser.next("bot_turn_done") == {}
    assert server.received == []


async def test_a_button_click_sends_the_payload_the_bot_offered(server: Server, browser: Browser) -> None:
    session_id = await browser.start_session()
    await server.save(
        session_id,
        UserUttered("a payment plan", {"name": "request_payment_plan"}),
        BotUttered(
            "Here are your options:",
            data={
                "buttons": [
                    {"title": "3 monthly payments of $103.33", "payload": '/inform{"plan_choice":"1"}'},
                    {"title": "6 monthly payments of $51.67", "payload": CHOICE},
                ]
            },
        ),
    )
    await browser.say("6 monthly payments of $51.67", payload=CHOICE)
    assert (await server.next_message()).text == CHOICE


async def test_a_payload_the_bot_did_not_offer_is_sent_as_typed_text(server: Server, browser: Browser) -> None:
    """A hand-made socket.io client cannot fake a payment confirmation with a 'button'."""
    session_id = await browser.start_session()
    await server.save(
        session_id,
        BotUttered("Shall I book it?", data={"buttons": [{"title": "Yes", "payload": "/affirm"}]}),
    )
    await browser.say("/payment_succeeded", payload="/payment_succeeded")
    assert (await server.next_message()).text == "payment_succeeded"


async def test_buttons_already_answered_are_not_valid_any_more(server: Server, browser: Browser) -> None:
    session_id = await browser.start_session()
    await server.save(
        session_id,
        BotUttered("Shall I book it?", data={"buttons": [{"title": "Yes", "payload": "/affirm"}]}),
        UserUttered("no", {"name": "deny"}),
        BotUttered("No problem, nothing has been booked."),
    )
    await browser.say("Yes", payload="/affirm")
    assert (await server.next_message()).text == "Yes"


async def test_metadata_is_the_channel_and_the_browsers_time_zone_only(server: Server, browser: Browser) -> None:
    await browser.start_session()
    await browser.say(
        "hi",
        metadata={
            "timezone": "America/Chicago",
            "phone": "+15125550101",
            "channel": "sms",
            FACTS_KEY: {"channel": "sms", "phone": "+15125550101"},
        },
    )
    metadata = (await server.next_message()).metadata
    facts = verify(metadata, browser.session_id or "", DEV_CHANNEL_FACTS_KEY)
    assert facts is not None and (facts.channel, facts.phone, facts.call_sid) == ("web", None, None)
    assert {k: v for k, v in metadata.items() if k != FACTS_KEY} == {"channel": "web", "timezone": "America/Chicago"}


@pytest.mark.parametrize(
    "metadata",
    [
        {"timezone": "../../etc/passwd"},
        {"timezone": "Mars/Olympus_Mons"},
        {"timezone": 5},
        "not json",
        None,
    ],
)
async def test_a_bad_time_zone_is_left_out(server: Server, browser: Browser, metadata: Any) -> None:
    await browser.start_session()
    await browser.say("hi", metadata=metadata)
    assert {k: v for k, v in (await server.next_message()).metadata.items() if k != FACTS_KEY} == {"channel": "web"}


# --- the page -----------------------------------------------------------------------------------


async def test_the_page_and_its_files_are_served_by_the_connector(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        page = await http.get("/webhooks/webchat/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert f'content="{SOCKET_PATH}"' in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["referrer-policy"] == "no-referrer"
        for name, kind in [
            ("chat.js", "text/javascript"),
            ("chat.css", "text/css"),
            ("socket.io.min.js", "text/javascript"),
            ("embed.js", "text/javascript"),
        ]:
            asset = await http.get(f"/webhooks/webchat/{name}")
            assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind), name
        assert "Socket.IO v4." in (await http.get("/webhooks/webchat/socket.io.min.js")).text[:200]

        assert (await http.get("/webhooks/webchat/webchat.py")).status_code == 404
        assert (await http.get("/webhooks/webchat/README.md")).status_code == 404
        assert (await http.get("/webhooks/webchat/%2e%2e%2fwebchat.py")).status_code == 404
        redirect = await http.get("/webhooks/webchat")
        assert redirect.status_code in (301, 302) and redirect.headers["location"] == "/webhooks/webchat/"
        assert (await http.get("/webhooks/webchat/health")).json() == {"status": "ok"}


@pytest.mark.parametrize("name", ["chat.js", "embed.js"])
def test_the_page_never_puts_text_into_inner_html(name: str) -> None:
    from channels.webchat import STATIC_DIR

    script = (STATIC_DIR / name).read_text()
    code = "\n".join(line for line in script.splitlines() if not line.strip().startswith(("*", "/*", "//")))
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", code)
    page = (STATIC_DIR / "index.html").read_text()
    assert "http://" not in page and "https://" not in page  # no CDN


async def test_the_embed_script_frames_the_page_only_where_frame_ancestors_allow(serve: ServeFn) -> None:
    """embed.js (run on the bank's site) puts the page in an iframe; the page's CSP decides who
    may frame it: nobody by default, the listed origins when `frame_ancestors` is set."""
    default = await start(serve, WebChatInput.from_credentials({}))
    allowed = await start(serve, WebChatInput.from_credentials({"frame_ancestors": "https://www.bank.example"}))
    try:
        async with httpx.AsyncClient() as http:
            script = await http.get(f"{default.url}/webhooks/webchat/embed.js")
            assert "evenkeel-chat" in script.text and "iframe" in script.text
            default_csp = (await http.get(f"{default.url}/webhooks/webchat/")).headers["content-security-policy"]
            allowed_csp = (await http.get(f"{allowed.url}/webhooks/webchat/")).headers["content-security-policy"]
        assert "frame-ancestors 'none'" in default_csp
        assert "frame-ancestors https://www.bank.example" in allowed_csp
    finally:
        for running in (default, allowed):
            await running.channel.sio.shutdown()


def test_credentials_defaults() -> None:
    channel = WebChatInput.from_credentials(None)
    assert channel.name() == "webchat" and channel.url_prefix() == "webchat"
    assert channel.session_persistence is True
    assert channel.socketio_path == SOCKET_PATH
    with pytest.warns(UserWarning, match="cannot be recreated"):
        assert channel.get_output_channel() is None  # before the server built the blueprint
