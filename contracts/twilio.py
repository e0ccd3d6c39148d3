"""Twilio's signed-URL rule, once, for everyone who builds or checks a Twilio webhook: the SMS and
voice connectors (rasa server), the payments service's `<Pay>` webhook, and the phone simulator
and test stand-in (testkit/twilio.py) that sign as Twilio would.

Twilio signs the exact URL it called plus the POST parameters
(https://www.twilio.com/docs/usage/webhooks/webhooks-security): HMAC-SHA1 of the URL followed
by each POST name and value in name order, keyed with the account's auth token, base64, in
`X-Twilio-Signature`. Behind a proxy, load balancer or tunnel the URL a server sees
(http://10.0.0.5:5005/...) is not the one Twilio called (https://bot.example.com/...), so each
side is configured with its public base URL, and the URL checked is

    public base (no trailing slash) + request path + ("?" + raw query string, when there is one)

The query is taken as it arrived, never decoded and re-encoded: Twilio calls a URL we gave it
(an `action`, a `<Redirect>`) character for character, and signs that string. So every URL we
hand Twilio is built by `webhook_url`, with its query form-encoded (`urlencode`: a nested URL
such as `<Pay>`'s `return_url` is percent-encoded whole, `/` and `:` included), and what we sign
or check is that same string.

The HMAC itself is twilio's `RequestValidator` (both environments have the twilio package),
imported inside the functions that need it, so this module is stdlib-only at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

SIGNATURE_HEADER = "X-Twilio-Signature"

# The payments service's `<Pay>` webhook (payments/api/routers/webhooks.py has its contract).
PAY_PATH = "/webhooks/twilio/pay"


def signed_url(public_base: str, path: str, query: str = "") -> str:
    """The URL Twilio signed for a webhook it posted to `path` (with the raw `query` string) on a
    server it reaches at `public_base`."""
    url = public_base.rstrip("/") + path
    return f"{url}?{query}" if query else url


def webhook_url(public_base: str, path: str, params: Mapping[str, str] | None = None) -> str:
    """A URL to hand Twilio (an `action`, a `<Redirect>`, a callback): `public_base` + `path`,
    with `params` form-encoded as its query. Twilio calls it back as it is and signs it so, and
    `signed_url` of that request is this string again."""
    return signed_url(public_base, path, urlencode(dict(params or {})))


def pay_action_url(payments_public_url: str, payment_id: str, return_url: str = "") -> str:
    """The `action` of a `<Pay>` for the pending payment `payment_id`: the payments service's
    `<Pay>` webhook, which charges it and then redirects the call to `return_url` (when given)."""
    params = {"payment_id": payment_id}
    if return_url:
        params["return_url"] = return_url
    return webhook_url(payments_public_url, PAY_PATH, params)


def compute_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The `X-Twilio-Signature` Twilio would send for a POST of `params` to `url` (the simulator
    and the tests sign with it)."""
    from twilio.request_validator import RequestValidator

    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))


def is_valid_signature(auth_token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    """Whether `signature` is Twilio's signature of a POST of `params` to `url` (the URL as
    `signed_url` gives it). False without an auth token or a signature."""
    if not auth_token or not signature:
        return False
    from twilio.request_validator import RequestValidator

    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))
