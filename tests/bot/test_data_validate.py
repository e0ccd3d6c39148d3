"""`rasa data validate` must give no warnings except two kinds we can prove harmless (Rasa 3.6's
validator has no way to declare them; rasa/validator.py):
- a response reported unused because only a custom action or a form sends it: it must be named
  in actions/names.py or be a form's `utter_ask_<slot>`;
- an intent without training examples because the payments service triggers it
  (`trigger_intent`): it must be in `names.EXTERNAL_INTENTS`. Training it from text would let
  a customer type "payment succeeded"."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from rasa.shared.core.domain import Domain

from actions import names

ROOT = Path(__file__).resolve().parents[2]
UNUSED_RESPONSE = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule\.")
UNTRAINED_INTENT = re.compile(r"The intent '(\w+)' is listed in the domain file, but is not found in the NLU")


def run_validate() -> subprocess.CompletedProcess[str]:
    rasa = Path(sys.executable).parent / "rasa"
    return subprocess.run(
        [str(rasa), "data", "validate", "--domain", "bot/domain", "--data", "data", "--config", "bot/config.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"},
        timeout=300,
    )


def test_data_validates_with_no_unexplained_warnings(domain: Domain) -> None:
    result = run_validate()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output

    sent_from_python = {v for k, v in vars(names).items() if k.startswith("UTTER_")}
    form_questions = {f"utter_ask_{slot}" for form in domain.forms.values() for slot in form["required_slots"]}
    warnings = [line for line in output.splitlines() if "UserWarning" in line or " WARNING " in line]
    unexplained = []
    for line in warnings:
        match = UNUSED_RESPONSE.search(line)
        if match and match.group(1) in sent_from_python | form_questions:
            continue
        match = UNTRAINED_INTENT.search(line)
        if match and match.group(1) in names.EXTERNAL_INTENTS:
            continue
        unexplained.append(line)
    assert not unexplained, "\n".join(unexplained)
