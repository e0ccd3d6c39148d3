"""The Markdown report: headline numbers first, every section rendered from the report's data."""

from __future__ import annotations

from typing import Any

from bench.report import render_markdown
from bench.stats import Summary


def summary(p50: float, errors: int = 0) -> dict[str, Any]:
    return Summary("all turns", 100, errors, 10.0, p50, p50 * 2, p50 * 3, p50).as_dict()


def report() -> dict[str, Any]:
    step = lambda server, load, p50: {  # noqa: E731
        "server": server,
        "concurrency": load,
        "elapsed_s": 10.0,
        "all": summary(p50),
        "turns": {"greet": summary(p50)},
        "errors": {},
        "error_samples": [],
        "peak_rss_bytes": {},
    }
    parts = {
        "confirm_link": {
            "turns": 3,
            "total_ms": 300.0,
            "rasa_ms": 100.0,
            "actions_ms": 20.0,
            "payments_ms": 180.0,
            "action_calls": 1.0,
            "payments_routes_ms": {"POST /api/payments": 150.0},
            "actions_run": {"action_answer": 3},
        }
    }
    return {
        "date": "2026-11-22 12:00:00 UTC",
        "bench_seconds": 1200.0,
        "machine": {"cpus": 2, "platform": "Linux"},
        "settings": {"seconds_per_step": 40, "levels": [1, 50], "voice_levels": [1]},
        "steps": [step("ours", 1, 200.0), step("bare", 1, 50.0), step("ours", 50, 4000.0), step("bare", 50, 1000.0)],
        "ratios": [{"concurrency": 1, "p50_ms": 4.0, "p95_ms": 4.0}, {"concurrency": 50, "p50_ms": 4.0, "p95_ms": 4.0}],
        "voice": [{"concurrency": 1, "elapsed_s": 30.0, "all": summary(150.0), "turns": {}}],
        "breakdown": {"1": parts},
        "slowest": {
            "1": {
                "turn": "confirm_link",
                "total_ms": 300.0,
                "largest_part": "payments",
                "largest_part_ms": 180.0,
                "top_payments_route": "POST /api/payments",
                "top_payments_route_ms": 150.0,
            }
        },
        "training": {
            "bare": {"seconds": 120.0, "trained_at": "2026-11-22T11:00:00", "trained_now": False},
            "real": {"seconds": 290.0},
        },
        "model_bytes": {"ours": 35_000_000, "bare": 30_000_000},
        "memory": {
            "at_rest": {"ours/rasa": 2**30, "bare/rasa": 2**29},
            "peak_under_load": {"ours/rasa": 2 * 2**30},
            "peak_load": 50,
        },
        "nlu": {
            "folds": 3,
            "seconds": 300.0,
            "accuracy": 0.9,
            "macro_f1": 0.85,
            "weighted_f1": 0.9,
            "intents": {"hardship": {"f1": 0.5, "precision": 0.5, "recall": 0.5, "support": 10}},
        },
        "payments_api": None,
        "rasa_costs": {
            "ours": {"confirm_link": {"nlu_ms": 20.0, "actions": 4, "events_before": 60}},
            "bare": {"confirm_link": {"nlu_ms": 20.0, "actions": 2, "events_before": 20}},
        },
    }


def test_headline_comes_first_with_latency_ratio_voice_training_memory_and_slowest_step() -> None:
    markdown = render_markdown(report())
    headline = markdown.split("## Turn latency by step")[0]
    assert "| 50 | 4,000 ms / 8,000 ms / 12,000 ms |" in headline
    assert "4.00× / 4.00×" in headline
    assert "p50 150 ms, p95 300 ms" in headline
    assert "real model 290 s" in headline and "35,000,000 bytes" in headline
    assert "1,024 MiB at rest, 2,048 MiB at peak with 50 customers" in headline
    assert "lowest F1 hardship 0.500" in headline
    assert "the `confirm_link` turn, 300 ms" in headline and "`POST /api/payments` (150 ms)" in headline


def test_sections_render_without_optional_parts() -> None:
    data = report()
    data["nlu"] = None
    data["training"]["real"] = None
    markdown = render_markdown(data)
    assert "No results/nlu_report.json" in markdown
    assert "real model not timed in this run" in markdown
    assert "| confirm_link | 3 | 300 | 100 | 20 | 180 | POST /api/payments 150 | action_answer |" in markdown


def test_inside_rasa_spreads_the_time_after_nlu_over_the_actions_run() -> None:
    data = report()
    data["steps"][1]["turns"]["confirm_link"] = summary(60.0)  # the bare server's mean: 60 ms
    markdown = render_markdown(data)
    # ours: (100 - 20) / 4 = 20 ms per action; bare: (60 - 20) / 2 = 20 ms per action
    assert "| confirm_link | 100 ms | 20 ms | 4 | 1.0 | 60 | 20 ms | 60 ms | 20 ms | 2 | 20 ms |" in markdown
    assert "Rasa ran 4 actions for it after 20 ms of NLU, about 20 ms per action" in markdown


def test_the_cause_names_the_action_answer_check_when_it_was_timed() -> None:
    data = report()
    data["action_validation"] = {"rasa_validate_ms": 25.0, "validator_built_once_ms": 0.7}
    headline = render_markdown(data).split("## Turn latency by step")[0]
    assert "25 ms per answer (0.7 ms with a validator built once), 1 answers in this turn, so about 25 ms" in headline
