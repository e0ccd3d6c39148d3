"""contracts/names.py is what the domain files and the payments service declare: every intent
triggered from outside is an intent of `bot/domain/*.yml`, and every flag, pause reason, report
kind, handoff reason, end reason and medium is the payments domain's own spelling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from contracts import names
from payments.domain.accounts import AccountFlag
from payments.domain.compliance import HandoffReason, Medium
from payments.domain.standing import PauseReason, ReportKind
from payments.services.verification import END_REASONS

DOMAIN = Path(__file__).resolve().parents[2] / "bot" / "domain"


def domain_intents() -> set[str]:
    intents: set[str] = set()
    for path in sorted(DOMAIN.glob("*.yml")):
        declared: list[Any] = (yaml.safe_load(path.read_text()) or {}).get("intents") or []
        for intent in declared:  # a name, or {name: {use_entities: ...}}
            intents.update([intent] if isinstance(intent, str) else intent)
    return intents


def test_every_external_intent_is_declared_in_the_domain() -> None:
    missing = set(names.EXTERNAL_INTENTS) - domain_intents()
    assert not missing


def test_external_intents_are_unique() -> None:
    assert len(set(names.EXTERNAL_INTENTS)) == len(names.EXTERNAL_INTENTS)


def test_pause_reasons_are_the_standings_in_its_order() -> None:
    assert names.PAUSE_REASONS == tuple(PauseReason)


def test_pause_reasons_by_flag_are_the_standings() -> None:
    from payments.domain.standing import _FLAG_REASONS

    assert names.PAUSE_REASON_BY_FLAG == {str(flag): str(reason) for flag, reason in _FLAG_REASONS.items()}


def test_each_group_lists_its_values() -> None:
    assert names.EXTERNAL_INTENTS[0] == names.ExternalIntent.PAYMENT_SUCCEEDED
    assert names.PAUSE_REASONS[-1] == names.PauseReason.SETTLED == "settled"
    assert len(names.FLAGS) == 10 and names.Flag.STOP_EMAIL in names.FLAGS


def test_flags_report_kinds_handoff_reasons_and_media_are_the_services() -> None:
    assert set(names.FLAGS) == set(AccountFlag)
    assert set(names.REPORT_KINDS) == set(ReportKind)
    assert set(names.HANDOFF_REASONS) == set(HandoffReason)
    assert set(names.MEDIA) == set(Medium)
    assert names.END_REASONS == END_REASONS


def test_reported_by_is_what_the_reports_route_takes() -> None:
    from typing import get_args

    from payments.api.compliance_schemas import ReportRequest

    assert set(names.REPORTED_BY) == set(get_args(ReportRequest.model_fields["reported_by"].annotation))
