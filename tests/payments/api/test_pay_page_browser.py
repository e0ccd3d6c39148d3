"""The payment page in a real browser (Chromium via Playwright), paying end to end:
browser → localstripe's Stripe.js stand-in → localstripe → signed webhook → our service.

Screenshots go to test-artifacts/. Needs `playwright` (Python package) and /usr/bin/chromium."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from payments.adapters.db import make_engine, make_session_factory
from payments.adapters.orm import AccountRow, Base, NotificationRow, PaymentRow
from payments.config import Settings
from payments.main import create_app
from payments.seed import seed_demo_data
from testkit.chromium import NEEDS_CHROMIUM, headless_chromium
from testkit.stack import app_in_thread
from testkit.stripe import LocalStripe, localstripe  # noqa: F401 - localstripe: a fixture

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
TOKEN = "browser-service-token"
CARD_NUMBERS = ("4242424242424242", "4000000000000341")

pytestmark = [pytest.mark.browser, NEEDS_CHROMIUM]


@dataclass
class LiveApp:
    url: str
    sessions: object
    log_path: Path
    database_url: str


@pytest.fixture
def live_app(migrated_url: str, localstripe: LocalStripe, tmp_path: Path) -> Iterator[LiveApp]:  # noqa: F811
    """The real app (real StripeGateway → localstripe) served by uvicorn on a free port."""
    engine = make_engine(migrated_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        seed_demo_data(session)
    secret = f"whsec_{secrets.token_hex(8)}"

    def app(url: str):  # type: ignore[no-untyped-def]
        return create_app(
            Settings(
                _env_file=None,
                evenkeel_env="test",
                database_url=migrated_url,
                payments_service_token=TOKEN,
                payments_public_url=url,
                stripe_api_key=localstripe.api_key,
                stripe_api_base=localstripe.url,
                stripe_publishable_key=localstripe.publishable_key,
                stripe_js_url=localstripe.js_url,
                stripe_webhook_secret=secret,
                log_level="INFO",
            )
        )

    with app_in_thread(app, log_level="info") as url:
        # Everything the app and uvicorn log from now on also goes to a file we can search.
        log_path = tmp_path / "app.log"
        handler = logging.FileHandler(log_path)
        handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        loggers = [logging.getLogger(), logging.getLogger("uvicorn.access"), logging.getLogger("uvicorn.error")]
        for logger in loggers:
            logger.addHandler(handler)
        name = f"browser-{url.rsplit(':', 1)[1]}"
        localstripe.register_webhook(name, f"{url}/webhooks/stripe", secret)
        try:
            yield LiveApp(url=url, sessions=sessions, log_path=log_path, database_url=migrated_url)
        finally:
            # Point that webhook nowhere, so later events do not knock on a closed port for nothing.
            localstripe.register_webhook(name, "http://127.0.0.1:9/", secret)
            for logger in loggers:
                logger.removeHandler(handler)
            handler.close()
            engine.dispose()


@pytest.fixture
def browser() -> Iterator[object]:
    with headless_chromium() as chromium:
        yield chromium


def verified_headers(app: LiveApp, account_id: str, conversation_id: str) -> dict[str, str]:
    """The service token and a verification session for the conversation (C2), as the action server gets."""
    with app.sessions() as session:  # type: ignore[operator]
        account = session.get(AccountRow, account_id)
        factors = {"card_last4": account.card_last4, "dob": account.date_of_birth.isoformat(), "zip": account.zip_code}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    response = httpx.post(
        f"{app.url}/api/verify",
        headers=auth,
        timeout=10,
        json={"channel": "web", "conversation_id": conversation_id, **factors},
    )
    body = response.json()
    assert body["verified"], body
    return {**auth, "X-Conversation-Id": conversation_id, "X-Verification-Session": body["verification_session"]}


def create_payment(
    app: LiveApp,
    amount_cents: int,
    account_id: str = "A1001",
    plan_id: str | None = None,
    conversation_id: str = "browser-conv",
) -> dict:
    headers = verified_headers(app, account_id, conversation_id)
    response = httpx.post(
        f"{app.url}/api/payments",
        headers=headers,
        json={
            "account_id": account_id,
            "amount_cents": amount_cents,
            "channel": "sms",
            "idempotency_key": secrets.token_hex(8),
            "conversation_id": conversation_id,
            "plan_id": plan_id,
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def fill_card(page, card_number: str, postal_code: str = "78701") -> None:  # type: ignore[no-untyped-def]
    """Type a card into localstripe's stand-in of the Stripe card element."""
    element = page.locator("#card-element")
    element.locator("input[placeholder=number]").fill(card_number)
    element.locator("input[placeholder=exp_month]").fill("12")
    element.locator("input[placeholder=exp_year]").fill("30")
    element.locator("input[placeholder=cvc]").fill("123")
    element.locator("input[placeholder=postal_code]").fill(postal_code)


