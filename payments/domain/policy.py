"""The operator's plan policy, as plain values. Loaded from TOML by `load_policy`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tomllib

from payments.domain.settlement import BrokenSettlementRule

DEFAULT_POLICY_FILE = Path(__file__).resolve().parents[1] / "policy.default.toml"


@dataclass(frozen=True)
class PlanPolicy:
    offer_past_due: bool = True
    offer_full_balance: bool = True
    offer_minimum_due: bool = True
    installment_months: tuple[int, ...] = (3, 6, 12)
    installment_min_payment_cents: int = 2500
    first_payment_within_days: int = 14
    settlement_min_days_past_due: int = 90
    settlement_lump_sum_percent: int = 60
    settlement_installments: int = 3
    settlement_installments_total_percent: int = 70
    settlement_broken: BrokenSettlementRule = BrokenSettlementRule.VOID
    # After a missed installment the customer is told and has this many days to pay it; only then
    # is the plan broken.
    grace_days: int = 10
    hardship_months: int = 6
    hardship_percent_of_balance: int = 1
    hardship_min_payment_cents: int = 2500
    promise_max_days_ahead: int = 14
    promise_at_least_minimum_due: bool = True

    def __post_init__(self) -> None:
        if any(m < 2 for m in self.installment_months):
            raise ValueError("installment plans need at least 2 months")
        if self.grace_days < 1:
            raise ValueError("grace_days must be at least 1: the customer is told before a plan breaks")
        for name in ("settlement_lump_sum_percent", "settlement_installments_total_percent"):
            if not 0 < getattr(self, name) <= 100:
                raise ValueError(f"{name} must be between 1 and 100")


def load_policy(path: Path | str | None = None) -> PlanPolicy:
    """Read a policy TOML file (see payments/policy.default.toml for every key)."""
    with open(path or DEFAULT_POLICY_FILE, "rb") as f:
        raw = tomllib.load(f)
    pay_now, inst = raw.get("pay_now", {}), raw.get("installments", {})
    settle, hard, promise = raw.get("settlement", {}), raw.get("hardship", {}), raw.get("promise_to_pay", {})
    defaults = PlanPolicy()
    return PlanPolicy(
        offer_past_due=pay_now.get("past_due", defaults.offer_past_due),
        offer_full_balance=pay_now.get("full_balance", defaults.offer_full_balance),
        offer_minimum_due=pay_now.get("minimum_due", defaults.offer_minimum_due),
        installment_months=tuple(inst.get("months", defaults.installment_months)),
        installment_min_payment_cents=inst.get("min_payment_cents", defaults.installment_min_payment_cents),
        first_payment_within_days=inst.get("first_payment_within_days", defaults.first_payment_within_days),
        grace_days=inst.get("grace_days", defaults.grace_days),
        settlement_min_days_past_due=settle.get("min_days_past_due", defaults.settlement_min_days_past_due),
        settlement_lump_sum_percent=settle.get("lump_sum_percent", defaults.settlement_lump_sum_percent),
        settlement_installments=settle.get("installments", defaults.settlement_installments),
        settlement_installments_total_percent=settle.get(
            "installments_total_percent", defaults.settlement_installments_total_percent
        ),
        settlement_broken=BrokenSettlementRule(settle.get("broken", defaults.settlement_broken.value)),
        hardship_months=hard.get("months", defaults.hardship_months),
        hardship_percent_of_balance=hard.get("percent_of_balance", defaults.hardship_percent_of_balance),
        hardship_min_payment_cents=hard.get("min_payment_cents", defaults.hardship_min_payment_cents),
        promise_max_days_ahead=promise.get("max_days_ahead", defaults.promise_max_days_ahead),
        promise_at_least_minimum_due=promise.get("at_least_minimum_due", defaults.promise_at_least_minimum_due),
    )
