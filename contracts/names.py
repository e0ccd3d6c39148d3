"""Names several processes must agree on: the intents the payments service and the connectors
trigger in Rasa, and the values the payments service's API takes and answers (account flags,
standing pause reasons, report kinds, handoff reasons, verification-session end reasons, media).

One spelling for everyone: the payments service (`payments/domain/`), the action server
(`actions/names.py` re-exports what it uses), the rasa server's connectors and the client of the
payments service (`clients/payments.py`). `tests/contracts/test_names.py` checks each intent
is declared in `bot/domain/*.yml` and each value is what `payments/domain/` declares.
Rasa-only names (actions, responses, slots) stay in `actions/names.py`.

Each group is a namespace of plain strings (`PauseReason.SETTLED == "settled"`), not an Enum:
the values travel as JSON and as Rasa intents and slot values, and must format as themselves on
Python 3.10 and 3.11 alike. The tuple under each group lists its values in declaration order.
"""

from __future__ import annotations

from typing import Final


def _values(group: type) -> tuple[str, ...]:
    """The string values a namespace class declares, in declaration order."""
    return tuple(value for key, value in vars(group).items() if key.isupper() and isinstance(value, str))


class ExternalIntent:
    """Intents triggered from outside a conversation (Rasa's trigger_intent), never trained from text."""

    PAYMENT_SUCCEEDED = "payment_succeeded"  # the payments service, when a payment settles
    PAYMENT_FAILED = "payment_failed"
    INSTALLMENT_REMINDER = "installment_reminder"  # the payments service's scheduler
    INSTALLMENT_DUE = "installment_due"
    INSTALLMENT_FAILED = "installment_failed"
    CARD_NUMBER_SHARED = "card_number_shared"  # a connector, in place of a message holding a card number
    AGENT_HANDED_BACK = "agent_handed_back"  # the agent console, when an agent hands the conversation back


class Flag:
    """Account flags (`POST /api/accounts/{id}/flags`, the account's `flags`)."""

    DISPUTE = "dispute"
    BANKRUPTCY = "bankruptcy"
    ATTORNEY = "attorney"
    DECEASED = "deceased"
    CEASE_COMMUNICATION = "cease_communication"
    HARDSHIP_HOLD = "hardship_hold"  # an agent granted a pause for hardship
    WRONG_NUMBER = "wrong_number"
    STOP_SMS = "stop_sms"
    STOP_VOICE = "stop_voice"
    STOP_EMAIL = "stop_email"


class PauseReason:
    """Why collection is paused (C4 standing `pause_reasons`), in the order the service reports them."""

    BANKRUPTCY = "bankruptcy"
    DISPUTE = "dispute"
    ATTORNEY = "attorney"
    DECEASED = "deceased"
    CEASE = "cease"
    HARDSHIP_HOLD = "hardship_hold"
    PENDING_REVIEW = "pending_review"  # a report from anyone, until a person reviews it
    SETTLED = "settled"  # nothing more is owed


class ReportKind:
    """What anyone may report about an account (`POST /api/reports` `kind`)."""

    DECEASED = "deceased"
    BANKRUPTCY = "bankruptcy"
    ATTORNEY = "attorney"
    DISPUTE = "dispute"
    CEASE = "cease"


class HandoffReason:
    """Why a conversation goes to a person (`POST /api/handoffs` `reason`)."""

    DISTRESS = "distress"
    DISPUTE = "dispute"
    REQUEST_AGENT = "request_agent"
    BANKRUPTCY = "bankruptcy"
    ATTORNEY = "attorney"
    DECEASED = "deceased"
    MISUNDERSTANDING = "misunderstanding"
    VERIFICATION_LOCKED = "verification_locked"
    HARDSHIP = "hardship"
    OTHER = "other"


class EndReason:
    """Why a verification session ends (C2 `POST /api/verification-sessions/end` `reason`)."""

    SIGN_OFF = "sign_off"  # the customer said goodbye (action server)
    HAND_BACK = "hand_back"  # an agent handed the conversation back (action server)
    CALL_ENDED = "call_ended"  # the call hung up (voice connector)
    LOCKOUT = "lockout"  # failed verifications locked the account (payments service)


class Medium:
    """Contact media (`medium` of opt-outs, opt-ins, contact events and checks)."""

    SMS = "sms"
    VOICE = "voice"
    EMAIL = "email"


EXTERNAL_INTENTS: Final = _values(ExternalIntent)
FLAGS: Final = _values(Flag)
PAUSE_REASONS: Final = _values(PauseReason)
REPORT_KINDS: Final = _values(ReportKind)
HANDOFF_REASONS: Final = _values(HandoffReason)
END_REASONS: Final = _values(EndReason)
MEDIA: Final = _values(Medium)

# Who made a report (`POST /api/reports` `reported_by`): the cardholder only when verified.
REPORTED_BY: Final = ("cardholder", "third_party", "unknown")

# The flags that pause collection, each → its pause reason (`settled` comes from the account's
# status and `pending_review` from its reports, not from a flag).
PAUSE_REASON_BY_FLAG: Final = {
    Flag.BANKRUPTCY: PauseReason.BANKRUPTCY,
    Flag.DISPUTE: PauseReason.DISPUTE,
    Flag.ATTORNEY: PauseReason.ATTORNEY,
    Flag.DECEASED: PauseReason.DECEASED,
    Flag.CEASE_COMMUNICATION: PauseReason.CEASE,
    Flag.HARDSHIP_HOLD: PauseReason.HARDSHIP_HOLD,
}
