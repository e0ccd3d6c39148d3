"""One stack for the whole security suite (each rasa process costs about 1 GB and tens of seconds
to start): the e2e launcher (testkit/stack.py), with non-default secrets where an attacker could
otherwise use the published development ones, and SMS replies going to a Twilio REST stand-in.

Tests that lock or opt out an account use their own seeded account (tests/security/channels.py
names them), so the order the tests run in does not matter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testkit import stack as e2e_stack
from testkit.stack import MODEL, Stack
from testkit.twilio import TwilioApiStandIn
from tests.security.channels import Rest, Sms

# Not the development defaults (contracts.channel_facts.DEV_CHANNEL_FACTS_KEY, dev-action-token):
# an attacker knows those, and a test that signs with them must be refused.
CHANNEL_FACTS_KEY = "security-suite-channel-facts-key"
ACTION_SERVER_TOKEN = "security-suite-action-token"
REST_CHANNEL_TOKEN = getattr(e2e_stack, "REST_TOKEN", "security-suite-rest-token")


@pytest.fixture(scope="session")
def twilio() -> Iterator[TwilioApiStandIn]:
    api = TwilioApiStandIn().start_in_thread()
    yield api
    api.stop_thread()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, twilio: TwilioApiStandIn) -> Iterator[Stack]:
    """The real processes, once for the suite. The model is the lead's (never trained here)."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: train it first (make model)")
    shared = {"CHANNEL_FACTS_KEY": CHANNEL_FACTS_KEY, "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN}
    overrides = {
        "rasa": {**shared, "REST_CHANNEL_TOKEN": REST_CHANNEL_TOKEN, "TWILIO_API_BASE": twilio.base_url},
        "actions": shared,
        "scheduler": {"TWILIO_API_BASE": twilio.base_url},
    }
    with Stack(tmp_path_factory.mktemp("security-stack"), env_overrides=overrides).running(timeout=420) as running:
        yield running


@pytest.fixture
def rest(stack: Stack) -> Rest:
    return Rest(stack, REST_CHANNEL_TOKEN)


@pytest.fixture
def sms(stack: Stack, twilio: TwilioApiStandIn) -> Sms:
    return Sms(stack, twilio)
