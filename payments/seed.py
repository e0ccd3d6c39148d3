"""The demo accounts of DESIGN.md: fictional people with 555-01xx numbers, seeded into fresh databases.

Dates are relative to the day of seeding, so "45 days past due" stays true on the day you try it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from payments.adapters.orm import AccountFlagRow, AccountRow
from payments.domain.errors import Conflict
from payments.services.agents import AgentService

# (id, name, phone, last4, dob, zip, tz, language, status, balance, past due, minimum, days past due,
#  flags, statement: previous balance, purchases, interest, fees, payments and credits). Cents.
DEMO_ACCOUNTS = [
    (
        "A1001",
        "Maria Lopez",
        "+15125550101",
        "4821",
        "1985-03-14",
        "78701",
        "America/Chicago",
        "es",
        "delinquent",
        245000,
        31000,
        9500,
        45,
        [],
        (231000, 4500, 5500, 4000, 0),
    ),
    (
        "A1002",
        "James Carter",
        "+12125550102",
        "1190",
        "1972-11-02",
        "10027",
        "America/New_York",
        "en",
        "charged_off",
        64050,
        64050,
        64050,
        120,
        [],
        (64050, 0, 0, 0, 0),
    ),
    (
        "A1003",
        "Aisha Khan",
        "+14155550103",
        "7734",
        "1990-07-21",
        "94110",
        "America/Los_Angeles",
        "en",
        "current",
        598025,
        0,
        15000,
        0,
        [],
        (585000, 31025, 9500, 0, 27500),
    ),
    (
        "A1004",
        "Robert Chen",
        "+13125550104",
        "3056",
        "1968-01-30",
        "60614",
        "America/Chicago",
        "en",
        "delinquent",
        320000,
        80000,
        80000,
        95,
        ["bankruptcy"],
        (307500, 0, 8500, 4000, 0),
    ),
    (
        "A1005",
        "Dana Whitfield",
        "+14045550105",
        "9902",
        "1995-09-09",
        "30309",
        "America/New_York",
        "en",
        "delinquent",
        115075,
        22000,
        6000,
        30,
        [],
        (106000, 3575, 2500, 3000, 0),
    ),
]

DUE_IN_DAYS = 10


def seed_demo_data(session: Session, today: date | None = None) -> int:
    """Insert the demo accounts that are missing; returns how many were added. Idempotent.

    Dates count from `today`, or by default from each account's own local date, which is where
    days past due are counted (AccountService.local_today).
    """
    now = datetime.now(timezone.utc)
    added = 0
    for acc_id, name, phone, last4, dob, zip_code, tz, lang, status, balance, past_due, minimum, dpd, flags, (
        prev,
        purchases,
        interest,
        fees,
        payments,
    ) in DEMO_ACCOUNTS:
        if session.get(AccountRow, acc_id) is not None:
            continue
        local_today = today or now.astimezone(ZoneInfo(tz)).date()
        assert prev + purchases + interest + fees - payments == balance, acc_id
        row = AccountRow(
            id=acc_id,
            full_name=name,
            phone=phone,
            card_last4=last4,
            date_of_birth=date.fromisoformat(dob),
            zip_code=zip_code,
            time_zone=tz,
            preferred_language=lang,
            status=status,
            currency="USD",
            balance_cents=balance,
            past_due_cents=past_due,
            minimum_due_cents=minimum,
            # A charged-off balance is due in full now; the others on the next statement due date.
            payment_due_date=local_today if status == "charged_off" else local_today + timedelta(days=DUE_IN_DAYS),
            delinquent_since=local_today - timedelta(days=dpd) if dpd else None,
            statement_previous_balance_cents=prev,
            statement_purchases_cents=purchases,
            statement_interest_cents=interest,
            statement_fees_cents=fees,
            statement_payments_cents=payments,
        )
        row.flags = [AccountFlagRow(flag=f, created_at=now) for f in flags]
        session.add(row)
        added += 1
    return added


# The console's demo agent (README): never seeded in production.
DEMO_AGENT = ("sam", "Sam", "evenkeel-demo-agent")


def seed_demo_agent(sessions: sessionmaker[Session]) -> bool:
    """Add the demo agent unless an agent with its username exists; returns whether it was added."""
    username, display_name, password = DEMO_AGENT
    try:
        AgentService(sessions).add_agent(username, display_name, password)
    except Conflict:
        return False
    return True
