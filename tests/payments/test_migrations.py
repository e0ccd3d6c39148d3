"""Migrations are the only way the schema changes: they must build exactly what the ORM describes."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from payments import cli
from payments.adapters.db import make_engine
from payments.adapters.orm import Base

ORM_TABLES = set(Base.metadata.tables)


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_there_is_one_head():
    assert len(ScriptDirectory.from_config(cli.alembic_config("sqlite://")).get_heads()) == 1


def test_upgrade_creates_exactly_the_orm_tables(migrated_url):
    assert tables(migrated_url) == ORM_TABLES
    assert {"accounts", "audit_events", "plans", "payments", "handoffs"} <= ORM_TABLES


def test_migrations_match_the_orm_models(migrated_url):
    engine = make_engine(migrated_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(migrated_url):
    config = cli.alembic_config(migrated_url)
    command.downgrade(config, "base")
    assert tables(migrated_url) == set()
    cli.migrate(migrated_url)
    assert tables(migrated_url) == ORM_TABLES
    assert cli.seed(migrated_url) == 5
