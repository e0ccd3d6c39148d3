"""The faster check of action server answers behaves exactly like Rasa's own."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

import bot.components  # noqa: F401 - installs the speed-up, as loading the model does
from bot import rasa_speedups

GOOD = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "timestamp": None, "name": "account_id", "value": "A1001"}],
        "responses": [{"text": "Thank you, you're verified.", "buttons": []}],
    },
    {},
]
BAD = [
    {"events": "not a list"},
    {"events": [{"event": "slot", "name": 3}]},
    {"events": [{"no_event_key": True}]},
    {"responses": [1]},
    [],
]


def test_loading_our_component_installs_it() -> None:
    assert RemoteAction._validate_action_result is rasa_speedups._validate_action_result


@pytest.mark.parametrize("answer", GOOD)
def test_good_answers_pass_as_with_rasa(answer) -> None:
    action = RemoteAction("action_x", None)
    assert rasa_speedups._original(action, answer) is True
    assert action._validate_action_result(answer) is True


@pytest.mark.parametrize("answer", BAD)
def test_bad_answers_fail_with_rasas_error_and_hint(answer) -> None:
    action = RemoteAction("action_x", None)
    with pytest.raises(ValidationError) as theirs:
        rasa_speedups._original(action, answer)
    with pytest.raises(ValidationError) as ours:
        action._validate_action_result(answer)
    assert ours.value.message == theirs.value.message
    assert "Failed to validate Action server response" in ours.value.message
