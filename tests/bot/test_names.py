"""The names Python uses (actions/names.py) must exist in the domain: `rasa data validate` does
not read Python, so a typo would only show up in a live conversation."""

from __future__ import annotations

from rasa.shared.core.domain import Domain

from actions import names


def constants(prefix: str) -> dict[str, str]:
    return {k: v for k, v in vars(names).items() if k.startswith(prefix) and isinstance(v, str)}


def test_every_response_exists(domain: Domain) -> None:
    missing = {k: v for k, v in constants("UTTER_").items() if v not in domain.responses}
    assert not missing


def test_every_action_exists(domain: Domain) -> None:
    declared = set(domain.user_actions) | set(domain.form_names)
    missing = {k: v for k, v in {**constants("ACTION_"), **constants("VALIDATE_")}.items() if v not in declared}
    assert not missing


def test_every_slot_and_form_exists(domain: Domain) -> None:
    slots = {s.name for s in domain.slots}
    for value in (
        names.CARD_LAST4,
        names.DOB,
        names.ZIP,
        names.VERIFICATION_STATUS,
        names.ACCOUNT_ID,
        names.VERIFICATION_SESSION,
    ):
        assert value in slots
    assert names.VERIFICATION_FORM in domain.form_names


def test_identity_slots_cannot_be_set_from_what_a_customer_types(domain: Domain) -> None:
    """The verification status, account and session (C2) are set only by action_verify_identity:
    no mapping from an entity or text, and the session never steers the dialogue."""
    for slot in domain.slots:
        if slot.name in (names.VERIFICATION_STATUS, names.ACCOUNT_ID, names.VERIFICATION_SESSION):
            assert [m["type"] for m in slot.mappings] == ["custom"], slot.name
    [session] = [s for s in domain.slots if s.name == names.VERIFICATION_SESSION]
    assert session.influence_conversation is False


def test_verification_status_values_match(domain: Domain) -> None:
    [slot] = [s for s in domain.slots if s.name == names.VERIFICATION_STATUS]
    assert {names.VERIFIED, names.RETRY, names.LOCKED} <= set(slot.values)


def test_actions_are_registered_by_the_action_server() -> None:
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    expected = set(constants("ACTION_").values()) | set(constants("VALIDATE_").values())
    assert expected <= set(executor.actions)
