"""Twilio's signed-URL rule (contracts/twilio.py): the URL we hand Twilio is the URL checked when
Twilio calls it back, and a signature made by the rule checks on the other side."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from contracts.twilio import (
    PAY_PATH,
    SIGNATURE_HEADER,
    compute_signature,
    is_valid_signature,
    pay_action_url,
    signed_url,
    webhook_url,
)

TOKEN = "test-twilio-auth-token"
PARAMS = {"CallSid": "CA" + "1" * 32, "Digits": "1", "ToCity": ""}


def test_signed_url_is_public_base_path_and_raw_query() -> None:
    assert signed_url("https://bot.example.com/", "/webhooks/twilio_sms/webhook") == (
        "https://bot.example.com/webhooks/twilio_sms/webhook"
    )
    assert signed_url("https://bot.example.com", "/w", "a=1&b=%2F") == "https://bot.example.com/w?a=1&b=%2F"
    assert signed_url("https://bot.example.com/prefix", "/w", "") == "https://bot.example.com/prefix/w"


def test_webhook_url_form_encodes_its_query_and_round_trips_through_signed_url() -> None:
    url = webhook_url("https://bot.example.com/", "/webhooks/twilio_voice/webhook", {"turn": "a b", "after": "pay"})
    assert url == "https://bot.example.com/webhooks/twilio_voice/webhook?turn=a+b&after=pay"
    parts = urlsplit(url)
    assert signed_url("https://bot.example.com", parts.path, parts.query) == url
    assert webhook_url("https://x.example.com", "/w") == "https://x.example.com/w"


def test_pay_action_url_carries_the_return_url_encoded_whole() -> None:
    back = webhook_url("https://bot.example.com", "/webhooks/twilio_voice/webhook", {"turn": "t1", "after": "pay"})
    url = pay_action_url("https://pay.example.com/", "PAY-4K2M8Q", back)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://pay.example.com" + PAY_PATH
    assert "return_url=https%3A%2F%2Fbot.example.com%2F" in parts.query
    assert parse_qs(parts.query) == {"payment_id": ["PAY-4K2M8Q"], "return_url": [back]}
    assert (
        pay_action_url("https://pay.example.com", "PAY-1")
        == "https://pay.example.com/webhooks/twilio/pay?payment_id=PAY-1"
    )


def test_a_signature_by_the_rule_checks_and_any_change_breaks_it() -> None:
    url = pay_action_url("https://pay.example.com", "PAY-1", "https://bot.example.com/w?turn=x")
    signature = compute_signature(TOKEN, url, PARAMS)
    assert is_valid_signature(TOKEN, url, PARAMS, signature)
    assert not is_valid_signature("another-token", url, PARAMS, signature)
    assert not is_valid_signature(TOKEN, url.replace("PAY-1", "PAY-2"), PARAMS, signature)
    assert not is_valid_signature(TOKEN, url, {**PARAMS, "Digits": "2"}, signature)
    assert not is_valid_signature(
        TOKEN, url, {k: v for k, v in PARAMS.items() if v}, signature
    )  # blank ones are signed
    assert not is_valid_signature(TOKEN, url, PARAMS, "")
    assert not is_valid_signature("", url, PARAMS, signature)


def test_the_signature_is_twilios_documented_hmac() -> None:
    # Twilio's example (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    assert compute_signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert SIGNATURE_HEADER == "X-Twilio-Signature"
