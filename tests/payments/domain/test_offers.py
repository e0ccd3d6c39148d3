"""The offer calculator against DESIGN.md's plan policy, with exact cents and dates."""

import dataclasses
from datetime import date

import pytest

from payments.domain.accounts import Account, AccountFlag, AccountStatus
from payments.domain.errors import InvalidRequest
from payments.domain.money import Money
from payments.domain.offers import add_months, compute_offers, percent_of, split_evenly
from payments.domain.policy import PlanPolicy

TODAY = date(2026, 3, 2)  # Maria is 45 days past due on this day (delinquent since 2026-01-16)
POLICY = PlanPolicy()


def ids(offers) -> list[str]:  # type: ignore[no-untyped-def]
    return [o.id for o in offers]


def test_split_evenly_puts_leftover_cents_on_the_first_payment() -> None:
    assert split_evenly(31000, 3) == [10334, 10333, 10333]
    assert split_evenly(31000, 6) == [5170, 5166, 5166, 5166, 5166, 5166]
    assert sum(split_evenly(64050, 12)) == 64050


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


def test_percent_rounds_half_up_to_the_cent() -> None:
    assert percent_of(64050, 60) == 38430
    assert percent_of(598025, 1) == 5980  # 5980.25 → 5980
    assert percent_of(115075, 70) == 80553  # 80552.5 → 80553


def test_delinquent_account_gets_pay_now_and_installments_of_the_past_due(maria: Account) -> None:
    offers = compute_offers(maria, POLICY, TODAY)
    assert ids(offers) == ["past_due", "full", "minimum", "installments_3", "installments_6", "installments_12"]
    by_id = {o.id: o for o in offers}
    assert by_id["past_due"].total == Money(31000)
    assert by_id["full"].total == Money(245000)
    three = by_id["installments_3"]
    assert [(p.due_date, p.amount.amount_cents) for p in three.schedule] == [
        (date(2026, 3, 2), 10334),
        (date(2026, 4, 2), 10333),
        (date(2026, 5, 2), 10333),
    ]
    assert three.description == (
        "Pay $310.00 in 3 monthly payments from March 2, 2026 to May 2, 2026: "
        "$103.34 first, then $103.33 each, $310.00 in all."
    )


def test_installments_below_the_minimum_payment_are_not_offered(maria: Account) -> None:
    small = dataclasses.replace(maria, past_due=Money(22000))  # 220.00/12 = 18.33 < 25.00
    assert ids(compute_offers(small, POLICY, TODAY))[3:] == ["installments_3", "installments_6"]


def test_settlement_only_from_90_days_past_due(maria: Account) -> None:
    assert not any(o.settles_balance for o in compute_offers(maria, POLICY, TODAY))
    late = dataclasses.replace(maria, delinquent_since=date(2025, 12, 2))  # 90 days
    offers = {o.id: o for o in compute_offers(late, POLICY, TODAY)}
    assert offers["settlement_lump"].total == Money(147000)  # 60% of 2,450.00
    assert offers["settlement_3"].total == Money(171500)  # 70%
    assert offers["settlement_3"].months == 3
    assert all(offers[k].settles_balance for k in ("settlement_lump", "settlement_3"))


def test_charged_off_spreads_the_whole_balance_and_cannot_be_brought_current(maria: Account) -> None:
    james = dataclasses.replace(
        maria,
        status=AccountStatus.CHARGED_OFF,
        balance=Money(64050),
        past_due=Money(64050),
        minimum_due=Money(64050),
        delinquent_since=date(2025, 11, 2),
    )
    offers = {o.id: o for o in compute_offers(james, POLICY, TODAY)}
    assert "past_due" not in offers and "minimum" not in offers  # same as paying in full
    assert offers["full"].total == Money(64050)
    assert offers["installments_3"].total == Money(64050)
    assert offers["settlement_lump"].total == Money(38430)


@pytest.mark.parametrize(
    "flag",
    [
        AccountFlag.BANKRUPTCY,
        AccountFlag.DISPUTE,
        AccountFlag.ATTORNEY,
        AccountFlag.DECEASED,
        AccountFlag.CEASE_COMMUNICATION,
    ],
)
def test_paused_accounts_get_no_offers(maria: Account, flag: AccountFlag) -> None:
    assert compute_offers(dataclasses.replace(maria, flags=frozenset({flag})), POLICY, TODAY, hardship=True) == []


def test_hardship_plan_only_when_asked_with_one_percent_at_least_25(maria: Account) -> None:
    assert "hardship_6" not in ids(compute_offers(maria, POLICY, TODAY))
    hardship = {o.id: o for o in compute_offers(maria, POLICY, TODAY, hardship=True)}["hardship_6"]
    assert [p.amount.amount_cents for p in hardship.schedule] == [2500] * 6  # 1% of 2,450 = 24.50 < 25
    rich = dataclasses.replace(maria, balance=Money(598025))
    big = {o.id: o for o in compute_offers(rich, POLICY, TODAY, hardship=True)}["hardship_6"]
    assert big.schedule[0].amount == Money(5980)
    assert big.description.endswith("Then we review your situation together.")


def test_plans_may_start_up_to_14_days_ahead(maria: Account) -> None:
    later = {o.id: o for o in compute_offers(maria, POLICY, TODAY, start=date(2026, 3, 16))}
    assert later["installments_3"].schedule[0].due_date == date(2026, 3, 16)
    assert later["past_due"].schedule[0].due_date == TODAY  # pay-now stays today
    with pytest.raises(InvalidRequest):
        compute_offers(maria, POLICY, TODAY, start=date(2026, 3, 17))
    with pytest.raises(InvalidRequest):
        compute_offers(maria, POLICY, TODAY, start=date(2026, 3, 1))


def test_policy_switches_change_the_offers(maria: Account) -> None:
    policy = dataclasses.replace(POLICY, offer_minimum_due=False, installment_months=(4,))
    assert ids(compute_offers(maria, policy, TODAY)) == ["past_due", "full", "installments_4"]
