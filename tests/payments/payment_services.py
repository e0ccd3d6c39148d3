"""The four payment use cases built on one gateway and one clock, as `payments.main` builds them,
for service tests (one object answers every use case's methods) and API tests (the app's
dependencies overridden with them)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy.orm import Session, sessionmaker

from payments.api.deps import get_charges, get_pay_page, get_payment_events, get_payment_links
from payments.services.charges import Charges
from payments.services.clock import Clock
from payments.services.pay_page import PayPage
from payments.services.payment_events import PaymentEvents
from payments.services.payment_links import PaymentLinks
from payments.services.ports import PaymentGateway


class PaymentServices:
    """`links`, `pay_page`, `events` and `charges`; a method of any of them is also one of this."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        gateway: PaymentGateway,
        *,
        public_url: str,
        clock: Clock,
        link_ttl_minutes: int = 30,
    ) -> None:
        self.links = PaymentLinks(
            sessions, gateway, public_url=public_url, link_ttl_minutes=link_ttl_minutes, clock=clock
        )
        self.pay_page = PayPage(sessions, gateway, clock=clock)
        self.events = PaymentEvents(sessions, gateway, clock=clock)
        self.charges = Charges(sessions, gateway, clock=clock)

    def __getattr__(self, name: str) -> Any:
        for part in (self.links, self.pay_page, self.events, self.charges):
            if hasattr(part, name):
                return getattr(part, name)
        raise AttributeError(name)


def override_payment_services(
    app: FastAPI, gateway: PaymentGateway, *, public_url: str, clock: Clock, link_ttl_minutes: int = 30
) -> None:
    """Every payment route of `app` served by use cases on `gateway` and `clock`."""

    def services(request: Request) -> PaymentServices:
        return PaymentServices(
            request.app.state.sessions, gateway, public_url=public_url, clock=clock, link_ttl_minutes=link_ttl_minutes
        )

    def links(request: Request) -> PaymentLinks:
        return services(request).links

    def pay_page(request: Request) -> PayPage:
        return services(request).pay_page

    def events(request: Request) -> PaymentEvents:
        return services(request).events

    def charges(request: Request) -> Charges:
        return services(request).charges

    app.dependency_overrides.update(
        {get_payment_links: links, get_pay_page: pay_page, get_payment_events: events, get_charges: charges}
    )
