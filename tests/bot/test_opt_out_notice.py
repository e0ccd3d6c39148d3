"""12 CFR 1006.6(e): the messages the assistant starts by SMS (a plan reminder, a payment link the
scheduler triggers) carry the opt-out notice, spelled as contracts.notices has it."""

from __future__ import annotations

import pytest
from rasa.shared.core.domain import Domain

from contracts.notices import OPT_OUT_NOTICE

# Responses sent by SMS in a conversation the customer did not just start: triggered by the scheduler.
STARTED_BY_US = ("utter_installment_reminder", "utter_installment_link")


@pytest.mark.parametrize("response", STARTED_BY_US)
def test_every_sms_we_start_carries_the_opt_out_notice(domain: Domain, response: str) -> None:
    variations = domain.responses[response]
    sms = [v["text"] for v in variations if v.get("channel") == "twilio_sms"]
    assert sms, f"{response} has no SMS wording"
    assert all(text.rstrip().endswith(OPT_OUT_NOTICE) for text in sms), sms
