import pytest

from payments import cli
from payments.config import get_settings


@pytest.fixture
def env_database(database_url, monkeypatch):
    """`python -m payments` reads DATABASE_URL through the cached settings."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_setup_migrates_and_seeds_once(env_database, capsys):
    assert cli.main(["setup"]) == 0
    assert cli.main(["setup"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "seeded the demo agent: sam / evenkeel-demo-agent (sign in at /console)",
        "seeded 5 demo account(s)",
        "seeded 0 demo account(s)",
    ]


def test_migrate_then_seed(env_database, capsys):
    assert cli.main(["migrate"]) == 0
    assert capsys.readouterr().out == ""
    assert cli.main(["seed"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "seeded 5 demo account(s)"


def test_production_seeds_no_demo_agent(env_database, capsys, monkeypatch):
    monkeypatch.setattr(
        cli,
        "get_settings",
        lambda: cli.Settings.model_construct(
            **{**cli.Settings(_env_file=None).model_dump(), "evenkeel_env": "production", "database_url": env_database}
        ),
    )
    assert cli.main(["setup"]) == 0
    assert capsys.readouterr().out == "seeded 5 demo account(s)\n"


def test_add_agent_then_sign_in(env_database, capsys, monkeypatch):
    monkeypatch.setenv("AGENT_PASSWORD", "correct horse battery")
    assert cli.main(["migrate"]) == 0
    assert cli.main(["add-agent", "Lee", "--name", "Lee"]) == 0
    assert capsys.readouterr().out == "agent Lee added\n"
    with pytest.raises(SystemExit, match="agent lee exists"):
        cli.main(["add-agent", "lee", "--name", "Lee"])
    monkeypatch.setenv("AGENT_PASSWORD", "short")
    with pytest.raises(SystemExit, match="at least 10 characters"):
        cli.main(["add-agent", "kim", "--name", "Kim"])


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["drop"])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
