"""Fixed notices every process must spell the same way."""

from __future__ import annotations

# 12 CFR 1006.6(e): every electronic communication we start carries a simple way to opt out.
# The one spelling: outbox, scheduler, console and the voice connector's text fallback use it.
OPT_OUT_NOTICE = "Reply STOP to opt out."


def with_opt_out(body: str) -> str:
    """`body` ending with the opt-out notice (added once; a body that has it is unchanged)."""
    body = body.rstrip()
    return body if body.endswith(OPT_OUT_NOTICE) else f"{body} {OPT_OUT_NOTICE}".lstrip()
