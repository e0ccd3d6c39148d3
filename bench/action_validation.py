"""How long rasa spends checking one action server answer, the slowest step a profile of the
rasa server under load found (py-spy: about a third of rasa's busy time in our turns).

Rasa 3.6 checks every answer of the action server with `jsonschema.validate(result, schema)`
(rasa/core/actions/action.py, `RemoteAction._validate_action_result`); jsonschema 4 validates the
schema itself against its metaschema on each such call before checking the answer. This times
rasa's own method on a typical answer (two slots and one message, like action_verify_identity's),
the same check with a validator built once, and the method as our rasa server runs it (with
bot/rasa_speedups.py installed, which builds the validator once).

Runs in .venv/rasa: `python -m bench.action_validation` prints JSON."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from jsonschema import validators
from rasa.core.actions.action import RemoteAction

ANSWER = {
    "events": [
        {"event": "slot", "timestamp": None, "name": "verification_status", "value": "verified"},
        {"event": "slot", "timestamp": None, "name": "account_id", "value": "B00001"},
    ],
    "responses": [
        {
            "text": "Thank you, you're verified.",
            "buttons": [],
            "elements": [],
            "custom": {},
            "template": None,
            "response": None,
            "image": None,
            "attachment": None,
        }
    ],
}
ROUNDS = 100


def per_call_ms(check: Callable[[], object], rounds: int = ROUNDS) -> float:
    for _ in range(3):  # imports and caches warm
        check()
    started = time.perf_counter()
    for _ in range(rounds):
        check()
    return round((time.perf_counter() - started) / rounds * 1000, 2)


def main() -> None:
    action = RemoteAction("action_verify_identity", None)
    schema = RemoteAction.action_response_format_spec()
    built_once = validators.validator_for(schema)(schema)
    upstream = per_call_ms(lambda: action._validate_action_result(ANSWER))
    import bot.components  # noqa: F401 - what the rasa server does when it loads our model

    print(
        json.dumps(
            {
                "rasa_validate_ms": upstream,
                "validator_built_once_ms": per_call_ms(lambda: built_once.validate(ANSWER)),
                # What our rasa server pays: bot/rasa_speedups.py, installed with our NLU component.
                "installed_ms": per_call_ms(lambda: action._validate_action_result(ANSWER)),
            }
        )
    )


if __name__ == "__main__":
    main()
