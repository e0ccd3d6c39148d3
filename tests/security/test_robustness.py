"""Malformed and odd input (issue 11, robustness): a bad REST body is the client's error (400),
never the server's (500); a number thousands of digits long still gets an answer; a message the
assistant understands only weakly (HTML) never pauses the conversation silently."""

from __future__ import annotations

import pytest

from testkit.stack import Stack
from tests.security.channels import Rest, Sms, cases_of, rest_conversation, tracker_or_none, unique

HTML = '<html><body><h1>Hello</h1><script>alert("x")</script><p onclick="stop()">unsubscribe</p></body></html>'


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'[{"sender": "a", "message": "hi"}]',
        b"not json",
        b'{"sender": 1',
        b'{"sender": "x"}',
        b'{"message": 5}',
        b"null",
        b'"just a string"',
    ],
)
def test_malformed_rest_bodies_get_400(rest: Rest, body: bytes) -> None:
    answer = rest.post(raw=body)
    assert answer.status_code == 400, (body, answer.status_code, answer.text[:200])


def test_malformed_rest_bodies_without_the_token_get_no_500(rest: Rest) -> None:
    for body in (b"", b"[]", b"not json"):
        answer = rest.post(raw=body, token=None)
        assert answer.status_code in (400, 401, 403), (body, answer.status_code, answer.text[:200])


@pytest.mark.parametrize("length", [1500, 3900])
def test_a_message_of_thousands_of_digits_gets_a_reply(stack: Stack, rest: Rest, length: int) -> None:
    """Within every channel's length limit (SMS 1,600; REST 4,000), so the text reaches the NLU."""
    sender = unique("digits")
    said = rest.say(sender, "7" * length)
    assert [t for t in said if t.strip()], f"no reply to a {length}-digit message"
    assert rest.say(sender, "hi"), "the conversation stopped answering after it"


def test_a_message_of_five_thousand_digits_is_answered_or_refused_as_too_long(rest: Rest) -> None:
    sender = unique("digits")
    answer = rest.post({"sender": sender, "message": "7" * 5000})
    assert answer.status_code in (200, 400), (answer.status_code, answer.text[:200])
    if answer.status_code == 200:
        assert [m for m in answer.json() if (m.get("text") or "").strip()], "no reply to a 5,000-digit message"


def assert_not_silently_paused(stack: Stack, conversation_id: str, said: list[str]) -> None:
    tracker = tracker_or_none(stack, conversation_id) or {}
    if tracker.get("paused"):
        assert cases_of(stack, {conversation_id}), "the conversation was paused with no case for a person"
    else:
        assert [t for t in said if t.strip()], "no reply to an HTML message"


def test_a_message_of_html_does_not_pause_the_conversation_silently(stack: Stack, rest: Rest) -> None:
    sender = unique("html")
    said = rest.say(sender, HTML)
    assert_not_silently_paused(stack, rest_conversation(sender), said)


def test_an_sms_of_html_does_not_pause_the_conversation_silently(stack: Stack, sms: Sms) -> None:
    phone = "+16465550188"
    said = sms.say(phone, HTML)
    assert_not_silently_paused(stack, phone, said)
