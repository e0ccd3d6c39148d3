"""Evenkeel's NLU component: normalized entities and a distress override, with spaCy.

Pipeline entry (bot/config.yml), after DIETClassifier and EntitySynonymMapper and before
FallbackClassifier:

    - name: bot.components.entities.EvenkeelEntityExtractor
      default_timezone: America/New_York

What `process` does to each message:

1. Tokenizes the text with `spacy.blank("en")` (built once in `create`; a few suffix rules
   split `200dollars`, `6mo`, `5k`) and runs a `Matcher` of the token patterns in
   entity_patterns.py. Each match is read by a handler in entity_parsers.py (`EntityFinder`, no
   Rasa there) on top of the pure parsers in numbers.py and dates.py; overlapping matches are
   settled by a fixed priority (full dates, relative dates, explicit plan choices, money, months,
   days of the month, contextual money, plan choices, digit strings, a lone number).
2. Adds entities with normalized values (`extractor: EvenkeelEntityExtractor`,
   `confidence_entity: 1.0`):
   - `amount`: int cents. Needs currency (`$200`, `200 dollars`, `a hundred bucks`,
     `fifty cents`, `5k`) or a paying verb right before the number (`I can pay 310`,
     `i'll do 200`, `payment of 75`). A bare number is never an amount: `4821`, `1985` and
     `78701` alone are not; nor is `pay 2 bills` or `pay at 3pm`.
   - `date`: ISO date in the customer's zone (meanings in dates.py); full dates with a year
     that are not birth dates.
   - `dob`: ISO date for full dates with a year that lie 16-120 years back or come with
     birth words (`born`, `dob`, `birthday`), and keypad `MMDDYYYY`.
   - `card_last4`, `zip`: str digits, typed or spoken, from a digit string of exactly 4 or 5
     digits (ZIP+4 gives its ZIP). Never taken from a longer run such as `4111 1111 1111 1111`
     or a phone number; a 4-digit year after `in`/`since`/`born`... is not a last-4 unless
     the message talks about the card.
   - `months`: int 1-120: `6 months`, `six-month plan`, `the twelve month one`,
     `over a year` (12), `half a year` (6), `a year and a half` (18). Not `3 months behind`.
   - `plan_choice`: "1".."9" or past_due | full | minimum | settlement | hardship. A lone
     `the first`/`the second` (ordinal words 1-9 ending the clause) is ambiguous with a day
     of the month, so both `plan_choice` and `date` are added and the form asking picks (slot
     mappings with `active_loop`/`requested_slot` conditions). A named choice after a
     negation in the same clause (`I can't pay in full`) is not added.
   - `self_harm`: True when distress.py finds self-harm phrasing.
   Entities of these types that an earlier extractor (DIET) put on an overlapping span are
   replaced, so a slot never gets both `200 dollars` and 20000.
3. On any distress or self-harm hit, sets the intent to `distress` with confidence 1.0 and
   puts it first in `intent_ranking`. The earlier ranking follows in its order with its
   confidences halved: FallbackClassifier compares the top two confidences, and an untouched
   0.99 from DIET under our 1.0 would look ambiguous and become nlu_fallback.

Today comes from the message metadata `timezone` (IANA name, sent by our channels), else the
`default_timezone` config key; the clock is `bot.components.dates.utc_now`.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.components import dates
from bot.components.entity_parsers import EntityFinder
from bot.components.entity_patterns import ENTITY_TYPES

logger = logging.getLogger(__name__)

DISTRESS_INTENT = "distress"
DEMOTED_RANKING_FACTOR = 0.5  # safe while FallbackClassifier's ambiguity_threshold < 0.5


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER],
    is_trainable=False,
)
class EvenkeelEntityExtractor(GraphComponent, EntityExtractorMixin, IntentClassifier):
    """Normalized amount/date/dob/card_last4/zip/months/plan_choice/self_harm entities, and
    the `distress` intent override (see the module docstring)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"default_timezone": "America/New_York"}

    @staticmethod
    def supported_languages() -> list[str] | None:
        return ["en"]

    @staticmethod
    def required_packages() -> list[str]:
        return ["spacy"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EvenkeelEntityExtractor:
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        self.component_config = {**self.get_default_config(), **config}
        name = self.component_config["default_timezone"]
        default_zone = dates.zone(name) if isinstance(name, str) else None
        if default_zone is None:
            raise InvalidConfigException(
                f"EvenkeelEntityExtractor: default_timezone {name!r} is not an IANA time zone."
            )
        self._default_zone = default_zone
        self._finder = EntityFinder()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            try:
                findings = self._finder.find(text, self._today(message))
            except Exception as error:
                # The text is not logged: it may hold what the customer should not have typed.
                logger.error("entity extraction failed (%s); message kept without our entities", type(error).__name__)
                continue
            ours = self.add_extractor_name(findings.entities)
            kept = [e for e in message.get(ENTITIES, []) if not _replaced_by(e, ours)]
            message.set(ENTITIES, kept + ours, add_to_output=True)
            if findings.distress:
                _override_intent(message)
                logger.debug(
                    "distress phrasing (%s) found; intent set to %s", findings.distress[0].kind, DISTRESS_INTENT
                )
        return messages

    def _today(self, message: Message) -> date:
        metadata = message.get("metadata") or {}
        name = metadata.get("timezone") if isinstance(metadata, dict) else None
        zone = dates.zone(name) if isinstance(name, str) and name else None
        if name and zone is None:
            logger.warning("Unknown time zone %r in message metadata; using %s.", name, self._default_zone)
        return dates.today_in(zone or self._default_zone)


def _replaced_by(entity: dict[str, Any], ours: list[dict[str, Any]]) -> bool:
    """An entity of one of our types, from another extractor, on a span overlapping ours."""
    if entity.get(ENTITY_ATTRIBUTE_TYPE) not in ENTITY_TYPES:
        return False
    start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
    if start is None or end is None:
        return False
    return any(
        o[ENTITY_ATTRIBUTE_TYPE] == entity[ENTITY_ATTRIBUTE_TYPE]
        and start < o[ENTITY_ATTRIBUTE_END]
        and o[ENTITY_ATTRIBUTE_START] < end
        for o in ours
    )


def _override_intent(message: Message) -> None:
    ranking = [
        {**entry, PREDICTED_CONFIDENCE_KEY: float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0) * DEMOTED_RANKING_FACTOR}
        for entry in message.get(INTENT_RANKING_KEY) or []
        if entry.get(INTENT_NAME_KEY) != DISTRESS_INTENT
    ]
    distress = {INTENT_NAME_KEY: DISTRESS_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
    message.set(INTENT, dict(distress), add_to_output=True)
    message.set(INTENT_RANKING_KEY, [dict(distress), *ranking], add_to_output=True)
