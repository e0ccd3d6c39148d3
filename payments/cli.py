"""Command line: `python -m payments migrate|seed|setup`."""

from __future__ import annotations

import argparse
import sys

from alembic import command
from alembic.config import Config

from payments.adapters.db import make_engine, make_session_factory
from payments.config import get_settings
from payments.seed import seed_demo_data


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "payments:migrations")
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def migrate(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def seed(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            return seed_demo_data(session)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m payments")
    parser.add_argument("command", choices=["migrate", "seed", "setup"], help="setup = migrate + seed")
    args = parser.parse_args(argv)
    url = get_settings().database_url
    if args.command in ("migrate", "setup"):
        migrate(url)
    if args.command in ("seed", "setup"):
        print(f"seeded {seed(url)} demo account(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
