"""What a voice says: the assistant's text made speakable for text-to-speech (no emoji, markdown
or URLs; lines become sentences). Amounts and ids are read as contracts/speech.py reads them, the
reading the payments service's `<Pay>` webhook uses too."""

from __future__ import annotations

import re

from contracts.speech import speak_code, speakable_cents

__all__ = ["speak_code", "speakable"]

_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U00002b00-\U00002bff\U0000fe0f\U0000200d"
    "\U000020e3\U0001f1e6-\U0001f1ff\U00002190-\U000021ff\U00002300-\U000023ff]+"
)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|~~|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_MD_LINE_PREFIX = re.compile(r"^\s*(?:#{1,6}\s+|>\s?|[-*+•]\s+)", re.MULTILINE)
# A URL, with what would lead into it ("pay here: https://...", "at www..."): dropped, never read out.
_URL = re.compile(r"(?:\s+(?:at|here|on|via))?\s*:?\s*\b(?:https?://|www\.)\S*[^\s.,!?;:)]", re.IGNORECASE)
_MONEY = re.compile(r"(-\s?)?\$\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?!\d)")
_CODE = re.compile(r"\b[A-Z]{2,5}-[A-Z0-9]{4,12}\b")  # PAY-4K2M8Q, CASE-8HD2: read one character at a time


def _money(match: re.Match[str]) -> str:
    negative, whole, fraction = match.group(1), match.group(2), match.group(3)
    cents = int(whole.replace(",", "")) * 100 + int((fraction or "0").ljust(2, "0"))
    return ("minus " if negative else "") + speakable_cents(cents)


def speakable(text: str) -> str:
    """Text a text-to-speech voice reads well: no emoji, markdown or URLs; "$2,450.00" →
    "2,450 dollars", "$103.34" → "103 dollars and 34 cents"; lines become sentences."""
    text = _EMOJI.sub("", text or "")
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _URL.sub(" ", text)
    for _ in range(2):  # nested emphasis (**_x_**)
        text = _MD_EMPHASIS.sub(r"\2", text)
    text = _MD_LINE_PREFIX.sub("", text)
    text = _MONEY.sub(_money, text)
    text = _CODE.sub(lambda m: speak_code(m.group(0)), text)
    sentences = []
    for line in text.splitlines():
        line = re.sub(r"\(\s*\)", "", line)
        line = re.sub(r"\s*:\s*$", ".", line.strip())
        line = re.sub(r"\s+([.,!?;:])", r"\1", re.sub(r"[ \t]+", " ", line)).strip()
        if not line or not re.search(r"\w", line):
            continue
        if line[-1] not in ".!?,;:":
            line += "."
        sentences.append(line)
    return " ".join(sentences)
