"""Names shared with the domain files. `tests/bot/test_names.py` checks each exists there.

Names other processes use too (external intents, flags, pause, report and handoff reasons) are
declared once in `contracts/names.py` and re-exported here; this module keeps the Rasa-only ones
(slots, responses, actions) and the action server's own tables built on them.
"""

from contracts.names import EXTERNAL_INTENTS as EXTERNAL_INTENTS  # re-exported: `names.EXTERNAL_INTENTS`
from contracts.names import Flag, HandoffReason, PauseReason, ReportKind

# Slots
CARD_LAST4 = "card_last4"
DOB = "dob"
ZIP = "zip"
VERIFICATION_STATUS = "verification_status"
ACCOUNT_ID = "account_id"
REQUESTED_SLOT = "requested_slot"
GOAL = "goal"  # what the customer asked for before verifying, resumed after
AWAITING = "awaiting"  # the question the bot is waiting on: see AWAITING_* values
OFFER_IDS = "offer_ids"  # offers in the order presented, for "the second one"
OFFER_KIND = "offer_kind"  # which list was presented: plan | settlement | payment
PENDING = "pending"  # what the customer is asked to confirm: {"type", ...}
HARDSHIP_DESCRIBED = "hardship_described"
BOOKED_PLAN_ID = "booked_plan_id"
LAST_PAYMENT_ID = "last_payment_id"
HANDOFF_CASE_ID = "handoff_case_id"
VERIFICATION_SESSION = "verification_session"  # C2 session id from /api/verify; set only by action_verify_identity

# Values of VERIFICATION_STATUS
VERIFIED = "verified"
RETRY = "retry"
LOCKED = "locked"

# Values of AWAITING
AWAITING_OFFER_CHOICE = "offer_choice"
AWAITING_CONFIRMATION = "confirmation"
AWAITING_AMOUNT = "amount"

# Forms
VERIFICATION_FORM = "verification_form"

# Responses
UTTER_ASK_CARD_LAST4_INVALID = "utter_card_last4_invalid"
UTTER_DOB_INVALID = "utter_dob_invalid"
UTTER_ZIP_INVALID = "utter_zip_invalid"
UTTER_VERIFICATION_FAILED = "utter_verification_failed"
UTTER_VERIFICATION_LOCKED = "utter_verification_locked"
UTTER_VERIFIED = "utter_verified"
UTTER_DISCLOSURE_FIRST_PARTY = "utter_disclosure_first_party"
UTTER_DISCLOSURE_THIRD_PARTY = "utter_disclosure_third_party"
UTTER_VERIFY_FIRST = "utter_verify_first"
UTTER_VERIFY_AGAIN = "utter_verify_again"
UTTER_SERVICE_UNAVAILABLE = "utter_service_unavailable"
UTTER_BALANCE_PAST_DUE = "utter_balance_past_due"
UTTER_BALANCE_CURRENT = "utter_balance_current"
UTTER_BALANCE_BREAKDOWN = "utter_balance_breakdown"
UTTER_MINIMUM_DUE = "utter_minimum_due"
UTTER_WHAT_NEXT = "utter_what_next"
UTTER_OFFER_LIST = "utter_offer_list"
UTTER_NO_SETTLEMENT = "utter_no_settlement"
UTTER_NO_OFFERS = "utter_no_offers"
UTTER_COLLECTION_PAUSED = "utter_collection_paused"
UTTER_CHOICE_UNCLEAR = "utter_choice_unclear"
UTTER_CONFIRM_PLAN = "utter_confirm_plan"
UTTER_CONFIRM_PAYMENT = "utter_confirm_payment"
UTTER_CONFIRM_PROMISE = "utter_confirm_promise"
UTTER_ASK_AMOUNT = "utter_ask_amount"
UTTER_AMOUNT_OUT_OF_RANGE = "utter_amount_out_of_range"
UTTER_PLAN_BOOKED = "utter_plan_booked"
UTTER_PLAN_ALREADY_ACTIVE = "utter_plan_already_active"
UTTER_OFFER_NO_LONGER_AVAILABLE = "utter_offer_no_longer_available"
UTTER_PAYMENT_LINK = "utter_payment_link"
UTTER_PROMISE_RECORDED = "utter_promise_recorded"
UTTER_PROMISE_REFUSED = "utter_promise_refused"
UTTER_DECLINED = "utter_declined"
UTTER_PAYMENT_SUCCEEDED = "utter_payment_succeeded"
UTTER_ACCOUNT_SETTLED = "utter_account_settled"
UTTER_PAYMENT_FAILED = "utter_payment_failed"
UTTER_RECENT_PAYMENTS = "utter_recent_payments"
UTTER_NO_RECENT_PAYMENTS = "utter_no_recent_payments"
UTTER_INSTALLMENT_REMINDER = "utter_installment_reminder"
UTTER_INSTALLMENT_LINK = "utter_installment_link"
UTTER_HARDSHIP_EMPATHY = "utter_hardship_empathy"
UTTER_CRISIS_SUPPORT = "utter_crisis_support"
UTTER_HANDOFF = "utter_handoff"
UTTER_BACK_FROM_AGENT = "utter_back_from_agent"
UTTER_RESUME_AFTER_DISTRESS = "utter_resume_after_distress"
UTTER_RESUME_COLLECTION_PAUSED = "utter_resume_collection_paused"
UTTER_RESUME_UNVERIFIED = "utter_resume_unverified"
UTTER_HANDOFF_UNAVAILABLE = "utter_handoff_unavailable"
UTTER_REPORT_RECORDED = "utter_report_recorded"
UTTER_REPORT_RECORDED_DISPUTE = "utter_report_recorded_dispute"
UTTER_REPORT_RECORDED_NO_ACCOUNT = "utter_report_recorded_no_account"
UTTER_REPORT_FAILED = "utter_report_failed"
UTTER_STANDING_BANKRUPTCY = "utter_standing_bankruptcy"
UTTER_STANDING_DISPUTE = "utter_standing_dispute"
UTTER_STANDING_ATTORNEY = "utter_standing_attorney"
UTTER_STANDING_DECEASED = "utter_standing_deceased"
UTTER_STANDING_CEASE = "utter_standing_cease"
UTTER_STANDING_HARDSHIP_HOLD = "utter_standing_hardship_hold"
UTTER_STANDING_PENDING_REVIEW = "utter_standing_pending_review"
UTTER_STANDING_SETTLED = "utter_standing_settled"
UTTER_STANDING_ACTIVE_PLAN = "utter_standing_active_plan"
UTTER_STANDING_PLAN_NOTHING_DUE = "utter_standing_plan_nothing_due"
UTTER_STANDING_PENDING_PROMISE = "utter_standing_pending_promise"
UTTER_PROMISE_MINIMUM_OFFERED = "utter_promise_minimum_offered"
UTTER_PLAN_RECEIPT = "utter_plan_receipt"
UTTER_WRONG_NUMBER = "utter_wrong_number"
UTTER_STOP_CONFIRMED = "utter_stop_confirmed"
UTTER_STOP_NOT_RECORDED = "utter_stop_not_recorded"
UTTER_STOP_WHO = "utter_stop_who"
UTTER_STOP_CHECK = "utter_stop_check"
UTTER_DEFAULT = "utter_default"
UTTER_GOODBYE = "utter_goodbye"
UTTER_CARD_NUMBER_REMOVED = "utter_card_number_removed"
UTTER_WHY_CONTACTED_UNVERIFIED = "utter_why_contacted_unverified"

