"""Whole-stack benchmark (issue 7): turn latency through channel → rasa → action server →
payments service → reply, side by side with a bare Rasa server, plus voice webhooks, training
time, model size and memory. Writes results/bench_report.{md,json}; `make bench` runs it.

    python -m bench.whole_stack [--seconds 40] [--levels 1 10 50] [--train-real]

Why an asyncio httpx driver and not locust: each simulated customer is a stateful multi-turn
script (verify, balance, plan, choose, confirm) whose next message depends on the last reply;
here that is a plain coroutine. One driver (the same code and client) loads our stack and the bare
server, so the ratio compares servers, not tools. It adds no dependency (httpx is already in
.venv/payments; locust is not installed and pins its own gevent stack), and timing lines from the
servers are matched to turns in the same process. It keeps 50 conversations in flight with a
few percent of one core, far below what the servers use.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from bench.accounts import Customer, add_customers, bench_customers
from bench.analysis import breakdown, ratio, read_timings, slowest_step, summarize
from bench.conversation import TURN_NAMES, TurnResult, one_each, our_conversation, plan_conversation, run_step
from bench.processes import BareServer, BenchStack, rss_by_process
from bench.rasa_costs import actions_per_turn, mean_counts, parse_ms, tracker_events
from bench.report import render_markdown
from bench.training import BARE_MODEL, ensure_bare_model, time_real_training
from bench.voice import run_voice_step
from testkit.processes import ROOT
from testkit.stack import MODEL, RASA_BIN, RASA_TOKEN, Stack

VOICE_TURNS = ["answer", "card_last4", "dob", "plan_offers"]
MEMORY_SAMPLE_SECONDS = 0.5


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


async def sampled(
    step: Coroutine[Any, Any, tuple[list[TurnResult], float]], stacks: dict[str, Stack]
) -> tuple[list[TurnResult], float, dict[str, int]]:
    """Run a step while sampling every process's resident memory; the step's result and peaks."""
    peaks: dict[str, int] = {}
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            for name, rss in rss_by_process(stacks).items():
                peaks[name] = max(peaks.get(name, 0), rss)
            try:
                await asyncio.wait_for(done.wait(), MEMORY_SAMPLE_SECONDS)
            except asyncio.TimeoutError:
                pass

    sampler = asyncio.create_task(sample())
    try:
        results, elapsed = await step
    finally:
        done.set()
        await sampler
    return results, elapsed, peaks


def warm_up(ours: BenchStack, bare: BareServer, customer: Customer) -> None:
    """One whole conversation on each server before measuring (first predictions build TensorFlow
    graphs); on ours it must succeed turn by turn, or nothing after it means anything."""
    for label, stack, check in (("ours", ours, True), ("bare", bare, False)):
        results, _ = asyncio.run(
            run_step(stack.rasa_url, 1, 3600, itertools.repeat(customer).__next__, check, conversations=1)
        )
        failed = [r for r in results if r.error]
        if failed or len(results) != len(TURN_NAMES):
            raise RuntimeError(
                f"warm-up conversation on {label} failed at {failed[0].name if failed else '?'}: "
                f"{failed[0].error if failed else results}"
            )
    log("warm-up conversation passed on both servers")


def step_row(
    server: str, load: int, results: list[TurnResult], elapsed: float, names: list[str], peaks: dict[str, int]
) -> dict[str, Any]:
    row = {
        "server": server,
        "concurrency": load,
        "elapsed_s": round(elapsed, 1),
        # The machine's 1-minute load at the end of the step: other work on it shows here.
        "load_1min": round(os.getloadavg()[0], 2),
        **summarize(results, elapsed, names),
        "peak_rss_bytes": peaks,
    }
    s = row["all"]
    log(
        f"{server:>5} @ {load:>2}: {s['requests']} turns, {s['per_second']}/s, p50 {s['p50_ms']} ms, "
        f"p95 {s['p95_ms']} ms, p99 {s['p99_ms']} ms, {s['errors']} errors"
    )
    return row


def rasa_costs(stack: Stack, results: list[TurnResult], sample: list[Customer]) -> dict[str, dict[str, Any]]:
    """Per turn: NLU alone (the sample's texts through /model/parse) and the actions rasa ran
    (from the trackers of up to three conversations that completed every turn)."""
    turns_ok: dict[str, int] = {}
    for r in results:
        turns_ok[r.sender] = turns_ok.get(r.sender, 0) + (0 if r.error else 1)
    complete = [sender for sender, ok in turns_ok.items() if ok == len(TURN_NAMES)][:3]
    counts = mean_counts(
        [
            actions_per_turn(tracker_events(stack.rasa_url, RASA_TOKEN, our_conversation(s)), TURN_NAMES)
            for s in complete
        ]
    )
    nlu = parse_ms(stack.rasa_url, RASA_TOKEN, [plan_conversation(c) for c in sample])
    return {name: {"nlu_ms": nlu.get(name), **counts.get(name, {})} for name in TURN_NAMES}


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    ours = BenchStack(workdir / "ours")
    bare = BareServer(workdir / "bare")
    for stack in (ours, bare):
        stack.workdir.mkdir()
    stacks: dict[str, Stack] = {"ours": ours, "bare": bare}
    load_before = round(os.getloadavg()[0], 2)  # after any training, before our processes start
    try:
        log("starting our stack (payments, scheduler, Stripe stand-in, actions, rasa) and the bare rasa server...")
        bare.spawn()
        ours.start()
        bare.wait_healthy(240)
        customers = bench_customers(args.customers + args.voice_customers + 1)
        add_customers(ours.env["DATABASE_URL"], customers)
        web, voice = customers[1 : args.customers + 1], customers[args.customers + 1 :]
        warm_up(ours, bare, customers[0])
        time.sleep(2)
        at_rest = rss_by_process(stacks)

        take_ours, take_bare = one_each(web), itertools.cycle(web).__next__
        steps: list[dict[str, Any]] = []
        parts: dict[str, Any] = {}
        first: dict[str, Any] = {}
        for load in args.levels:
            seconds = args.top_seconds if load == max(args.levels) else args.seconds
            for server, stack, take, check in (("ours", ours, take_ours, True), ("bare", bare, take_bare, False)):
                results, elapsed, peaks = asyncio.run(
                    sampled(run_step(stack.rasa_url, load, seconds, take, check), stacks)
                )
                steps.append(step_row(server, load, results, elapsed, TURN_NAMES, peaks))
                first.setdefault(server, results)
                if server == "ours":
                    parts[str(load)] = breakdown(
                        results,
                        read_timings(ours.workdir / "actions.jsonl"),
                        read_timings(ours.workdir / "payments.jsonl"),
                        TURN_NAMES,
                    )

        log("NLU alone (/model/parse) and actions per turn, on both servers...")
        costs = {server: rasa_costs(stacks[server], results, web[:3]) for server, results in first.items()}

        voice_rows, take_voice = [], one_each(voice)
        for load in args.voice_levels:
            results, elapsed, peaks = asyncio.run(
                sampled(run_voice_step(ours.rasa_url, load, args.voice_seconds, take_voice), stacks)
            )
            voice_rows.append(step_row("voice", load, results, elapsed, VOICE_TURNS, peaks))
    except Exception:
        for label, failed in stacks.items():
            for name, process in failed.processes.items():
                print(f"--- {label}/{name} log tail\n{process.log_tail(15)}", file=sys.stderr)
        raise
    finally:
        ours.stop()
        bare.stop()
    return {
        "steps": steps,
        "voice": voice_rows,
        "parts": parts,
        "at_rest": at_rest,
        "load_before": load_before,
        "rasa_costs": costs,
    }


def action_validation_cost() -> dict[str, float]:
    """bench/action_validation.py in .venv/rasa: rasa's check of one action server answer, in ms."""
    completed = subprocess.run(
        [str(RASA_BIN / "python"), "-m", "bench.action_validation"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        check=True,
    )
    rates: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return rates


def ratios(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ours divided by bare at each load, for p50, p95 and p99 (and turns per second)."""
    by = {(s["server"], s["concurrency"]): s["all"] for s in steps}
    return [
        {
            "concurrency": load,
            **{
                p: ratio(by[("ours", load)][p], by[("bare", load)][p])
                for p in ("p50_ms", "p95_ms", "p99_ms", "per_second")
            },
        }
        for (server, load) in by
        if server == "ours" and ("bare", load) in by
    ]


def peak_at(steps: list[dict[str, Any]], load: int) -> dict[str, int]:
    """Each process's highest resident memory over the steps at `load` (ours and bare alike: each
    server peaks in its own step)."""
    peaks: dict[str, int] = {}
    for step in steps:
        if step["concurrency"] == load:
            for name, rss in step["peak_rss_bytes"].items():
                peaks[name] = max(peaks.get(name, 0), rss)
    return peaks


def read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=40, help="length of each load step (default %(default)s)")
    parser.add_argument(
        "--top-seconds",
        type=float,
        default=90,
        help="length of the steps at the highest level, long enough for its customers to finish "
        "whole conversations (at 50 one takes about 45 s on 2 cores) (default %(default)s)",
    )
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 10, 50], help="concurrent customers")
    parser.add_argument("--voice-levels", type=int, nargs="+", default=[1, 10], help="concurrent callers")
    parser.add_argument("--voice-seconds", type=float, default=30)
    parser.add_argument("--customers", type=int, default=2500, help="bench accounts for web conversations")
    parser.add_argument("--voice-customers", type=int, default=1000, help="bench accounts (caller IDs) for calls")
    parser.add_argument("--train-real", action="store_true", help="also time a full cold training of the real model")
    parser.add_argument("--out", default=str(ROOT / "results"))
    args = parser.parse_args(argv)
    started = time.monotonic()

    bare_training = ensure_bare_model()
    real_training = time_real_training() if args.train_real else None
    with tempfile.TemporaryDirectory(prefix="evenkeel-bench-") as tmp:
        measured = measure(args, Path(tmp))

    log("timing rasa's check of an action server answer (bench/action_validation.py)...")
    validation = action_validation_cost()
    steps = measured["steps"]
    top = str(max(args.levels))
    out = Path(args.out)
    report = {
        "benchmark": "whole_stack",
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # Other work on the machine shows up in the numbers: its 1-minute load before we start.
            "load_before": measured["load_before"],
        },
        "settings": {
            "seconds_per_step": args.seconds,
            "top_seconds": args.top_seconds,
            "levels": args.levels,
            "voice_levels": args.voice_levels,
            "voice_seconds": args.voice_seconds,
            "turns": TURN_NAMES,
            "voice_turns": VOICE_TURNS,
        },
        "steps": steps,
        "ratios": ratios(steps),
        "voice": measured["voice"],
        "breakdown": measured["parts"],
        "slowest": {load: slowest_step(parts) for load, parts in measured["parts"].items()},
        "rasa_costs": measured["rasa_costs"],
        "action_validation": validation,
        "training": {"bare": bare_training, "real": real_training},
        "model_bytes": {"ours": MODEL.stat().st_size, "bare": BARE_MODEL.stat().st_size},
        "memory": {"at_rest": measured["at_rest"], "peak_under_load": peak_at(steps, int(top)), "peak_load": int(top)},
        "nlu": read_json(out / "nlu_report.json"),
        "payments_api": read_json(out / "payments_api.json"),
        "bench_seconds": round(time.monotonic() - started, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_report.json").write_text(json.dumps(report, indent=2))
    markdown = render_markdown(report)
    (out / "bench_report.md").write_text(markdown)
    print(markdown)
    log(f"wrote {out / 'bench_report.md'} and bench_report.json in {report['bench_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
