"""Fixtures of the payment use-case tests: the FakeGateway and the use cases built on it."""

from __future__ import annotations

import pytest

from testkit.fake_gateway import FakeGateway
from tests.payments.payment_services import PaymentServices
from tests.payments.services.payment_support import PUBLIC


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def service(sessions, gateway, clock) -> PaymentServices:
    return PaymentServices(sessions, gateway, public_url=PUBLIC, link_ttl_minutes=30, clock=clock)
