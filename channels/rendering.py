"""Bot messages as text, shared by the SMS connector and the voice connector's text fallback
(messages pushed after a call are texted): buttons as numbered options, an agent's name before
their message, a turn's messages packed into as few SMS as fit; and a customer's reply picking a
button by number or title (SMS replies, keypad digits and spoken choices on a call)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

SMS_LIMIT = 320  # characters per message our SMS wording targets (two segments)

_ALREADY_NUMBERED = re.compile(r"\b(reply|press|text)\s+1\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def render_buttons(text: str, buttons: list[dict[str, Any]]) -> str:
    """Buttons as numbered options, one "Reply N for TITLE" line each; left out when the SMS
    wording already numbers them ("Reply 1 to pay, 2 for a plan...")."""
    if not buttons or _ALREADY_NUMBERED.search(text or ""):
        return text or ""
    lines = [f"Reply {i} for {button.get('title') or button.get('payload')}" for i, button in enumerate(buttons, 1)]
    return "\n".join(part for part in [text or "", *lines] if part)


def render_message(message: dict[str, Any]) -> str:
    """One bot message as SMS text (custom payloads are for voice and web chat: not sent). An
    agent's message (the console puts `agent` in the bot event's metadata) starts with their name."""
    text = render_buttons(message.get("text") or "", message.get("buttons") or message.get("quick_replies") or [])
    agent = message.get("agent")
    if isinstance(agent, str) and agent.strip() and text:
        text = f"{agent.strip()[:40]}: {text}"
    extras = [message.get("image"), message.get("attachment") if isinstance(message.get("attachment"), str) else None]
    return "\n".join(part for part in [text, *extras] if part).strip()


def _hard_split(word: str, limit: int) -> list[str]:
    return [word[i : i + limit] for i in range(0, len(word), limit)]


def _pack(pieces: Iterable[str], separator: str, limit: int, split_further: Callable[[str], list[str]]) -> list[str]:
    """Greedily join whole pieces up to `limit`; a piece longer than `limit` is split further."""
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if not piece:
            continue
        if len(piece) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.extend(split_further(piece))
            continue
        candidate = f"{current}{separator}{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def split_sms(text: str, limit: int = SMS_LIMIT) -> list[str]:
    """Split text into SMS of at most `limit` characters at line, then sentence, then word
    boundaries; a single "word" longer than `limit` (never in our wording) is cut."""

    def by_words(sentence: str) -> list[str]:
        return _pack(sentence.split(), " ", limit, lambda word: _hard_split(word, limit))

    def by_sentences(line: str) -> list[str]:
        return _pack(_SENTENCE_END.split(line.strip()), " ", limit, by_words)

    lines = [line.strip() for line in (text or "").strip().splitlines()]
    return _pack(lines, "\n", limit, by_sentences)


def pack_messages(texts: Iterable[str], limit: int = SMS_LIMIT) -> list[str]:
    """A turn's bot messages as few SMS as fit: whole messages together (blank line between),
    a message too long for one SMS split by `split_sms`."""
    return _pack([t.strip() for t in texts], "\n\n", limit, lambda text: split_sms(text, limit))


# --- button replies ------------------------------------------------------------------------------

_CHOICE = re.compile(r"^\s*(?:#|no\.?\s*|number\s+|option\s+)?(\d{1,2})\s*[.)!]?\s*$", re.IGNORECASE)


def button_payload(reply: str, buttons: list[dict[str, Any]]) -> str | None:
    """The payload of the button a reply picks: its number ("2", "#2", "option 2") or its title."""
    if not buttons:
        return None
    match = _CHOICE.match(reply or "")
    if match:
        index = int(match.group(1))
        if 1 <= index <= len(buttons):
            return str(buttons[index - 1].get("payload") or "") or None
        return None
    wanted = re.sub(r"[^\w ]+", "", (reply or "").casefold()).strip()
    for button in buttons:
        if wanted and wanted == re.sub(r"[^\w ]+", "", str(button.get("title", "")).casefold()).strip():
            return str(button.get("payload") or "") or None
    return None
