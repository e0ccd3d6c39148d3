"""Links the bot may send: only to our own payment pages (issue 11, item 6)."""

from __future__ import annotations

from urllib.parse import urlsplit

from actions.config import get_settings


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def trusted_link(url: object) -> bool:
    """True when `url` is an http(s) URL on the origin of PAYMENTS_PUBLIC_URL (scheme, host, port).
    Whoever triggered the message, a link elsewhere is never sent to a customer."""
    if not isinstance(url, str) or not url or any(c.isspace() for c in url):
        return False
    scheme, netloc = _origin(url)
    return scheme in ("http", "https") and (scheme, netloc) == _origin(get_settings().payments_public_url)
