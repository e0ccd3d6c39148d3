"""Names shared with the domain files. `tests/bot/test_names.py` checks each exists there."""

# Slots
CARD_LAST4 = "card_last4"
DOB = "dob"
ZIP = "zip"
VERIFICATION_STATUS = "verification_status"
ACCOUNT_ID = "account_id"
REQUESTED_SLOT = "requested_slot"

# Values of VERIFICATION_STATUS
VERIFIED = "verified"
RETRY = "retry"
LOCKED = "locked"

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
UTTER_SERVICE_UNAVAILABLE = "utter_service_unavailable"
UTTER_BALANCE_PAST_DUE = "utter_balance_past_due"
UTTER_BALANCE_CURRENT = "utter_balance_current"

# Actions
ACTION_VERIFY_IDENTITY = "action_verify_identity"
ACTION_TELL_BALANCE = "action_tell_balance"
VALIDATE_VERIFICATION_FORM = "validate_verification_form"

# Rasa input channel names → the channel names the payments service knows.
SERVICE_CHANNEL_BY_INPUT_CHANNEL = {
    "rest": "rest",
    "socketio": "web",
    "webchat": "web",
    "twilio_sms": "sms",
    "twilio_voice": "voice",
}