def pay(browser, link_url: str, card_number: str, screenshot: str) -> tuple[object, list[str]]:  # type: ignore[no-untyped-def]
    """Open the link on a phone-sized screen, type the card into the Stripe element, double-click Pay."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    confirms: list[str] = []
    page.on("request", lambda r: confirms.append(r.url) if r.url.endswith("/confirm") else None)
    page.goto(link_url)
    sync_api.expect(page.locator("h1")).to_have_text("Hi Maria")
    fill_card(page, card_number)
    page.screenshot(path=str(ARTIFACTS / f"{screenshot}-filled.png"), full_page=True)
    page.locator("#pay-button").dblclick()
    return page, confirms


def wait_for_status(app: LiveApp, payment_id: str, status: str, timeout: float = 20) -> PaymentRow:
    deadline = time.monotonic() + timeout
    while True:
        with app.sessions() as session:  # type: ignore[operator]
            row = session.get(PaymentRow, payment_id)
        if row.status == status or time.monotonic() > deadline:
            return row
        time.sleep(0.1)


def assert_no_card_number_stored(app: LiveApp) -> None:
    """Card numbers were typed into the page: none may reach our database or our logs."""
    with app.sessions() as session:  # type: ignore[operator]
        dump = "\n".join(
            repr(tuple(row)) for table in Base.metadata.sorted_tables for row in session.execute(select(table))
        )
    if app.database_url.startswith("sqlite"):
        raw = Path(app.database_url.split("///", 1)[1])
        dump += "".join(p.read_bytes().decode("latin-1") for p in raw.parent.glob(raw.name + "*"))
    logs = app.log_path.read_text()
    assert "POST /webhooks/stripe" in logs and "Stripe event" in logs  # the log file did capture the app
    for number in CARD_NUMBERS:
        assert number not in dump
        assert number not in logs


def test_paying_on_the_page_end_to_end(live_app, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    payment = create_payment(live_app, 31000)
    page, confirms = pay(browser, payment["link_url"], "4242424242424242", "pay-page-success")

    sync_api.expect(page.locator("#result-title")).to_have_text("Thank you, your payment was received", timeout=30000)
    assert page.locator("#main").get_attribute("data-state") == "succeeded"
    assert "$310.00" in page.locator("#result-text").inner_text()
    assert page.evaluate("document.activeElement.id") == "result-title"  # focus moves to the outcome
    page.screenshot(path=str(ARTIFACTS / "pay-page-success.png"), full_page=True)
    assert len(confirms) == 1  # the double click paid once

    row = wait_for_status(live_app, payment["id"], "succeeded")
    assert row.status == "succeeded" and row.stripe_payment_intent_id.startswith("pi_")
    with live_app.sessions() as session:  # type: ignore[operator]
        account = session.get(AccountRow, "A1001")
        notes = session.scalars(select(NotificationRow)).all()
    assert (account.balance_cents, account.past_due_cents) == (245000 - 31000, 0)
    assert [n.payload["intent"] for n in notes] == ["payment_succeeded"]

    # The link is used up now.
    again = browser.new_page()
    again.goto(payment["link_url"])
    sync_api.expect(again.locator("h1")).to_have_text("This payment link was already used")
    assert_no_card_number_stored(live_app)


def test_a_declined_card_on_the_page(live_app, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    payment = create_payment(live_app, 9500)
    page, _ = pay(browser, payment["link_url"], "4000000000000341", "pay-page-declined")
    sync_api.expect(page.locator("#result-title")).to_have_text("Your card was declined", timeout=30000)
    page.screenshot(path=str(ARTIFACTS / "pay-page-declined.png"), full_page=True)
    row = wait_for_status(live_app, payment["id"], "failed")
    assert (row.status, row.failure_code) == ("failed", "card_declined")
    with live_app.sessions() as session:  # type: ignore[operator]
        assert session.get(AccountRow, "A1001").balance_cents == 245000
    assert_no_card_number_stored(live_app)


def add_plan(app: LiveApp) -> str:
    """An installment plan on A1001 without a saved card, as a booking leaves it."""
    from datetime import date, datetime, timezone

    from payments.adapters.orm import InstallmentRow, PlanRow

    with app.sessions.begin() as session:  # type: ignore[attr-defined]
        plan = PlanRow(
            id="PLN-BROWSE",
            account_id="A1001",
            offer_id="installments_3",
            kind="installments",
            status="active",
            currency="USD",
            total_cents=31000,
            channel="sms",
            conversation_id="browser-conv",
            consent_text="I agree to 3 payments and to the card charges.",
            idempotency_key="browser-plan",
            created_at=datetime.now(timezone.utc),
        )
        plan.installments = [
            InstallmentRow(seq=i, due_date=date(2030, i, 2), amount_cents=a, status="scheduled")
            for i, a in ((1, 10334), (2, 10333), (3, 10333))
        ]
        session.add(plan)
    return "PLN-BROWSE"


@pytest.mark.parametrize("answer", ["yes", "no"])
def test_a_plan_payment_asks_before_saving_the_card(live_app, browser, answer):
    ARTIFACTS.mkdir(exist_ok=True)
    plan_id = add_plan(live_app)
    payment = create_payment(live_app, 10334, plan_id=plan_id)
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(payment["link_url"])
    sync_api.expect(page.locator("#save-card-title")).to_have_text("Save this card for your plan?")
    assert page.locator("#card-element").count() == 0  # no card form before the answer
    page.screenshot(path=str(ARTIFACTS / "pay-page-save-card-question.png"), full_page=True)
    page.locator(f"#save-card-{answer}").click()
    help_text = page.locator("#card-help")
    if answer == "yes":
        sync_api.expect(help_text).to_contain_text("Stripe keeps this card for your plan's next payments")
    else:
        sync_api.expect(help_text).to_contain_text("The card is not saved for later payments.")
    fill_card(page, "4242424242424242")
    page.locator("#pay-button").click()
    sync_api.expect(page.locator("#result-title")).to_have_text("Thank you, your payment was received", timeout=30000)
    assert wait_for_status(live_app, payment["id"], "succeeded").status == "succeeded"
    from payments.adapters.orm import PlanRow

    deadline = time.monotonic() + 10
    while True:
        with live_app.sessions() as session:  # type: ignore[operator]
            plan = session.get(PlanRow, plan_id)
            installment_status = plan.installments[0].status
            saved = plan.stripe_payment_method_id
        if installment_status == "paid" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert installment_status == "paid"
    assert (saved is not None) == (answer == "yes")  # the card is kept only after a yes
    assert_no_card_number_stored(live_app)


def test_a_settlement_paid_on_the_page_leaves_a_zero_balance_and_no_offers(live_app, browser):
    """Issue 12's end-to-end proof for settlements: the charged-off A1002 settles for 60% on the page."""
    from payments.adapters.orm import AuditEventRow, PlanRow
    from payments.domain.policy import PlanPolicy
    from payments.services.plans import PlanService

    plans = PlanService(live_app.sessions, PlanPolicy())  # type: ignore[arg-type]
    [lump] = [o for o in plans.offers("A1002").offers if o.id == "settlement_lump"]
    plan = plans.book(
        "A1002",
        offer_id="settlement_lump",
        channel="sms",
        idempotency_key="browser-settle",
        conversation_id="browser-settle",
    ).plan
    payment = create_payment(live_app, lump.total.amount_cents, "A1002", plan.id, "browser-settle")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(payment["link_url"])
    sync_api.expect(page.locator("h1")).to_have_text("Hi James")
    assert page.locator("#save-card-title").count() == 0  # a lump sum has no later payment to save a card for
    fill_card(page, "4242424242424242", "10027")
    page.locator("#pay-button").click()
    sync_api.expect(page.locator("#result-title")).to_have_text("Thank you, your payment was received", timeout=30000)
    assert wait_for_status(live_app, payment["id"], "succeeded").status == "succeeded"
    with live_app.sessions() as session:  # type: ignore[operator]
        account = session.get(AccountRow, "A1002")
        [settled] = session.scalars(select(AuditEventRow).where(AuditEventRow.kind == "account_settled")).all()
        assert session.get(PlanRow, plan.id).status == "completed"
    assert (account.status, account.balance_cents, account.past_due_cents, account.minimum_due_cents) == (
        "settled",
        0,
        0,
        0,
    )
    assert settled.detail["forgiven_cents"] == 64050 - lump.total.amount_cents
    assert plans.offers("A1002").offers == []
    assert_no_card_number_stored(live_app)


