"""The account's standing (contract C4) from its flags, reports, plan and promise."""

from dataclasses import replace
from datetime import date

import pytest

from payments.domain.accounts import Account, AccountFlag, AccountStatus
from payments.domain.compliance import Medium
from payments.domain.money import Money
from payments.domain.standing import (
    ActivePlan,
    MediumUse,
    NextInstallment,
    PauseReason,
    Purpose,
    ReportKind,
    compute_standing,
    plan_kind,
)


def test_a_healthy_account_may_collect_on_every_medium(maria: Account):
    standing = compute_standing(maria)
    assert standing.collection_allowed and standing.pause_reasons == ()
    assert standing.status == "open"
    assert all(standing.media[m] is MediumUse.COLLECTION for m in Medium)
    assert standing.may(Medium.SMS, Purpose.COLLECTION) and standing.may("voice", "notice")


@pytest.mark.parametrize(
    ("flag", "reason", "use"),
    [
        (AccountFlag.BANKRUPTCY, PauseReason.BANKRUPTCY, MediumUse.NOTICE_ONLY),
        (AccountFlag.DISPUTE, PauseReason.DISPUTE, MediumUse.NOTICE_ONLY),
        (AccountFlag.HARDSHIP_HOLD, PauseReason.HARDSHIP_HOLD, MediumUse.NOTICE_ONLY),
        (AccountFlag.ATTORNEY, PauseReason.ATTORNEY, MediumUse.NONE),
        (AccountFlag.DECEASED, PauseReason.DECEASED, MediumUse.NONE),
        (AccountFlag.CEASE_COMMUNICATION, PauseReason.CEASE, MediumUse.NONE),
    ],
)
def test_each_pausing_flag_names_its_reason_and_limits_every_medium(maria, flag, reason, use):
    standing = compute_standing(replace(maria, flags=frozenset({flag})))
    assert not standing.collection_allowed and standing.pause_reasons == (reason,)
    assert {standing.media[m] for m in Medium} == {use}
    assert not any(standing.may(m, Purpose.COLLECTION) for m in Medium)
    assert all(standing.may(m, Purpose.NOTICE) for m in Medium) is (use is MediumUse.NOTICE_ONLY)


def test_a_pending_report_pauses_collection_until_reviewed(maria):
    standing = compute_standing(maria, pending_reports=[ReportKind.DECEASED])
    assert standing.pause_reasons == (PauseReason.PENDING_REVIEW,)
    assert standing.media[Medium.SMS] is MediumUse.NOTICE_ONLY


def test_a_settled_account_is_settled_and_paused(maria):
    standing = compute_standing(replace(maria, status=AccountStatus.SETTLED, balance=Money(0)))
    assert standing.status == "settled" and standing.pause_reasons == (PauseReason.SETTLED,)


def test_reasons_come_in_one_order(maria):
    flags = frozenset({AccountFlag.DISPUTE, AccountFlag.BANKRUPTCY, AccountFlag.ATTORNEY})
    standing = compute_standing(replace(maria, flags=flags), pending_reports=[ReportKind.CEASE])
    assert standing.pause_reasons == (
        PauseReason.BANKRUPTCY,
        PauseReason.DISPUTE,
        PauseReason.ATTORNEY,
        PauseReason.PENDING_REVIEW,
    )


@pytest.mark.parametrize(
    ("flag", "medium"),
    [
        (AccountFlag.STOP_SMS, Medium.SMS),
        (AccountFlag.STOP_VOICE, Medium.VOICE),
        (AccountFlag.STOP_EMAIL, Medium.EMAIL),
    ],
)
def test_an_opt_out_silences_only_its_medium(maria, flag, medium):
    standing = compute_standing(replace(maria, flags=frozenset({flag})))
    assert standing.collection_allowed
    assert standing.media[medium] is MediumUse.NONE
    assert all(standing.media[m] is MediumUse.COLLECTION for m in Medium if m is not medium)
    assert not standing.may(medium, Purpose.NOTICE)


def test_a_wrong_number_silences_the_phone_not_email(maria):
    standing = compute_standing(replace(maria, flags=frozenset({AccountFlag.WRONG_NUMBER})))
    assert (standing.media[Medium.SMS], standing.media[Medium.VOICE], standing.media[Medium.EMAIL]) == (
        MediumUse.NONE,
        MediumUse.NONE,
        MediumUse.COLLECTION,
    )


def test_the_plan_and_promise_are_carried(maria):
    plan = ActivePlan("PLN-AAAAAA", "installments", "active", NextInstallment(Money(5170), date(2026, 12, 10)))
    standing = compute_standing(maria, active_plan=plan)
    assert standing.active_plan == plan and standing.pending_promise is None


@pytest.mark.parametrize(
    ("stored", "kind"),
    [
        ("installments_3", "installments"),
        ("settlement_lump", "settlement"),
        ("settlement_3", "settlement"),
        ("hardship_12", "hardship"),
        ("pay_past_due", "installments"),
    ],
)
def test_plan_kinds_in_c4_spelling(stored, kind):
    assert plan_kind(stored) == kind


@pytest.mark.parametrize("kind", list(ReportKind))
def test_each_report_kind_confirms_into_a_pausing_flag(kind):
    from payments.domain.accounts import NO_COLLECTION_FLAGS

    assert kind.flag in NO_COLLECTION_FLAGS
