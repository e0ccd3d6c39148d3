from payments.adapters.db import make_engine


def test_plain_postgresql_urls_use_psycopg():
    engine = make_engine("postgresql://user@db.example:5432/evenkeel")
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    engine.dispose()


def test_sqlite_file_folder_is_created(tmp_path):
    path = tmp_path / "var" / "nested" / "evenkeel.db"
    engine = make_engine(f"sqlite:///{path}")
    assert path.parent.is_dir()
    engine.dispose()
