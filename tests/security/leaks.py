"""Searching what the stack stored for card numbers, whatever form they were stored in.

A card number that got through may sit in the tracker store, the payments database or a log in
the form the customer typed it: with dots or letters between groups, as words, as keycap emoji,
with zero-width spaces, JSON-escaped (`\\u200b`), or in two messages. So every text is first
brought to plain digits (`digit_streams`) and the number is looked for in those; a number split
across messages is looked for in the concatenated user texts of each conversation."""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ESCAPE = re.compile(r"\\+u([0-9a-fA-F]{4})")
# The oracle spells number words itself, on purpose: it must not share a table with
# contracts/masking.py, or a word missing from both would leak unseen.
UNITS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "cero": "0",
    "one": "1",
    "won": "1",
    "uno": "1",
    "two": "2",
    "to": "2",
    "too": "2",
    "dos": "2",
    "three": "3",
    "tres": "3",
    "four": "4",
    "for": "4",
    "fore": "4",
    "cuatro": "4",
    "five": "5",
    "cinco": "5",
    "six": "6",
    "seis": "6",
    "seven": "7",
    "siete": "7",
    "eight": "8",
    "ate": "8",
    "ocho": "8",
    "nine": "9",
    "niner": "9",
    "nueve": "9",
}
TEENS = {
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
}
TENS = {
    "twenty": "2",
    "thirty": "3",
    "forty": "4",
    "fourty": "4",
    "fifty": "5",
    "sixty": "6",
    "seventy": "7",
    "eighty": "8",
    "ninety": "9",
}
REPEATS = {"double": 2, "triple": 3}
TOKEN = re.compile(r"[a-z]+|\d")


def _plain(text: str) -> str:
    text = ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text if unicodedata.category(ch) != "Cf"
    ).lower()


def _spoken(plain: str) -> str:
    """Digits as they would be read out: words, teens, tens, "double"/"triple"."""
    tokens = TOKEN.findall(plain.replace("-", " "))
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token.isdigit():
            out.append(token)
        elif token in UNITS:
            out.append(UNITS[token])
        elif token in TEENS:
            out.append(TEENS[token])
        elif token in TENS:
            unit = UNITS.get(following, "")
            out.append(TENS[token] + (unit if unit and unit != "0" else "0"))
            i += 1 if unit and unit != "0" else 0
        elif token in REPEATS and (following in UNITS or following.isdigit()):
            out.append((UNITS.get(following) or following) * REPEATS[token])
            i += 1
        i += 1
    return "".join(out)


def digit_streams(text: str) -> tuple[str, str]:
    """(the digits of `text` in order, in any script; the same with spoken digits read as digits)."""
    plain = _plain(text)
    return "".join(ch for ch in plain if ch.isdigit()), _spoken(plain)


def holds(text: str, number: str) -> bool:
    return any(number in stream for stream in digit_streams(text))


@dataclass(frozen=True)
class Hit:
    where: str  # file, table.column or conversation
    number: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.number[-4:]}… in {self.where}: {self.excerpt[:160]!r}"


def search_texts(where: str, texts: Iterable[str], numbers: Iterable[str]) -> Iterator[Hit]:
    numbers = list(numbers)
    for text in texts:
        for number in numbers:
            if holds(text, number):
                yield Hit(where, number, text)


def search_logs(paths: Iterable[Path], numbers: Iterable[str]) -> list[Hit]:
    numbers = list(numbers)
    hits: list[Hit] = []
    for path in paths:
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        hits += search_texts(path.name, lines, numbers)
    return hits


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
        try:
            inner = json.loads(value)
        except ValueError:
            return
        if not isinstance(inner, str):
            yield from _strings(inner)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def search_sqlite(path: Path, numbers: Iterable[str]) -> list[Hit]:
    """Every text cell of every table (JSON cells are read string by string)."""
    numbers = list(numbers)
    hits: list[Hit] = []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for column, cell in zip(columns, row, strict=False):
                    if isinstance(cell, bytes):
                        cell = cell.decode("utf-8", "replace")
                    if isinstance(cell, str):
                        hits += search_texts(f"{path.name}:{table}.{column}", list(_strings(cell)), numbers)
    return hits


def search_conversations(tracker_db: Path, numbers: Iterable[str]) -> list[Hit]:
    """Each conversation's user texts joined in order: a number split across messages."""
    numbers = list(numbers)
    said: dict[str, list[str]] = defaultdict(list)
    with sqlite3.connect(f"file:{tracker_db}?mode=ro", uri=True) as db:
        for sender, data in db.execute("SELECT sender_id, data FROM events WHERE type_name = 'user' ORDER BY id"):
            event = json.loads(data)
            said[sender].append(str(event.get("text") or ""))
    hits: list[Hit] = []
    for sender, texts in said.items():
        hits += search_texts(f"conversation {sender}", [" ".join(texts)], numbers)
    return hits
