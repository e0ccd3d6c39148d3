"""scripts/train_output.py: which lines of `rasa train`'s output `make model` shows.

The sample lines are copied from Rasa 3.6.21's real output (colour codes included): the reset
code of one warning starts the line of the next."""

from __future__ import annotations

from scripts.train_output import DEPRECATIONS, INTENTS, RESPONSES, Explained, explained_names, filter_output

SITE = "/work/main/.venv/rasa/lib/python3.10/site-packages"
Y, RESET = "\x1b[93m", "\x1b[0m"
EXPLAINED = Explained(frozenset({"utter_goodbye", "utter_ask_dob"}), frozenset({"payment_succeeded"}))


def unused(response: str) -> str:
    return f"{Y}{SITE}/rasa/shared/utils/io.py:100: UserWarning: The utterance '{response}' is not used in any story or rule."


def untrained(intent: str) -> str:
    return (
        f"{Y}{SITE}/rasa/shared/utils/io.py:100: UserWarning: The intent '{intent}' is listed in the domain file, "
        "but is not found in the NLU training data."
    )


def test_explained_responses_and_intents_are_hidden_and_counted() -> None:
    lines = [unused("utter_goodbye"), RESET + unused("utter_ask_dob"), RESET + untrained("payment_succeeded"), RESET]
    result = filter_output(lines, EXPLAINED)
    assert result.shown == []
    assert result.hidden == {RESPONSES: 2, INTENTS: 1}
    assert result.summary() == (
        "3 known warnings hidden (2 responses sent by custom actions or forms, 1 intents triggered by the payments service)"
    )


def test_an_unexplained_response_or_intent_is_shown_without_colour_codes() -> None:
    lines = [unused("utter_nobody_sends_this"), RESET + untrained("typed_by_customers"), RESET]
    result = filter_output(lines, EXPLAINED)
    assert result.shown == [
        unused("utter_nobody_sends_this").removeprefix(Y),
        untrained("typed_by_customers").removeprefix(Y),
    ]
    assert not result.hidden


def test_a_library_deprecation_warning_is_hidden_with_its_message_and_source_lines() -> None:
    lines = [
        f"{SITE}/rasa/shared/utils/validation.py:134: DeprecationWarning: pkg_resources is deprecated as an API.",
        "  import pkg_resources",
        f"{SITE}/pkg_resources/__init__.py:3117: DeprecationWarning: Deprecated call to `declare_namespace('ruamel')`.",
        "Implementing implicit namespace packages (as specified in PEP 420) is preferred.",
        "  declare_namespace(pkg)",
        "Your Rasa model is trained and saved at 'models/evenkeel.tar.gz'.",
    ]
    result = filter_output(lines, EXPLAINED)
    assert result.shown == ["Your Rasa model is trained and saved at 'models/evenkeel.tar.gz'."]
    assert result.hidden == {DEPRECATIONS: 2}


def test_other_warnings_errors_and_the_lines_after_a_warning_are_shown() -> None:
    lines = [
        f"{Y}{SITE}/rasa/shared/utils/io.py:100: UserWarning: Slot 'amount' has no mapping.",
        f"{RESET}  More info at https://rasa.com/docs/rasa/domain",
        "/work/main/bot/components/amounts.py:12: DeprecationWarning: our own code is not hidden",
        "  old_call()",
        unused("utter_goodbye"),
        RESET + "Traceback (most recent call last):",
        '  File "x.py", line 1, in <module>',
        "ValueError: boom",
    ]
    result = filter_output(lines, EXPLAINED)
    assert result.shown == [
        f"{SITE}/rasa/shared/utils/io.py:100: UserWarning: Slot 'amount' has no mapping.",
        "  More info at https://rasa.com/docs/rasa/domain",
        "/work/main/bot/components/amounts.py:12: DeprecationWarning: our own code is not hidden",
        "  old_call()",
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in <module>',
        "ValueError: boom",
    ]
    assert result.hidden == {RESPONSES: 1}


def test_a_hidden_warning_never_swallows_the_line_after_it() -> None:
    lines = [unused("utter_goodbye"), RESET + "Training finished.", "Nothing changed."]
    result = filter_output(lines, EXPLAINED)
    assert result.shown == ["Training finished.", "Nothing changed."]
    assert filter_output([], EXPLAINED).summary() == ""


def test_explained_names_come_from_actions_names_and_the_forms() -> None:
    explained = explained_names()
    assert "utter_ask_card_last4" in explained.responses  # verification_form's question
    assert "utter_verification_failed" in explained.responses  # sent by a custom action
    assert "payment_succeeded" in explained.intents


def test_a_deprecation_subclass_inside_a_library_is_hidden_too() -> None:
    lines = [
        f"{SITE}/packaging/requirements.py:94: PyparsingDeprecationWarning: 'parseString' deprecated",
        '  REQUIREMENT.parseString("x[]")',
    ]
    assert filter_output(lines, EXPLAINED).hidden == {DEPRECATIONS: 1}
