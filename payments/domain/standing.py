"""The account's standing (contract C4): may we collect, why not, the plan and promise in force,
and what each medium may carry now. Pure: the service loads the facts and passes them in.

Every turn, message and charge reads this one answer: the assistant before it discloses or offers
anything, the scheduler before a reminder or a charge, the outbox before each attempt. Whether a
contact may start at this hour or after these calls is the contact check's (`evaluate_contact`);
the standing says what may be said at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from contracts import names
from payments.domain.accounts import Account, AccountFlag, AccountStatus
from payments.domain.compliance import Medium
from payments.domain.money import Money


class PauseReason(StrEnum):
    """Why collection is paused, in C4's spelling (`contracts.names`; the order is the order reported)."""

    BANKRUPTCY = names.PauseReason.BANKRUPTCY
    DISPUTE = names.PauseReason.DISPUTE
    ATTORNEY = names.PauseReason.ATTORNEY
    DECEASED = names.PauseReason.DECEASED
    CEASE = names.PauseReason.CEASE
    HARDSHIP_HOLD = names.PauseReason.HARDSHIP_HOLD
    PENDING_REVIEW = names.PauseReason.PENDING_REVIEW
    SETTLED = names.PauseReason.SETTLED


class ReportKind(StrEnum):
    """What someone may report about an account (POST /api/reports, `contracts.names`); confirmed, each is this flag."""

    DECEASED = names.ReportKind.DECEASED
    BANKRUPTCY = names.ReportKind.BANKRUPTCY
    ATTORNEY = names.ReportKind.ATTORNEY
    DISPUTE = names.ReportKind.DISPUTE
    CEASE = names.ReportKind.CEASE

    @property
    def flag(self) -> AccountFlag:
        return AccountFlag.CEASE_COMMUNICATION if self is ReportKind.CEASE else AccountFlag(self.value)


class MediumUse(StrEnum):
    COLLECTION = "collection"  # reminders, links, offers: anything that asks for money
    NOTICE_ONLY = "notice_only"  # neutral notices only (a receipt, "a person will be in touch")
    NONE = "none"  # nothing we start


class Purpose(StrEnum):
    COLLECTION = "collection"
    NOTICE = "notice"


_FLAG_REASONS = {AccountFlag(flag): PauseReason(reason) for flag, reason in names.PAUSE_REASON_BY_FLAG.items()}
# Reasons after which we start nothing with the consumer on any medium:
# cease (15 U.S.C. 1692c(c), 12 CFR 1006.6(c); its one confirmation is sent when it is recorded),
# attorney (1006.6(b)(2): communicate with the attorney, not the consumer), deceased (the
# person is gone; whoever answers is not the consumer).
_SILENCING = frozenset({PauseReason.CEASE, PauseReason.ATTORNEY, PauseReason.DECEASED})


PlanKind = Literal["installments", "settlement", "hardship"]  # C4's kinds


@dataclass(frozen=True)
class NextInstallment:
    amount: Money
    due_date: date


@dataclass(frozen=True)
class ActivePlan:
    plan_id: str
    kind: PlanKind
    status: Literal["active", "suspended"]
    next_installment: NextInstallment | None


@dataclass(frozen=True)
class PendingPromise:
    promise_id: str
    amount: Money
    due_date: date


@dataclass(frozen=True)
class Standing:
    account_id: str
    status: Literal["open", "settled", "closed"]
    pause_reasons: tuple[PauseReason, ...]
    active_plan: ActivePlan | None
    pending_promise: PendingPromise | None
    media: dict[Medium, MediumUse]

    @property
    def collection_allowed(self) -> bool:
        return not self.pause_reasons

    def may(self, medium: Medium | str, purpose: Purpose | str) -> bool:
        """May we start a message of this purpose on this medium (hours and call counts aside)?"""
        use = self.media[Medium(medium)]
        if Purpose(purpose) is Purpose.COLLECTION:
            return use is MediumUse.COLLECTION
        return use is not MediumUse.NONE


def plan_kind(kind: str) -> PlanKind:
    """C4's plan kind from the stored one (`installments_6`, `settlement_lump`, `hardship_12`...)."""
    if kind.startswith("settlement"):
        return "settlement"
    if kind.startswith("hardship"):
        return "hardship"
    return "installments"


def compute_standing(
    account: Account,
    *,
    pending_reports: Iterable[ReportKind] = (),
    active_plan: ActivePlan | None = None,
    pending_promise: PendingPromise | None = None,
) -> Standing:
    """The standing of `account` (its `flags` included) given the reports no agent has reviewed,
    its plan in force and its pending promise."""
    reasons = {_FLAG_REASONS[f] for f in account.flags if f in _FLAG_REASONS}
    if tuple(pending_reports):
        reasons.add(PauseReason.PENDING_REVIEW)
    settled = account.status is AccountStatus.SETTLED
    if settled:
        reasons.add(PauseReason.SETTLED)
    ordered = tuple(r for r in PauseReason if r in reasons)
    return Standing(
        account_id=account.id,
        status="settled" if settled else "open",
        pause_reasons=ordered,
        active_plan=active_plan,
        pending_promise=pending_promise,
        media={m: _medium_use(m, account.flags, reasons) for m in Medium},
    )


def _medium_use(medium: Medium, flags: frozenset[AccountFlag], reasons: set[PauseReason]) -> MediumUse:
    if reasons & _SILENCING or medium.stop_flag in flags:
        return MediumUse.NONE
    if medium.uses_phone and AccountFlag.WRONG_NUMBER in flags:
        return MediumUse.NONE
    return MediumUse.NOTICE_ONLY if reasons else MediumUse.COLLECTION
