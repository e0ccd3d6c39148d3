"""The web chat channel (channels/webchat.py) behind Sanic with a scripted stand-in for Rasa, so
browser tests of the page (and of its embed snippet) need no trained model. Runs in the rasa
environment, which has the channel's dependencies:

    .venv/rasa/bin/python -m tests.e2e.webchat_server --port 5099 --frame-ancestors http://localhost:8000

The stand-in answers by keyword: "help" gets the crisis numbers and the bank's number, "person"
gets a message from the agent Sam, "back" gets the assistant's hand-back greeting, anything else
"echo: <text>". Each turn is kept in an in-memory tracker store, so a reload gets the history.
Health: GET /webhooks/webchat/health."""

from __future__ import annotations

import argparse
from types import SimpleNamespace
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from channels.webchat import WebChatInput

CRISIS_TEXT = (
    "If you're thinking about harming yourself, please call or text 988 (the Suicide & Crisis Lifeline), "
    "any time. If you're in immediate danger, call 911. You can also call us at 1-800-555-0199."
)
AGENT = "Sam"
AGENT_TEXT = "Hi, this is Sam. I'm here with you."
HAND_BACK_TEXT = "Sam has handed you back to me. I'm here whenever you need me."


TRACKERS = InMemoryTrackerStore(Domain.empty())


def answer(text: str) -> tuple[str, dict[str, Any]]:
    """The scripted bot text and its metadata (an agent's name for the agent's message)."""
    if "help" in text:
        return CRISIS_TEXT, {}
    if "person" in text:
        return AGENT_TEXT, {"agent": AGENT}
    if "back" in text:
        return HAND_BACK_TEXT, {}
    return f"echo: {text}", {}


async def fake_rasa(message: UserMessage) -> None:
    """Plays Rasa: one scripted answer through the output channel the message came with, and
    both turns in the tracker store (where the channel reads the history)."""
    text = message.text or ""
    reply, metadata = answer(text)
    tracker = await TRACKERS.retrieve(message.sender_id) or DialogueStateTracker.from_events(message.sender_id, [])
    tracker.update(UserUttered(text))
    tracker.update(BotUttered(reply, metadata=metadata))
    await TRACKERS.save(tracker)
    await message.output_channel.send_text_message(message.sender_id, reply, **metadata)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--frame-ancestors", default="'none'", help="the channel's frame_ancestors credential")
    args = parser.parse_args()
    channel = WebChatInput.from_credentials({"frame_ancestors": args.frame_ancestors})
    app = Sanic("webchat_test_server")
    app.blueprint(channel.blueprint(fake_rasa), url_prefix=f"/webhooks/{channel.name()}")
    app.ctx.input_channels = [channel]
    app.ctx.agent = SimpleNamespace(tracker_store=TRACKERS)  # where the channel reads buttons and history
    app.run(host="127.0.0.1", port=args.port, access_log=False, motd=False)


if __name__ == "__main__":
    main()
