"""Turn summaries and the split of a turn's time between rasa, the action server and payments."""

from __future__ import annotations

from bench.analysis import breakdown, ratio, slowest_step, summarize
from bench.conversation import TurnResult
from bench.rasa_costs import actions_per_turn


def turn(name: str, sender: str, start: float, seconds: float, error: str = "") -> TurnResult:
    return TurnResult(name, sender, start, seconds, error)


def test_summarize_counts_failures_as_errors_not_latencies() -> None:
    results = [
        turn("greet", "a", 0, 0.1),
        turn("greet", "b", 0, 0.3),
        turn("greet", "c", 0, 0.2),
        turn("choose", "a", 1, 5.0, "timeout"),
    ]
    summary = summarize(results, elapsed=2.0, turn_order=["greet", "choose"])
    assert summary["all"]["requests"] == 3 and summary["all"]["errors"] == 1
    assert summary["all"]["p50_ms"] == 200.0 and summary["all"]["per_second"] == 1.5
    assert summary["turns"]["choose"]["errors"] == 1 and summary["turns"]["choose"]["requests"] == 0
    assert summary["errors"] == {"timeout": 1}


def test_breakdown_matches_server_lines_to_the_turn_by_conversation_and_time() -> None:
    results = [turn("confirm", "a", 100.0, 0.5), turn("confirm", "b", 100.0, 0.3)]
    actions = [
        {"conversation": "a", "what": "action_answer", "start": 100.1, "ms": 300.0},
        {"conversation": "a", "what": "action_answer", "start": 200.0, "ms": 999.0},  # another turn
        {"conversation": "b", "what": "action_answer", "start": 100.05, "ms": 100.0},
    ]
    payments = [
        {"conversation": "a", "what": "POST /api/payments", "start": 100.2, "ms": 200.0},
        {"conversation": "b", "what": "GET /api/accounts/{account_id}", "start": 100.1, "ms": 40.0},
    ]
    parts = breakdown(results, actions, payments, ["confirm"])["confirm"]
    assert parts["total_ms"] == 400.0
    assert parts["rasa_ms"] + parts["actions_ms"] + parts["payments_ms"] == parts["total_ms"]
    assert parts["payments_ms"] == 120.0 and parts["actions_ms"] == 80.0 and parts["rasa_ms"] == 200.0
    assert parts["payments_routes_ms"] == {"GET /api/accounts/{account_id}": 20.0, "POST /api/payments": 100.0}
    slowest = slowest_step({"confirm": parts})
    assert (slowest["turn"], slowest["largest_part"], slowest["top_payments_route"]) == (
        "confirm",
        "rasa",
        "POST /api/payments",
    )


def test_ratio_is_none_without_a_bare_number() -> None:
    assert ratio(300.0, 100.0) == 3.0
    assert ratio(300.0, 0.0) is None and ratio(300.0, float("nan")) is None


def test_actions_per_turn_counts_the_actions_after_each_user_message() -> None:
    events = [
        {"event": "action", "name": "action_session_start"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "hi"},
        {"event": "action", "name": "utter_greet"},
        {"event": "slot"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "bye"},
        {"event": "action", "name": "utter_goodbye"},
    ]
    assert actions_per_turn(events, ["greet", "bye"]) == {
        "greet": {"actions": 2, "events_before": 2},
        "bye": {"actions": 1, "events_before": 6},
    }
