from dataclasses import replace
from datetime import date

import pytest

from payments.domain.accounts import NO_COLLECTION_FLAGS, AccountFlag


def test_days_past_due_counts_from_delinquent_since(maria):
    assert maria.days_past_due(date(2026, 3, 2)) == 45


def test_days_past_due_is_zero_for_a_current_account(maria):
    assert replace(maria, delinquent_since=None).days_past_due(date(2026, 3, 2)) == 0


def test_days_past_due_is_never_negative(maria):
    assert maria.days_past_due(date(2026, 1, 1)) == 0


def test_collection_allowed_without_flags(maria):
    assert maria.collection_allowed


@pytest.mark.parametrize(
    "flag",
    [
        AccountFlag.DISPUTE,
        AccountFlag.BANKRUPTCY,
        AccountFlag.ATTORNEY,
        AccountFlag.DECEASED,
        AccountFlag.CEASE_COMMUNICATION,
    ],
)
def test_collection_stops_for_these_flags(maria, flag):
    assert not replace(maria, flags=frozenset({flag, AccountFlag.STOP_SMS})).collection_allowed


@pytest.mark.parametrize("flag", sorted(set(AccountFlag) - NO_COLLECTION_FLAGS))
def test_channel_flags_do_not_stop_collection(maria, flag):
    assert replace(maria, flags=frozenset({flag})).collection_allowed
