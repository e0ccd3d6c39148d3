"""What rasa itself does in a turn, for the breakdown: NLU time alone (`POST /model/parse`, the
same texts, one at a time) and how many actions it predicts and runs per turn (from the tracker)."""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx

from bench.conversation import Turn


def actions_per_turn(events: list[dict[str, Any]], turn_names: list[str]) -> dict[str, dict[str, int]]:
    """For each user turn, in order: the actions rasa ran after it (each one a policy prediction,
    the closing action_listen included) and the events stored in the tracker up to it."""
    out: dict[str, dict[str, int]] = {}
    user_turns = [i for i, e in enumerate(events) if e.get("event") == "user"]
    for n, (index, name) in enumerate(zip(user_turns, turn_names, strict=False)):
        end = user_turns[n + 1] if n + 1 < len(user_turns) else len(events)
        actions = sum(1 for e in events[index:end] if e.get("event") == "action")
        out[name] = {"actions": actions, "events_before": index}
    return out


def mean_counts(per_conversation: list[dict[str, dict[str, int]]]) -> dict[str, dict[str, float]]:
    names = [name for name in per_conversation[0]] if per_conversation else []
    return {
        name: {
            key: round(statistics.fmean(c[name][key] for c in per_conversation if name in c), 1)
            for key in ("actions", "events_before")
        }
        for name in names
    }


def tracker_events(rasa_url: str, token: str, sender: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{rasa_url}/conversations/{sender}/tracker", params={"token": token}, timeout=30)
    response.raise_for_status()
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def parse_ms(rasa_url: str, token: str, conversations: list[list[Turn]]) -> dict[str, float]:
    """Mean milliseconds of NLU alone per turn name, sending each turn's text to `/model/parse`."""
    timings: dict[str, list[float]] = {}
    with httpx.Client(base_url=rasa_url, params={"token": token}, timeout=30) as http:
        for turns in conversations:
            for turn in turns:
                started = time.perf_counter()
                http.post("/model/parse", json={"text": turn.text}).raise_for_status()
                timings.setdefault(turn.name, []).append((time.perf_counter() - started) * 1000)
    return {name: round(statistics.fmean(values), 1) for name, values in timings.items()}
