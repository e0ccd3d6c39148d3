"""Pure summaries of a benchmark step: latency per turn, errors, and where a turn's time goes."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.conversation import TurnResult
from bench.stats import Summary

# A server's timing line belongs to a turn when it starts inside the turn's window (plus this
# much slack for clocks read in different processes).
SLACK_SECONDS = 0.005


def summarize(results: list[TurnResult], elapsed: float, turn_order: Iterable[str]) -> dict[str, Any]:
    """All turns together (`all`: p50/p95/p99, turns per second, errors), each turn by name, and the
    most common error messages. Latencies are of successful turns; failures count as errors."""

    def summary(name: str, rows: list[TurnResult]) -> dict[str, Any]:
        ok = [r.seconds for r in rows if not r.error]
        return Summary.of(name, ok, len(rows) - len(ok), elapsed).as_dict()

    by_name = {name: [r for r in results if r.name == name] for name in turn_order}
    errors = Counter(r.error.split(":")[0] for r in results if r.error)
    samples = Counter(r.error for r in results if r.error)
    return {
        "all": summary("all turns", results),
        "turns": {name: summary(name, rows) for name, rows in by_name.items() if rows},
        "errors": dict(errors.most_common()),
        "error_samples": [msg for msg, _ in samples.most_common(3)],
    }


def read_timings(path: Path) -> list[dict[str, Any]]:
    """The JSON lines bench/timed_*.py wrote; none when the file is absent."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def breakdown(
    results: list[TurnResult], actions: list[dict[str, Any]], payments: list[dict[str, Any]], turn_order: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Mean milliseconds per turn, split so the parts add up to the whole:
    rasa (channel, NLU, policies, tracker store: everything outside action calls),
    action server (action calls minus the payments calls inside them), payments service
    (its own request time), plus each payments route's mean time per turn and the actions run."""
    by_sender_actions = _by_conversation(actions)
    by_sender_payments = _by_conversation(payments)
    rows: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        if r.error:
            continue
        inside_actions = _within(by_sender_actions.get(r.sender, []), r)
        inside_payments = _within(by_sender_payments.get(r.sender, []), r)
        total = r.seconds * 1000
        action_ms = sum(t["ms"] for t in inside_actions)
        payments_ms = sum(t["ms"] for t in inside_payments)
        routes: dict[str, float] = {}
        for t in inside_payments:
            routes[t["what"]] = routes.get(t["what"], 0.0) + t["ms"]
        rows.setdefault(r.name, []).append(
            {
                "total": total,
                "rasa": total - action_ms,
                "actions": action_ms - payments_ms,
                "payments": payments_ms,
                "routes": routes,
                "action_names": [t["what"] for t in inside_actions],
            }
        )
    out: dict[str, dict[str, Any]] = {}
    for name in turn_order:
        turns = rows.get(name)
        if not turns:
            continue
        route_names = sorted({route for t in turns for route in t["routes"]})
        out[name] = {
            "turns": len(turns),
            **{
                f"{part}_ms": round(statistics.fmean(t[part] for t in turns), 1)
                for part in ("total", "rasa", "actions", "payments")
            },
            "action_calls": round(statistics.fmean(len(t["action_names"]) for t in turns), 1),
            "payments_routes_ms": {
                route: round(statistics.fmean(t["routes"].get(route, 0.0) for t in turns), 1) for route in route_names
            },
            "actions_run": dict(Counter(a for t in turns for a in t["action_names"])),
        }
    return out


def slowest_step(parts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The turn with the highest mean time, and its largest part (and route, for the payments service)."""
    if not parts:
        return {}
    turn, row = max(parts.items(), key=lambda kv: kv[1]["total_ms"])
    part = max(("rasa", "actions", "payments"), key=lambda p: row[f"{p}_ms"])
    routes = row["payments_routes_ms"]
    top_route = max(routes, key=lambda route: routes[route]) if routes else None
    return {
        "turn": turn,
        "total_ms": row["total_ms"],
        "largest_part": part,
        "largest_part_ms": row[f"{part}_ms"],
        "top_payments_route": top_route,
        "top_payments_route_ms": routes.get(top_route) if top_route else None,
    }


def ratio(ours: float, bare: float) -> float | None:
    return round(ours / bare, 2) if bare and bare == bare else None  # bare == bare: not NaN


def _by_conversation(lines: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        grouped.setdefault(line["conversation"], []).append(line)
    return grouped


def _within(lines: list[dict[str, Any]], turn: TurnResult) -> list[dict[str, Any]]:
    return [t for t in lines if turn.start - SLACK_SECONDS <= t["start"] <= turn.start + turn.seconds]
