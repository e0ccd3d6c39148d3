"""The transcript the console shows, built from Rasa tracker events (pure). Who may write to a
conversation is tested through the API (tests/payments/api/test_console.py)."""

from __future__ import annotations

from payments.services.console import transcript_lines


def event(kind: str, **fields):
    return {"event": kind, "timestamp": 1_700_000_000.0, **fields}


def user(text: str, intent: str = "inform"):
    return event("user", text=text, parse_data={"intent": {"name": intent}})


def test_speakers_and_system_lines():
    lines = transcript_lines(
        [
            event("action", name="action_listen"),
            user("hi", "greet"),
            event("bot", text="Hi, I'm the assistant."),
            user("/request_payment_plan", "request_payment_plan"),
            user("/card_number_shared", "card_number_shared"),
            event("user", text="EXTERNAL: payment_succeeded", parse_data={"intent": {"name": "payment_succeeded"}}),
            event("pause"),
            event("bot", text="Hi, Sam here.", metadata={"agent": "Sam"}),
            event("bot", text=None),  # buttons or custom payloads without text: nothing to show
            event("resume"),
            event("slot", name="awaiting", value=None),
        ]
    )
    assert [(line.speaker, line.text, line.agent) for line in lines] == [
        ("customer", "hi", None),
        ("assistant", "Hi, I'm the assistant.", None),
        ("customer", "[chose: request payment plan]", None),
        ("system", "The customer typed a card number; it was removed before anyone saw it.", None),
        ("system", "Event from our systems: payment succeeded", None),
        ("system", "The assistant handed the conversation to a person and is silent.", None),
        ("agent", "Hi, Sam here.", "Sam"),
        ("system", "The conversation was handed back to the assistant.", None),
    ]
    assert [line.index for line in lines] == list(range(8))
    assert lines[0].at.isoformat() == "2023-11-14T22:13:20+00:00"


def test_card_numbers_are_masked_in_every_line():
    lines = transcript_lines(
        [
            user("it's 4242 4242 4242 4242"),
            event("bot", text="Did you mean 4000-0000-0000-0002?", metadata={"agent": "Sam"}),
        ]
    )
    assert [line.text for line in lines] == ["it's [card number removed]", "Did you mean [card number removed]?"]


def test_an_empty_tracker_is_an_empty_transcript():
    assert transcript_lines([]) == []
