"""The cardholder account as the domain sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from payments.domain.money import Money


class AccountStatus(StrEnum):
    CURRENT = "current"
    DELINQUENT = "delinquent"
    CHARGED_OFF = "charged_off"
    # Closed by a paid settlement: nothing is owed, nothing is collected or offered (standing
    # reports it as status "settled").
    SETTLED = "settled"


class AccountFlag(StrEnum):
    """Flags that change what the assistant may do. See DESIGN.md, compliance rules."""

    DISPUTE = "dispute"
    BANKRUPTCY = "bankruptcy"
    ATTORNEY = "attorney"
    DECEASED = "deceased"
    CEASE_COMMUNICATION = "cease_communication"
    # An agent granted a pause for hardship: no collection until it is cleared.
    HARDSHIP_HOLD = "hardship_hold"
    WRONG_NUMBER = "wrong_number"
    STOP_SMS = "stop_sms"
    STOP_VOICE = "stop_voice"
    STOP_EMAIL = "stop_email"


# Any of these means: stop collecting on every channel and hand the customer to a person.
NO_COLLECTION_FLAGS = frozenset(
    {
        AccountFlag.DISPUTE,
        AccountFlag.BANKRUPTCY,
        AccountFlag.ATTORNEY,
        AccountFlag.DECEASED,
        AccountFlag.CEASE_COMMUNICATION,
        AccountFlag.HARDSHIP_HOLD,
    }
)


@dataclass(frozen=True)
class StatementBreakdown:
    """What the last statement's balance is made of, so the assistant can explain it."""

    previous_balance: Money
    purchases: Money
    interest: Money
    fees: Money
    payments_and_credits: Money


@dataclass(frozen=True)
class Account:
    id: str
    full_name: str
    phone: str
    card_last4: str
    date_of_birth: date
    zip_code: str
    time_zone: str
    preferred_language: str
    status: AccountStatus
    balance: Money
    past_due: Money
    minimum_due: Money
    payment_due_date: date
    delinquent_since: date | None
    statement: StatementBreakdown
    flags: frozenset[AccountFlag] = field(default_factory=frozenset)

    def days_past_due(self, today: date) -> int:
        if self.delinquent_since is None:
            return 0
        return max(0, (today - self.delinquent_since).days)

    @property
    def collection_allowed(self) -> bool:
        return not (self.flags & NO_COLLECTION_FLAGS)
