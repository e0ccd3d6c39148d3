"""Markdown for results/bench_report.md from the report dictionary bench/whole_stack.py builds
(the same data as bench_report.json). Pure: no I/O."""

from __future__ import annotations

from typing import Any

from bench.stats import markdown_table

PARTS = {
    "rasa": "rasa (channel, NLU, policies, tracker store, hops)",
    "actions": "action server (own code)",
    "payments": "payments service",
}


def mib(n: int | None) -> str:
    return "-" if not n else f"{n / 2**20:,.0f} MiB"


def ms(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:,.0f} ms"


def times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}×"


def render_markdown(r: dict[str, Any]) -> str:
    return (
        "\n".join(
            _headline(r)
            + _latency(r)
            + _voice(r)
            + _breakdown(r)
            + _inside_rasa(r)
            + _resources(r)
            + _nlu(r)
            + _payments_api(r)
        )
        + "\n"
    )


def _step(r: dict[str, Any], server: str, load: int) -> dict[str, Any]:
    return next((s["all"] for s in r["steps"] if s["server"] == server and s["concurrency"] == load), {})


def _headline(r: dict[str, Any]) -> list[str]:
    settings, machine = r["settings"], r["machine"]
    lines = [
        f"# Evenkeel benchmark ({r['date']})",
        "",
        f"{machine['cpus']} CPUs, {machine['platform']}, 1-minute load average {machine.get('load_before', '-')} "
        f"before the servers started; each load step {settings['seconds_per_step']:.0f} s "
        f"({settings.get('top_seconds', settings['seconds_per_step']):.0f} s at {max(settings['levels'])} customers), "
        f"closed loop (no think time); whole run {r['bench_seconds'] / 60:.0f} min. "
        "How it is measured: [docs/benchmarks.md](../docs/benchmarks.md).",
        "",
        "## Headline",
        "",
    ]
    rows = []
    for load in settings["levels"]:
        ours, bare = _step(r, "ours", load), _step(r, "bare", load)
        ratio: dict[str, Any] = next((x for x in r["ratios"] if x["concurrency"] == load), {})
        rows.append(
            f"| {load} | {ms(ours.get('p50_ms'))} / {ms(ours.get('p95_ms'))} / {ms(ours.get('p99_ms'))} "
            f"| {ours.get('per_second', '-')} | {ours.get('errors', '-')} of {ours.get('requests', 0) + ours.get('errors', 0)} "
            f"| {ms(bare.get('p50_ms'))} / {ms(bare.get('p95_ms'))} / {ms(bare.get('p99_ms'))} "
            f"| {bare.get('per_second', '-')} | {times(ratio.get('p50_ms'))} / {times(ratio.get('p95_ms'))} |"
        )
    lines += [
        "Turn latency through the whole stack (REST channel → rasa → action server → payments service → "
        "reply) against a bare Rasa server answering the same messages with responses only:",
        "",
        "| customers | ours p50 / p95 / p99 | ours turns/s | ours errors | bare p50 / p95 / p99 | bare turns/s "
        "| overhead p50 / p95 (ours ÷ bare) |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    for row in r["voice"]:
        s = row["all"]
        lines.append(
            f"- Voice webhook answer time (signed Twilio webhook → TwiML) at {row['concurrency']} "
            f"concurrent caller(s): p50 {ms(s['p50_ms'])}, p95 {ms(s['p95_ms'])} "
            f"({s['requests']} webhooks, {s['errors']} errors)."
        )
    training = r["training"]
    real = training.get("real")
    lines.append(
        "- Training: "
        + (
            f"real model {real['seconds']:.0f} s (cold, cache off); "
            if real
            else "real model not timed in this run (`--train-real`); "
        )
        + f"bare model {training['bare']['seconds']:.0f} s"
        + ("" if training["bare"].get("trained_now") else f" (last trained {training['bare']['trained_at']})")
        + "."
    )
    sizes = r["model_bytes"]
    lines.append(f"- Model size: {sizes['ours']:,} bytes ({mib(sizes['ours'])}); bare {sizes['bare']:,} bytes.")
    memory = r["memory"]
    ours_rest = sum(v for k, v in memory["at_rest"].items() if k.startswith("ours/"))
    ours_peak = sum(v for k, v in memory["peak_under_load"].items() if k.startswith("ours/"))
    lines.append(
        f"- Resident memory of our five processes: {mib(ours_rest)} at rest, {mib(ours_peak)} at peak "
        f"with {memory['peak_load']} customers (per process below)."
    )
    if r.get("nlu"):
        nlu = r["nlu"]
        worst = next(iter(nlu["intents"].items()), None)
        lines.append(
            f"- NLU cross-validation ({nlu['folds']} folds): macro F1 {nlu['macro_f1']:.3f}, accuracy "
            f"{nlu['accuracy']:.3f}" + (f"; lowest F1 {worst[0]} {worst[1]['f1']:.3f}." if worst else ".")
        )
    load = str(settings["levels"][0])
    slowest = r["slowest"].get(load, {})
    if slowest:
        inside = inside_rasa_rows(r).get(slowest["turn"], {})
        lines.append(
            f"- Slowest step in a turn ({load} customer): the `{slowest['turn']}` turn, {ms(slowest['total_ms'])} "
            f"on average, most of it in the {PARTS[slowest['largest_part']]} ({ms(slowest['largest_part_ms'])})"
            + (
                f"; its slowest payments call is `{slowest['top_payments_route']}` "
                f"({ms(slowest['top_payments_route_ms'])})"
                if slowest.get("top_payments_route")
                else ""
            )
            + _validation_cause(r, slowest["turn"], inside)
            + "."
        )
    return lines + [""]


def _latency(r: dict[str, Any]) -> list[str]:
    lines = ["## Turn latency by step", ""]
    for step in r["steps"]:
        lines += [
            f"### {step['server']} at {step['concurrency']} concurrent customers ({step['elapsed_s']} s, "
            f"machine load {step.get('load_1min', '-')})",
            "",
            markdown_table([step["all"], *step["turns"].values()]),
            "",
        ]
        if step["errors"]:
            lines += [
                f"Errors: {step['errors']}; for example: " + "; ".join(f"`{e}`" for e in step["error_samples"]),
                "",
            ]
    return lines


def _voice(r: dict[str, Any]) -> list[str]:
    lines = [
        "## Voice webhooks",
        "",
        "Each call: answer, last 4 on the keypad, date of birth (MMDDYYYY), 2 for a payment plan.",
        "",
    ]
    for row in r["voice"]:
        lines += [
            f"### {row['concurrency']} concurrent caller(s) ({row['elapsed_s']} s)",
            "",
            markdown_table([row["all"], *row["turns"].values()]),
            "",
        ]
    return lines


def _breakdown(r: dict[str, Any]) -> list[str]:
    lines = [
        "## Where a turn's time goes",
        "",
        "Mean milliseconds per successful turn of our stack. The parts add up to the total: the action server "
        "and payments service time their own requests (bench/timed_*.py); rasa is the rest.",
        "",
    ]
    for load, parts in r["breakdown"].items():
        lines += [
            f"### {load} concurrent customer(s)",
            "",
            "| turn | turns | total | rasa | action server | payments service | payments calls | actions run |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, p in parts.items():
            calls = ", ".join(f"{route} {value:.0f}" for route, value in p["payments_routes_ms"].items()) or "-"
            actions = ", ".join(sorted(p["actions_run"])) or "-"
            lines.append(
                f"| {name} | {p['turns']} | {p['total_ms']:.0f} | {p['rasa_ms']:.0f} | {p['actions_ms']:.0f} "
                f"| {p['payments_ms']:.0f} | {calls} | {actions} |"
            )
        lines.append("")
    return lines


def inside_rasa_rows(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per turn at the lowest load: rasa's time in ours and the bare server's whole turn, each
    split into NLU alone and the rest spread over the actions rasa ran (one prediction each)."""
    load = r["settings"]["levels"][0]
    parts = r["breakdown"].get(str(load), {})
    bare_turns: dict[str, Any] = next(
        (s["turns"] for s in r["steps"] if s["server"] == "bare" and s["concurrency"] == load), {}
    )
    costs = r.get("rasa_costs") or {}
    rows = {}
    for name, p in parts.items():
        ours, bare = costs.get("ours", {}).get(name, {}), costs.get("bare", {}).get(name, {})
        bare_ms = bare_turns.get(name, {}).get("mean_ms")
        rows[name] = {
            "ours_rasa_ms": p["rasa_ms"],
            "ours_nlu_ms": ours.get("nlu_ms"),
            "ours_actions": ours.get("actions"),
            "ours_events_before": ours.get("events_before"),
            "action_calls": p.get("action_calls", "-"),
            "bare_ms": bare_ms,
            "bare_nlu_ms": bare.get("nlu_ms"),
            "bare_actions": bare.get("actions"),
            "ours_ms_per_action": _per_action(p["rasa_ms"], ours.get("nlu_ms"), ours.get("actions")),
            "bare_ms_per_action": _per_action(bare_ms, bare.get("nlu_ms"), bare.get("actions")),
        }
    return rows


def _validation_cause(r: dict[str, Any], turn: str, inside: dict[str, Any]) -> str:
    """Why rasa takes so long in the slowest turn, from the counts and the validation timing."""
    text = ""
    if inside.get("ours_ms_per_action") and inside.get("bare_ms_per_action"):
        text += (
            f". Rasa ran {inside['ours_actions']:g} actions for it after {ms(inside['ours_nlu_ms'])} of NLU, "
            f"about {ms(inside['ours_ms_per_action'])} per action (the bare server: "
            f"{inside['bare_actions']:g} actions, {ms(inside['bare_ms_per_action'])} each)"
        )
    check = r.get("action_validation")
    calls = r["breakdown"].get(str(r["settings"]["levels"][0]), {}).get(turn, {}).get("action_calls")
    if check and calls:
        text += (
            f". Rasa 3.6 checks each action server answer with `jsonschema.validate`, which first "
            f"re-validates rasa's response schema against its metaschema: {ms(check['rasa_validate_ms'])} "
            f"per answer ({check['validator_built_once_ms']:.1f} ms with a validator built once), "
            f"{calls:g} answers in this turn, so about {ms(calls * check['rasa_validate_ms'])} of it"
        )
        installed = check.get("installed_ms")
        if installed is not None:
            text += (
                f"; bot/rasa_speedups.py builds that validator once in our rasa server: "
                f"{installed:.1f} ms per answer as measured in this run"
            )
    return text


def _per_action(total: float | None, nlu: float | None, actions: float | None) -> float | None:
    if total is None or nlu is None or not actions:
        return None
    return round((total - nlu) / actions, 1)


def _inside_rasa(r: dict[str, Any]) -> list[str]:
    rows = inside_rasa_rows(r)
    if not rows:
        return []
    lines = [
        f"## Inside rasa ({r['settings']['levels'][0]} customer)",
        "",
        "NLU alone is the same text sent to `POST /model/parse`; actions are those rasa ran after the message "
        "(from the tracker; each is one policy prediction, the closing `action_listen` included). The rest of "
        "rasa's time, per action: (rasa − NLU) ÷ actions.",
        "",
        "| turn | ours: rasa | NLU | actions | action server calls | events before | per action | bare: turn | NLU "
        "| actions | per action |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, x in rows.items():
        lines.append(
            f"| {name} | {ms(x['ours_rasa_ms'])} | {ms(x['ours_nlu_ms'])} | {x['ours_actions'] or '-'} "
            f"| {x['action_calls']} | {x['ours_events_before'] or '-'} | {ms(x['ours_ms_per_action'])} | {ms(x['bare_ms'])} "
            f"| {ms(x['bare_nlu_ms'])} | {x['bare_actions'] or '-'} | {ms(x['bare_ms_per_action'])} |"
        )
    return lines + [""]


def _resources(r: dict[str, Any]) -> list[str]:
    memory = r["memory"]
    names = sorted(set(memory["at_rest"]) | set(memory["peak_under_load"]))
    lines = [
        "## Memory",
        "",
        f"VmRSS of each process and its children, at rest (after a warm-up conversation) and the peak sampled "
        f"every 0.5 s during the {memory['peak_load']}-customer steps.",
        "",
        "| process | at rest | peak under load |",
        "|---|---|---|",
    ]
    lines += [f"| {n} | {mib(memory['at_rest'].get(n))} | {mib(memory['peak_under_load'].get(n))} |" for n in names]
    return lines + [""]


def _nlu(r: dict[str, Any]) -> list[str]:
    nlu = r.get("nlu")
    if not nlu:
        return ["## NLU", "", "No results/nlu_report.json: run `make nlu-report`.", ""]
    lines = [
        f"## NLU cross-validation ({nlu['folds']} folds, {nlu['seconds']:.0f} s)",
        "",
        f"Accuracy {nlu['accuracy']:.3f}, macro F1 {nlu['macro_f1']:.3f}, weighted F1 {nlu['weighted_f1']:.3f}.",
        "",
        "| intent | F1 | precision | recall | examples |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {k} | {v['f1']:.3f} | {v['precision']:.3f} | {v['recall']:.3f} | {v['support']} |"
        for k, v in nlu["intents"].items()
    ]
    return lines + [""]


def _payments_api(r: dict[str, Any]) -> list[str]:
    api = r.get("payments_api")
    if not api:
        return []
    return [
        f"## Payments API alone ({api['clients']} concurrent clients, {api['database']})",
        "",
        markdown_table(api["endpoints"]),
        "",
    ]
