"""What `make model` shows of `rasa train`'s output: everything but the warnings we understand.

`rasa train` validates the data first and warns about things that are true by design here
(tests/bot/test_data_validate.py proves each harmless and fails on any other):
- a response "not used in any story or rule" that a custom action or a form sends: named in
  actions/names.py (`UTTER_*`) or a form's question `utter_ask_<slot>`;
- an intent "listed in the domain file, but is not found in the NLU training data" that the
  payments service triggers (`contracts.names.EXTERNAL_INTENTS`): training it from text would let
  a customer type "payment succeeded";
- a DeprecationWarning (or a subclass such as pyparsing's) raised inside an installed library
  (site-packages), e.g. pkg_resources.
Those are hidden and counted; every other line (other warnings, errors, tracebacks) is shown.

Usage (make does this): .venv/rasa/bin/python scripts/train_output.py var/log/train.log
`filter_output` is pure; `explained_names` reads actions/names.py and the domain files.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Python's warnings format: "<file>:<line>: <Category>: <message>", then "  <source line>" (or,
# for Rasa's warnings, "  More info at <docs>") when there is one.
WARNING = re.compile(r"^(?P<file>\S+?):(?P<line>\d+): (?P<category>\w*Warning): (?P<message>.*)$")
UNUSED_RESPONSE = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule\.")
UNTRAINED_INTENT = re.compile(r"The intent '(\w+)' is listed in the domain file, but is not found in the NLU")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")
# How many unindented lines a library's multi-line warning message may have before its source line.
MAX_MESSAGE_LINES = 3

RESPONSES, INTENTS, DEPRECATIONS = (
    "responses sent by custom actions or forms",
    "intents triggered by the payments service",
    "deprecation warnings inside libraries",
)


@dataclass(frozen=True)
class Explained:
    responses: frozenset[str] = frozenset()
    intents: frozenset[str] = frozenset()


@dataclass
class Filtered:
    shown: list[str] = field(default_factory=list)
    hidden: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        """One line: how many warnings were hidden, by reason ("" when none were)."""
        if not self.hidden:
            return ""
        parts = ", ".join(f"{count} {reason}" for reason, count in self.hidden.most_common())
        return f"{sum(self.hidden.values())} known warnings hidden ({parts})"


def _reason(category: str, file: str, message: str, explained: Explained) -> str | None:
    """Why a warning may be hidden, or None to show it."""
    unused = UNUSED_RESPONSE.search(message)
    if unused:
        return RESPONSES if unused.group(1) in explained.responses else None
    untrained = UNTRAINED_INTENT.search(message)
    if untrained:
        return INTENTS if untrained.group(1) in explained.intents else None
    if category.endswith("DeprecationWarning") and "site-packages" in file:  # PyparsingDeprecationWarning too
        return DEPRECATIONS
    return None


def _split(raw_lines: Iterable[str]) -> list[str]:
    """Non-blank lines without colour codes. Rasa colours each warning and puts the reset code at
    the start of the next line, so one raw line can end one warning and start the next."""
    parts = (part for raw in raw_lines for part in raw.rstrip("\n").split("\x1b[0m"))
    return [text for text in (ANSI.sub("", part) for part in parts) if text.strip()]


def _block_end(lines: list[str], start: int, multiline: bool) -> int:
    """The index after the warning whose header is at `start`: the header, then its indented
    source or "More info" line if there is one. A `multiline` message (a library's deprecation)
    may first run on for up to MAX_MESSAGE_LINES unindented lines, but only when an indented
    source line ends them; otherwise the warning is its header alone."""
    following = start + 1
    if following < len(lines) and lines[following].startswith("  "):
        return following + 1
    if not multiline:
        return following
    for end in range(following, min(following + MAX_MESSAGE_LINES, len(lines))):
        line = lines[end]
        if WARNING.match(line) or LOG_LINE.match(line) or line.startswith("Traceback"):
            break
        if line.startswith("  "):
            return end + 1
    return following


def filter_output(raw_lines: Iterable[str], explained: Explained) -> Filtered:
    """The lines to show and the hidden warnings counted by reason. Pure."""
    lines = _split(raw_lines)
    result = Filtered()
    index = 0
    while index < len(lines):
        match = WARNING.match(lines[index])
        reason = _reason(match["category"], match["file"], match["message"], explained) if match else None
        end = _block_end(lines, index, multiline=reason == DEPRECATIONS) if match else index + 1
        if reason:
            result.hidden[reason] += 1
        else:
            result.shown.extend(lines[index:end])
        index = end
    return result


def explained_names(root: Path = ROOT) -> Explained:
    """The responses custom actions and forms send, and the intents the payments service triggers."""
    import yaml

    sys.path.insert(0, str(root))
    from actions import names

    responses = {value for key, value in vars(names).items() if key.startswith("UTTER_") and isinstance(value, str)}
    for path in sorted((root / "bot" / "domain").glob("*.yml")):
        forms = (yaml.safe_load(path.read_text()) or {}).get("forms") or {}
        for form in forms.values():
            responses |= {f"utter_ask_{slot}" for slot in (form or {}).get("required_slots") or []}
    return Explained(frozenset(responses), frozenset(names.EXTERNAL_INTENTS))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path, help="the captured output of `rasa train`")
    parser.add_argument("--prefix", default="[model] ", help="printed before the summary line")
    args = parser.parse_args(argv)
    result = filter_output(args.log.read_text(errors="replace").splitlines(), explained_names())
    for line in result.shown:
        if line.strip():
            print(line)
    if result.hidden:
        print(f"{args.prefix}{result.summary()}; full output: {args.log}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
