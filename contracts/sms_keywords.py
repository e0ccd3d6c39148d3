"""The carrier keywords of SMS, once: the SMS connector handles them before Rasa (channels/sms.py)
and the phone simulator answers them as Twilio's Advanced Opt-Out would (scripts/phone.py).

Twilio's default opt-out, opt-in and help keywords (https://help.twilio.com/articles/223134027),
matched on the whole message as carriers do: case-insensitive, trailing punctuation and spaces
ignored ("stop." is STOP, "please stop" is not: words like that are a revocation, read by
channels/revocation.py). With Advanced Opt-Out on, Twilio says which kind matched in the
webhook's `OptOutType` (STOP, START, HELP); that wins.
"""

from __future__ import annotations

import re
from typing import Final

OPT_OUT_KEYWORDS: Final = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
OPT_IN_KEYWORDS: Final = frozenset({"START", "UNSTOP"})
HELP_KEYWORDS: Final = frozenset({"HELP", "INFO"})

# What `keyword_of` answers.
OPT_OUT: Final = "opt_out"
OPT_IN: Final = "opt_in"
HELP: Final = "help"

_OPT_OUT_TYPES: Final = {"STOP": OPT_OUT, "START": OPT_IN, "HELP": HELP}
_TRAILING: Final = re.compile(r"[\s.!?,;:'\"]+$")


def keyword(body: str) -> str:
    """The message as a keyword candidate: trimmed, trailing punctuation dropped, upper case."""
    return _TRAILING.sub("", body.strip()).upper()


def keyword_of(body: str, opt_out_type: str = "") -> str | None:
    """OPT_OUT, OPT_IN, HELP, or None for a message that is no carrier keyword."""
    kind = _OPT_OUT_TYPES.get(opt_out_type.strip().upper())
    if kind:
        return kind
    word = keyword(body)
    if word in OPT_OUT_KEYWORDS:
        return OPT_OUT
    if word in OPT_IN_KEYWORDS:
        return OPT_IN
    if word in HELP_KEYWORDS:
        return HELP
    return None
