"""What the policy allows an account right now, with exact schedules. Pure: no I/O.

Offer ids are stable (`past_due`, `installments_6`, ...) so a booking can name the offer it
accepts; the service recomputes the offers at booking time and refuses an id that is no longer
allowed.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from payments.domain.accounts import Account, AccountStatus
from payments.domain.errors import InvalidRequest
from payments.domain.money import Money
from payments.domain.policy import PlanPolicy


class OfferKind(StrEnum):
    PAY_PAST_DUE = "pay_past_due"
    PAY_IN_FULL = "pay_in_full"
    PAY_MINIMUM = "pay_minimum"
    INSTALLMENTS = "installments"
    SETTLEMENT_LUMP_SUM = "settlement_lump_sum"
    SETTLEMENT_INSTALLMENTS = "settlement_installments"
    HARDSHIP = "hardship"


@dataclass(frozen=True)
class ScheduledPayment:
    due_date: date
    amount: Money


@dataclass(frozen=True)
class Offer:
    id: str
    kind: OfferKind
    schedule: tuple[ScheduledPayment, ...]
    description: str
    # A settlement closes the account for less than the balance; everything else pays toward it.
    settles_balance: bool = False

    @property
    def total(self) -> Money:
        first = self.schedule[0].amount
        return sum((p.amount for p in self.schedule[1:]), first)

    @property
    def months(self) -> int:
        return len(self.schedule)


def format_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def add_months(day: date, months: int) -> date:
    """Same day of the month `months` later, clamped to the month's last day (Jan 31 → Feb 28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def split_evenly(total_cents: int, parts: int) -> list[int]:
    """`31000` over 6 → `[5170, 5166, 5166, 5166, 5166, 5166]`: equal parts, leftover cents on the first."""
    base, leftover = divmod(total_cents, parts)
    return [base + leftover] + [base] * (parts - 1)


def percent_of(amount_cents: int, percent: int) -> int:
    """Rounded half up to the cent."""
    return (amount_cents * percent + 50) // 100


def monthly(amounts: list[int], start: date, currency: str) -> tuple[ScheduledPayment, ...]:
    return tuple(ScheduledPayment(add_months(start, i), Money(a, currency)) for i, a in enumerate(amounts))


def describe_monthly(schedule: tuple[ScheduledPayment, ...]) -> str:
    first, last = schedule[0], schedule[-1]
    n = len(schedule)
    total = sum(p.amount.amount_cents for p in schedule)
    total_text = Money(total, first.amount.currency).display()
    if all(p.amount == first.amount for p in schedule):
        return (
            f"{n} monthly payments of {first.amount.display()} from {format_date(first.due_date)} "
            f"to {format_date(last.due_date)}, {total_text} in all."
        )
    return (
        f"{n} monthly payments from {format_date(first.due_date)} to {format_date(last.due_date)}: "
        f"{first.amount.display()} first, then {schedule[1].amount.display()} each, {total_text} in all."
    )


def compute_offers(
    account: Account, policy: PlanPolicy, today: date, *, start: date | None = None, hardship: bool = False
) -> list[Offer]:
    """Every option `policy` allows `account` on `today` (the consumer's local date).

    `start` is the first payment date of plans (default `today`; at most
    `policy.first_payment_within_days` ahead). `hardship=True` adds the hardship plan, offered only
    after the customer has described a hardship. Accounts where collection is paused (bankruptcy,
    dispute, attorney, deceased, cease communication) and settled accounts get no offers.
    """
    start = start or today
    if not today <= start <= today + timedelta(days=policy.first_payment_within_days):
        raise InvalidRequest(f"the first payment must be within {policy.first_payment_within_days} days")
    if not account.collection_allowed or account.status is AccountStatus.SETTLED or account.balance.amount_cents <= 0:
        return []

    currency = account.balance.currency
    balance, past_due, minimum = (
        account.balance.amount_cents,
        account.past_due.amount_cents,
        account.minimum_due.amount_cents,
    )
    offers: list[Offer] = []

    def pay_now(offer_id: str, kind: OfferKind, cents: int, description: str) -> None:
        if cents > 0 and not any(o.months == 1 and o.total.amount_cents == cents for o in offers):
            offers.append(Offer(offer_id, kind, (ScheduledPayment(today, Money(cents, currency)),), description))

    # A charged-off account cannot be brought current: its whole balance is due.
    if policy.offer_past_due and account.status is not AccountStatus.CHARGED_OFF:
        pay_now(
            "past_due",
            OfferKind.PAY_PAST_DUE,
            past_due,
            f"Pay the past-due {Money(past_due, currency).display()} today to bring your account current.",
        )
    if policy.offer_full_balance:
        pay_now(
            "full",
            OfferKind.PAY_IN_FULL,
            balance,
            f"Pay the full balance of {Money(balance, currency).display()} today.",
        )
    if policy.offer_minimum_due:
        pay_now(
            "minimum",
            OfferKind.PAY_MINIMUM,
            minimum,
            f"Pay the minimum due of {Money(minimum, currency).display()} today.",
        )

    spread = balance if account.status is AccountStatus.CHARGED_OFF else past_due
    for months in policy.installment_months:
        if spread > 0 and spread // months >= policy.installment_min_payment_cents:
            schedule = monthly(split_evenly(spread, months), start, currency)
            offers.append(
                Offer(
                    f"installments_{months}",
                    OfferKind.INSTALLMENTS,
                    schedule,
                    f"Pay {Money(spread, currency).display()} in " + describe_monthly(schedule),
                )
            )

    if account.days_past_due(today) >= policy.settlement_min_days_past_due:
        lump = percent_of(balance, policy.settlement_lump_sum_percent)
        offers.append(
            Offer(
                "settlement_lump",
                OfferKind.SETTLEMENT_LUMP_SUM,
                (ScheduledPayment(today, Money(lump, currency)),),
                f"Settle the {Money(balance, currency).display()} balance with one payment of "
                f"{Money(lump, currency).display()} today; the rest is forgiven.",
                settles_balance=True,
            )
        )
        n = policy.settlement_installments
        schedule = monthly(
            split_evenly(percent_of(balance, policy.settlement_installments_total_percent), n), start, currency
        )
        offers.append(
            Offer(
                f"settlement_{n}",
                OfferKind.SETTLEMENT_INSTALLMENTS,
                schedule,
                f"Settle the {Money(balance, currency).display()} balance with "
                + describe_monthly(schedule)
                + " The rest is forgiven.",
                settles_balance=True,
            )
        )

    if hardship:
        payment = max(percent_of(balance, policy.hardship_percent_of_balance), policy.hardship_min_payment_cents)
        amounts, left = [], balance
        for _ in range(policy.hardship_months):
            if left <= 0:
                break
            amounts.append(min(payment, left))
            left -= amounts[-1]
        schedule = monthly(amounts, start, currency)
        offers.append(
            Offer(
                f"hardship_{policy.hardship_months}",
                OfferKind.HARDSHIP,
                schedule,
                "Reduced payments while things are hard: "
                + describe_monthly(schedule)
                + " Then we review your situation together.",
            )
        )
    return offers
