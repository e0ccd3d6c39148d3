"""Bench customers: copies of demo account A1001 with their own card last 4, phone number and id,
written into the benchmark's throwaway database, so every simulated conversation can book a plan
(the service allows one active plan per account) and every call has its own caller ID."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from payments.adapters.db import make_engine
from payments.adapters.orm import AccountRow
from payments.seed import DEMO_ACCOUNTS

TEMPLATE = "A1001"  # 45 days past due: installments of $310.00 over 3, 6 or 12 months
DEMO_LAST4 = {row[3] for row in DEMO_ACCOUNTS}


@dataclass(frozen=True)
class Customer:
    account_id: str
    last4: str
    dob: date
    zip_code: str
    phone: str


def bench_customers(count: int) -> list[Customer]:
    """`count` customers with unique last 4 (none a demo account's) and fictional 555 numbers."""
    last4s = (f"{n:04d}" for n in range(2000, 10000) if f"{n:04d}" not in DEMO_LAST4)
    return [
        Customer(f"B{i:05d}", next(last4s), date(1985, 3, 14), "78701", f"+1512555{2000 + i:04d}") for i in range(count)
    ]


def add_customers(database_url: str, customers: list[Customer]) -> None:
    """Insert the customers as copies of the template account (its balances and dates)."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            template = session.get(AccountRow, TEMPLATE)
            if template is None:
                raise RuntimeError(f"{TEMPLATE} is not seeded in {database_url}")
            columns = {c.key: getattr(template, c.key) for c in AccountRow.__table__.columns}
            session.add_all(
                AccountRow(
                    **{
                        **columns,
                        "id": c.account_id,
                        "full_name": f"Bench Customer {c.account_id}",
                        "phone": c.phone,
                        "card_last4": c.last4,
                        "date_of_birth": c.dob,
                        "zip_code": c.zip_code,
                        "preferred_language": "en",
                    }
                )
                for c in customers
            )
    finally:
        engine.dispose()
