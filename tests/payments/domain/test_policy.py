from pathlib import Path

import pytest

from payments.domain.policy import DEFAULT_POLICY_FILE, PlanPolicy, load_policy


def test_default_file_gives_the_design_defaults() -> None:
    assert load_policy() == PlanPolicy()
    assert load_policy(DEFAULT_POLICY_FILE).installment_months == (3, 6, 12)


def test_operator_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    custom = tmp_path / "policy.toml"
    custom.write_text("[installments]\nmonths = [4, 8]\n[settlement]\nlump_sum_percent = 50\n")
    policy = load_policy(custom)
    assert policy.installment_months == (4, 8)
    assert policy.settlement_lump_sum_percent == 50
    assert policy.hardship_months == 6  # untouched default


def test_nonsense_policy_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[settlement]\nlump_sum_percent = 160\n")
    with pytest.raises(ValueError, match="lump_sum_percent"):
        load_policy(bad)


def test_grace_days_and_the_broken_settlement_rule_come_from_the_file(tmp_path: Path) -> None:
    from payments.domain.settlement import BrokenSettlementRule

    assert (load_policy().grace_days, load_policy().settlement_broken) == (10, BrokenSettlementRule.VOID)
    custom = tmp_path / "policy.toml"
    custom.write_text('[installments]\ngrace_days = 5\n[settlement]\nbroken = "void"\n')
    assert load_policy(custom).grace_days == 5


@pytest.mark.parametrize("text", ["[installments]\ngrace_days = 0\n", '[settlement]\nbroken = "keep"\n'])
def test_no_grace_or_an_unknown_broken_rule_is_refused(tmp_path: Path, text: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(ValueError):
        load_policy(bad)