def test_the_page_says_what_went_wrong_per_cause_and_looks_finished_when_paid(live_app, browser, localstripe):  # noqa: F811
    """Issue 19: a past expiry year or a short card number says so (not "could not reach"); only a
    network failure says we could not reach the payment processor; the form stays for another
    try until a payment goes through, then the pay button is gone for good."""
    ARTIFACTS.mkdir(exist_ok=True)
    payment = create_payment(live_app, 9500)
    page = browser.new_page(viewport={"width": 390, "height": 844})
    confirms: list[str] = []
    page.on("request", lambda r: confirms.append(r.url) if r.url.endswith("/confirm") else None)
    page.goto(payment["link_url"])
    assert page.title() == "Lakeside Bank · Pay $95.00"
    sync_api.expect(page.locator("#bank-name")).to_have_text("Lakeside Bank")
    element, error, button = page.locator("#card-element"), page.locator("#error"), page.locator("#pay-button")

    fill_card(page, "4242424242424242")
    element.locator("input[placeholder=exp_year]").fill("19")  # a wrongly typed year: 2019
    button.click()
    sync_api.expect(error).to_have_text("That expiry year is in the past. Please check the year on your card.")
    page.screenshot(path=str(ARTIFACTS / "pay-page-expiry-error.png"), full_page=True)
    sync_api.expect(button).to_be_enabled()
    sync_api.expect(button).to_have_text("Pay $95.00")

    element.locator("input[placeholder=exp_year]").fill("30")
    element.locator("input[placeholder=number]").fill("4242 4242")
    button.click()
    sync_api.expect(error).to_have_text("Your card number is incomplete. Please check it and try again.")
    assert confirms == []  # neither reached Stripe

    # The payment processor out of reach: the only cause that says so.
    element.locator("input[placeholder=number]").fill("4242424242424242")
    page.route(f"{localstripe.url}/v1/**", lambda route: route.abort())
    button.click()
    sync_api.expect(error).to_contain_text("We could not reach the payment processor. Nothing was charged.")
    sync_api.expect(button).to_be_enabled()
    page.unroute(f"{localstripe.url}/v1/**")

    # Paying: the button is disabled and says so while Stripe answers (held here), then gone.
    held: list[object] = []
    page.route("**/confirm", lambda route: held.append(route))
    button.dblclick()
    sync_api.expect(button).to_be_disabled()
    sync_api.expect(button).to_have_text("Sending your payment…")
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert len(held) == 1  # the double click sent one payment
    held[0].continue_()  # type: ignore[attr-defined]
    sync_api.expect(page.locator("#result-title")).to_have_text("Thank you, your payment was received", timeout=30000)
    assert page.locator("#main").get_attribute("data-state") == "succeeded"
    assert button.count() == 0 and page.locator("#pay-form").count() == 0  # nothing left to press
    sync_api.expect(page.locator("#pay-section")).to_be_hidden()
    sync_api.expect(error).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "pay-page-finished.png"), full_page=True)
    assert wait_for_status(live_app, payment["id"], "succeeded").status == "succeeded"
    assert_no_card_number_stored(live_app)


def test_a_declined_card_says_so_and_leaves_nothing_to_press(live_app, browser):
    payment = create_payment(live_app, 9500)
    page, _ = pay(browser, payment["link_url"], "4000000000000341", "pay-page-declined-finished")
    sync_api.expect(page.locator("#result-title")).to_have_text("Your card was declined", timeout=30000)
    sync_api.expect(page.locator("#result-text")).to_contain_text("No money was taken.")
    assert page.locator("#pay-button").is_hidden() and page.locator("#error").is_hidden()
    assert "could not reach" not in page.locator("#main").inner_text()
