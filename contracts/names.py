"""Names several processes must agree on: the intents the payments service and the connectors
trigger in Rasa, and the values the payments service's API takes and answers (report kinds,
account flags, standing pause reasons, handoff reasons, verification-session end reasons).

One spelling for everyone: the payments service (`payments/domain/`), the action server
(`actions/names.py` re-exports what it uses), the rasa server's connectors and the client of the
payments service (`clients/payments.py`). `tests/contracts/test_names.py` checks each intent
is declared in `bot/domain/*.yml` and each value is what `payments/domain/` declares.
Rasa-only names (actions, responses, slots) stay in `actions/names.py`.
"""

from __future__ import annotations

from typing import Final

# --- intents triggered from outside a conversation (Rasa's trigger_intent), never trained from text

PAYMENT_SUCCEEDED: Final = "payment_succeeded"  # the payments service, when a payment settles
PAYMENT_FAILED: Final = "payment_failed"
INSTALLMENT_REMINDER: Final = "installment_reminder"  # the payments service's scheduler
INSTALLMENT_DUE: Final = "installment_due"
INSTALLMENT_FAILED: Final = "installment_failed"
CARD_NUMBER_SHARED: Final = "card_number_shared"  # a connector, in place of a message holding a card number
AGENT_HANDED_BACK: Final = "agent_handed_back"  # the agent console, when an agent hands the conversation back

EXTERNAL_INTENTS: Final = (
    PAYMENT_SUCCEEDED,
    PAYMENT_FAILED,
    INSTALLMENT_REMINDER,
    INSTALLMENT_DUE,
    INSTALLMENT_FAILED,
    CARD_NUMBER_SHARED,
    AGENT_HANDED_BACK,
)

# --- account flags (`POST /api/accounts/{id}/flags`, the account's `flags`)

FLAG_DISPUTE: Final = "dispute"
FLAG_BANKRUPTCY: Final = "bankruptcy"
FLAG_ATTORNEY: Final = "attorney"
FLAG_DECEASED: Final = "deceased"
FLAG_CEASE_COMMUNICATION: Final = "cease_communication"
FLAG_HARDSHIP_HOLD: Final = "hardship_hold"  # an agent granted a pause for hardship
FLAG_WRONG_NUMBER: Final = "wrong_number"
FLAG_STOP_SMS: Final = "stop_sms"
FLAG_STOP_VOICE: Final = "stop_voice"
FLAG_STOP_EMAIL: Final = "stop_email"

FLAGS: Final = (
    FLAG_DISPUTE,
    FLAG_BANKRUPTCY,
    FLAG_ATTORNEY,
    FLAG_DECEASED,
    FLAG_CEASE_COMMUNICATION,
    FLAG_HARDSHIP_HOLD,
    FLAG_WRONG_NUMBER,
    FLAG_STOP_SMS,
    FLAG_STOP_VOICE,
    FLAG_STOP_EMAIL,
)

# --- the account's standing (C4 `pause_reasons`), in the order the service reports them

PAUSE_BANKRUPTCY: Final = "bankruptcy"
PAUSE_DISPUTE: Final = "dispute"
PAUSE_ATTORNEY: Final = "attorney"
PAUSE_DECEASED: Final = "deceased"
PAUSE_CEASE: Final = "cease"
PAUSE_HARDSHIP_HOLD: Final = "hardship_hold"
PAUSE_PENDING_REVIEW: Final = "pending_review"  # a report from anyone, until a person reviews it
PAUSE_SETTLED: Final = "settled"  # nothing more is owed

PAUSE_REASONS: Final = (
    PAUSE_BANKRUPTCY,
    PAUSE_DISPUTE,
    PAUSE_ATTORNEY,
    PAUSE_DECEASED,
    PAUSE_CEASE,
    PAUSE_HARDSHIP_HOLD,
    PAUSE_PENDING_REVIEW,
    PAUSE_SETTLED,
)

# The flags that pause collection, each → its pause reason (`PAUSE_SETTLED` and
# `PAUSE_PENDING_REVIEW` come from the account's status and its reports, not from a flag).
PAUSE_REASON_BY_FLAG: Final = {
    FLAG_BANKRUPTCY: PAUSE_BANKRUPTCY,
    FLAG_DISPUTE: PAUSE_DISPUTE,
    FLAG_ATTORNEY: PAUSE_ATTORNEY,
    FLAG_DECEASED: PAUSE_DECEASED,
    FLAG_CEASE_COMMUNICATION: PAUSE_CEASE,
    FLAG_HARDSHIP_HOLD: PAUSE_HARDSHIP_HOLD,
}

# --- reports from anyone (`POST /api/reports` `kind`, `reported_by`)

REPORT_DECEASED: Final = "deceased"
REPORT_BANKRUPTCY: Final = "bankruptcy"
REPORT_ATTORNEY: Final = "attorney"
REPORT_DISPUTE: Final = "dispute"
REPORT_CEASE: Final = "cease"

REPORT_KINDS: Final = (REPORT_DECEASED, REPORT_BANKRUPTCY, REPORT_ATTORNEY, REPORT_DISPUTE, REPORT_CEASE)
REPORTED_BY: Final = ("cardholder", "third_party", "unknown")

# --- handoff cases (`POST /api/handoffs` `reason`)

HANDOFF_DISTRESS: Final = "distress"
HANDOFF_DISPUTE: Final = "dispute"
HANDOFF_REQUEST_AGENT: Final = "request_agent"
HANDOFF_BANKRUPTCY: Final = "bankruptcy"
HANDOFF_ATTORNEY: Final = "attorney"
HANDOFF_DECEASED: Final = "deceased"
HANDOFF_MISUNDERSTANDING: Final = "misunderstanding"
HANDOFF_VERIFICATION_LOCKED: Final = "verification_locked"
HANDOFF_HARDSHIP: Final = "hardship"
HANDOFF_OTHER: Final = "other"

HANDOFF_REASONS: Final = (
    HANDOFF_DISTRESS,
    HANDOFF_DISPUTE,
    HANDOFF_REQUEST_AGENT,
    HANDOFF_BANKRUPTCY,
    HANDOFF_ATTORNEY,
    HANDOFF_DECEASED,
    HANDOFF_MISUNDERSTANDING,
    HANDOFF_VERIFICATION_LOCKED,
    HANDOFF_HARDSHIP,
    HANDOFF_OTHER,
)

# --- verification sessions (C2 `POST /api/verification-sessions/end` `reason`)

END_SIGN_OFF: Final = "sign_off"  # the customer said goodbye (action server)
END_HAND_BACK: Final = "hand_back"  # an agent handed the conversation back (action server)
END_CALL_ENDED: Final = "call_ended"  # the call hung up (voice connector)
END_LOCKOUT: Final = "lockout"  # the account locked itself after failed verifications (payments service)

END_REASONS: Final = (END_SIGN_OFF, END_HAND_BACK, END_CALL_ENDED, END_LOCKOUT)

# --- contact media (`medium` of opt-outs, contact events and checks)

MEDIUM_SMS: Final = "sms"
MEDIUM_VOICE: Final = "voice"
MEDIUM_EMAIL: Final = "email"

MEDIA: Final = (MEDIUM_SMS, MEDIUM_VOICE, MEDIUM_EMAIL)
