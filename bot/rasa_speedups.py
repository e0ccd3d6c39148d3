"""One measured fix to Rasa 3.6 itself, installed when the rasa server loads our NLU component
(bot/components/__init__.py), so it is on wherever the model runs.

Rasa checks every answer of the action server with `jsonschema.validate(result, schema)`
(`RemoteAction._validate_action_result`). jsonschema 4 first validates the schema itself against
its metaschema on every such call: 19 ms per answer on a 2-core machine, about a third of the
rasa server's busy time in our turns and the slowest step of a turn (`make bench`,
bench/action_validation.py). The schema is a constant, so its validator is built (and the
schema checked) once; answers are checked exactly as before: the same best-matching error, with
Rasa's own hint appended.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema import exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_original = RemoteAction._validate_action_result


@lru_cache(maxsize=1)
def _answer_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's check of an action server answer, with the validator built once."""
    error = exceptions.best_match(_answer_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    """Idempotent."""
    RemoteAction._validate_action_result = _validate_action_result
