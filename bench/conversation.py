"""Simulated web-chat customers over the REST channel (`POST /webhooks/rest/webhook`): our token
connector (channels/rest.py, conversation `rest-<sender>`) on our stack, Rasa's bare `rest:` on
the bare server (which ignores the token header).

Each customer is a stateful multi-turn script: it sends a turn, waits for the bot's answer, checks
it, and only then sends the next, like a person typing. With no think time between turns, N
customers keep N turns in flight: a closed-loop load of N concurrent conversations.

A turn is an error when the HTTP request fails or times out, answers non-200, or (for our stack)
the reply lacks the words the script expects; the customer then abandons that conversation and
starts a new one, since the rest of the script would not fit."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import httpx

from bench.accounts import Customer
from testkit.stack import REST_PREFIX, REST_TOKEN

TURN_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Turn:
    name: str
    text: str
    expect: tuple[str, ...]  # every one must appear in the bot's reply texts


def plan_conversation(c: Customer) -> list[Turn]:
    """Verify (web chat: last 4, date of birth, ZIP) → balance → plan offers → choose → confirm,
    which books the plan and sends the first payment's link."""
    return [
        Turn("greet", "hi", ("last 4 digits",)),
        Turn("card_last4", c.last4, ("date of birth",)),
        Turn("dob", c.dob.strftime("%m/%d/%Y"), ("ZIP",)),
        Turn("zip_verified", c.zip_code, ("you're verified", "Your balance is $2,450.00")),
        Turn("balance", "how much do I owe?", ("Your balance is $2,450.00",)),
        Turn("plan_offers", "I'd like to set up a payment plan", ("1. 3 monthly payments of $103.33",)),
        Turn("choose", "1", ("Do you agree to this plan",)),
        Turn("confirm_link", "yes", ("confirmation number is PLN-", "/pay/")),
    ]


TURN_NAMES = [t.name for t in plan_conversation(Customer("-", "0000", date(2000, 1, 1), "00000", "-"))]


@dataclass(frozen=True)
class TurnResult:
    name: str
    sender: str
    start: float  # wall clock (time.time()), to match the servers' timing lines
    seconds: float
    error: str = ""  # empty: the turn succeeded


async def say(http: httpx.AsyncClient, sender: str, text: str) -> list[str]:
    """One REST turn; the bot's reply texts. Raises httpx errors (a non-200 included)."""
    response = await http.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    response.raise_for_status()
    return [m["text"] for m in response.json() if "text" in m]


async def converse(
    http: httpx.AsyncClient, turns: list[Turn], check: bool, results: list[TurnResult], stop_at: float
) -> None:
    """One conversation, turn by turn, until it ends, fails, or `stop_at` (perf_counter) passes."""
    sender = f"bench-{uuid.uuid4().hex[:12]}"
    for turn in turns:
        if time.perf_counter() >= stop_at:
            return
        wall, started = time.time(), time.perf_counter()
        error = ""
        try:
            texts = await say(http, sender, turn.text)
            if not texts:
                error = "empty reply"
            elif check and not all(word in " ".join(texts) for word in turn.expect):
                error = f"unexpected reply: {' | '.join(texts)[:160]}"
        except httpx.TimeoutException:
            error = "timeout"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {str(exc)[:120]}"
        results.append(TurnResult(turn.name, sender, wall, time.perf_counter() - started, error))
        if error:
            return


async def run_step(
    url: str,
    customers: int,
    seconds: float,
    next_customer: Callable[[], Customer],
    check: bool,
    conversations: int | None = None,
) -> tuple[list[TurnResult], float]:
    """`customers` concurrent customers, each running whole conversations back to back for
    `seconds` (or `conversations` each, if that comes first); turns in flight at the end finish and
    count. Returns the turns and the elapsed time."""
    results: list[TurnResult] = []
    stop_at = time.perf_counter() + seconds

    async def customer() -> None:
        for _ in itertools.count() if conversations is None else range(conversations):
            if time.perf_counter() >= stop_at:
                return
            await converse(http, plan_conversation(next_customer()), check, results, stop_at)

    limits = httpx.Limits(max_connections=customers, max_keepalive_connections=customers)
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {REST_TOKEN}"}  # the stack's REST_CHANNEL_TOKEN
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=TURN_TIMEOUT_SECONDS, headers=headers) as http:
        await asyncio.gather(*(customer() for _ in range(customers)))
    return results, time.perf_counter() - started


def our_conversation(sender: str) -> str:
    """The conversation id our REST connector files a sender's turns under."""
    return REST_PREFIX + sender


def one_each(customers: list[Customer]) -> Callable[[], Customer]:
    """Hands out each customer once (a booked plan cannot be booked again); fails when they run out."""
    pool: Iterator[Customer] = iter(customers)

    def take() -> Customer:
        try:
            return next(pool)
        except StopIteration:
            raise RuntimeError(f"all {len(customers)} bench customers used: raise --customers") from None

    return take
