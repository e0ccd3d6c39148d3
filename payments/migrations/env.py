"""Alembic environment: runs migrations on the URL given in the config or in DATABASE_URL."""

from alembic import context

from payments.adapters.db import make_engine
from payments.adapters.orm import Base
from payments.config import get_settings

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url

engine = make_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