# Actions
ACTION_VERIFY_IDENTITY = "action_verify_identity"
ACTION_REMEMBER_GOAL = "action_remember_goal"
ACTION_CONTINUE_GOAL = "action_continue_goal"
ACTION_TELL_BALANCE = "action_tell_balance"
ACTION_OFFER_PAYMENT = "action_offer_payment"
ACTION_REPROMPT = "action_reprompt"
ACTION_ANSWER = "action_answer"
ACTION_RECENT_PAYMENTS = "action_recent_payments"
ACTION_PAYMENT_EVENT = "action_payment_event"
ACTION_INSTALLMENT_EVENT = "action_installment_event"
ACTION_HANDOFF = "action_handoff"
ACTION_MISUNDERSTOOD = "action_misunderstood"
ACTION_WRONG_NUMBER = "action_wrong_number"
ACTION_STOP_CONTACT = "action_stop_contact"
ACTION_RESUME_AFTER_AGENT = "action_resume_after_agent"
ACTION_SIGN_OFF = "action_sign_off"
VALIDATE_VERIFICATION_FORM = "validate_verification_form"

# Intents that need the account: asked before verification, they are remembered in GOAL.
GOAL_INTENTS = (
    "check_balance",
    "make_payment",
    "request_payment_plan",
    "request_settlement",
    "already_paid",
    "hardship",
)

# Intent → handoff reason in the payments service.
HANDOFF_REASONS = {
    "distress": HandoffReason.DISTRESS,
    "dispute": HandoffReason.DISPUTE,
    "request_agent": HandoffReason.REQUEST_AGENT,
    "bankruptcy": HandoffReason.BANKRUPTCY,
    "attorney": HandoffReason.ATTORNEY,
    "deceased": HandoffReason.DECEASED,
}
# Handoffs that also put a flag on a verified account (collection stops at once).
FLAG_FOR_HANDOFF = {
    HandoffReason.BANKRUPTCY: Flag.BANKRUPTCY,
    HandoffReason.ATTORNEY: Flag.ATTORNEY,
    HandoffReason.DECEASED: Flag.DECEASED,
}
# Handoff reasons that are also reports from anyone (C4 POST /api/reports `kind`).
REPORT_KINDS = (ReportKind.DECEASED, ReportKind.BANKRUPTCY, ReportKind.ATTORNEY, ReportKind.DISPUTE)

# Standing (C4) pause reasons, most important first, → the neutral notice for each; every
# reason but `settled` also gets a person.
STANDING_NOTICES = {
    PauseReason.DECEASED: UTTER_STANDING_DECEASED,
    PauseReason.BANKRUPTCY: UTTER_STANDING_BANKRUPTCY,
    PauseReason.ATTORNEY: UTTER_STANDING_ATTORNEY,
    PauseReason.DISPUTE: UTTER_STANDING_DISPUTE,
    PauseReason.CEASE: UTTER_STANDING_CEASE,
    PauseReason.PENDING_REVIEW: UTTER_STANDING_PENDING_REVIEW,
    PauseReason.HARDSHIP_HOLD: UTTER_STANDING_HARDSHIP_HOLD,
    PauseReason.SETTLED: UTTER_STANDING_SETTLED,
}
PAUSES_WITHOUT_A_PERSON = (PauseReason.SETTLED,)
