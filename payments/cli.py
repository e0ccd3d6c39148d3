"""Command line: `python -m payments migrate|seed|setup`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.orm import Session, sessionmaker

from payments.adapters.db import make_engine, make_session_factory
from payments.adapters.rasa_client import HttpRasaNotifier
from payments.adapters.stripe_gateway import StripeGateway
from payments.adapters.twilio_sms import TwilioSmsSender
from payments.config import Settings, get_settings
from payments.domain.errors import DomainError
from payments.domain.policy import load_policy
from payments.logging_setup import configure_logging
from payments.seed import DEMO_AGENT, seed_demo_agent, seed_demo_data
from payments.services.agents import AgentService
from payments.services.charges import Charges
from payments.services.compliance import ComplianceService
from payments.services.notifications import NotificationService
from payments.services.payment_links import PaymentLinks
from payments.services.scheduler import ComplianceContactChecker, Scheduler

log = logging.getLogger("payments.scheduler")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "payments:migrations")
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def migrate(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def seed(database_url: str, *, with_demo_agent: bool = True) -> int:
    """The demo accounts, and the console's demo agent unless told not to (production)."""
    engine = make_engine(database_url)
    try:
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            added = seed_demo_data(session)
        if with_demo_agent and seed_demo_agent(sessions):
            print(f"seeded the demo agent: {DEMO_AGENT[0]} / {DEMO_AGENT[2]} (sign in at /console)")
        return added
    finally:
        engine.dispose()


def add_agent(database_url: str, username: str, display_name: str, password: str) -> None:
    engine = make_engine(database_url)
    try:
        AgentService(make_session_factory(engine)).add_agent(username, display_name, password)
    finally:
        engine.dispose()


def read_new_password() -> str:
    """AGENT_PASSWORD from the environment (scripts), else asked twice without echo."""
    if os.environ.get("AGENT_PASSWORD"):
        return os.environ["AGENT_PASSWORD"]
    first = getpass.getpass("password for the new agent: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("the passwords differ")
    return first


def build_scheduler(settings: Settings, sessions: sessionmaker[Session]) -> Scheduler:
    """The composition root of background work: real Stripe, Twilio and rasa adapters."""
    gateway = StripeGateway(settings.stripe_api_key, settings.stripe_api_base)
    links = PaymentLinks(
        sessions, gateway, public_url=settings.payments_public_url, link_ttl_minutes=settings.payment_link_ttl_minutes
    )
    compliance = ComplianceService(sessions)
    notifications = NotificationService(
        sessions,
        HttpRasaNotifier(settings.rasa_url, settings.rasa_auth_token),
        TwilioSmsSender(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_from_number,
            settings.twilio_api_base,
        ),
        max_attempts=settings.notification_max_attempts,
        gate=compliance,  # every attempt, retries included, is checked again at send time
    )
    policy = load_policy(settings.plan_policy_file or None)
    return Scheduler(
        sessions,
        notifications,
        charger=Charges(sessions, gateway),
        contact=ComplianceContactChecker(compliance),
        links=links,
        expired_links=links,
        reminder_days_before_due=settings.reminder_days_before_due,
        grace_days=policy.grace_days,
        broken_settlement=policy.settlement_broken,
    )


async def run_scheduler(settings: Settings, *, once: bool = False) -> None:
    """Run a pass every `scheduler_interval_seconds` until stopped (Ctrl-C / SIGTERM)."""
    configure_logging(settings.log_level)
    engine = make_engine(settings.database_url)
    scheduler = build_scheduler(settings, make_session_factory(engine))
    try:
        while True:
            try:
                report = await scheduler.run_once()
                log.info("scheduler pass: %s", report)
                if settings.scheduler_heartbeat_file:
                    await asyncio.to_thread(Path(settings.scheduler_heartbeat_file).touch)
            except Exception:
                log.exception("scheduler pass failed")
            if once:
                return
            await asyncio.sleep(settings.scheduler_interval_seconds)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m payments")
    parser.add_argument(
        "command",
        choices=["migrate", "seed", "setup", "scheduler", "add-agent"],
        help="setup = migrate + seed; scheduler = run installment reminders, charges and the outbox; "
        "add-agent USERNAME --name NAME = an agent for the console (password: AGENT_PASSWORD or asked)",
    )
    parser.add_argument("username", nargs="?", help="add-agent: the sign-in name")
    parser.add_argument("--name", help='add-agent: the name customers see ("Sam")')
    parser.add_argument("--once", action="store_true", help="scheduler: one pass, then exit")
    args = parser.parse_args(argv)
    settings = get_settings()
    url = settings.database_url
    if args.command in ("migrate", "setup"):
        migrate(url)
    if args.command in ("seed", "setup"):
        print(f"seeded {seed(url, with_demo_agent=settings.evenkeel_env != 'production')} demo account(s)")
    if args.command == "add-agent":
        if not args.username or not args.name:
            parser.error("add-agent needs USERNAME and --name")
        try:
            add_agent(url, args.username, args.name, read_new_password())
        except DomainError as exc:
            raise SystemExit(exc.detail) from exc
        print(f"agent {args.username} added")
    if args.command == "scheduler":
        try:
            asyncio.run(run_scheduler(settings, once=args.once))
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
