"""EvenkeelEntityExtractor as Rasa runs it: created by the graph, `process` on Messages."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from rasa.engine import validation
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.recipe import Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.utils.io import read_yaml_file

from bot.components import dates
from bot.components.entities import EvenkeelEntityExtractor

ROOT = Path(__file__).resolve().parents[3]
COMPONENT = "bot.components.entities.EvenkeelEntityExtractor"
# 03:30 UTC on Wednesday March 11: still Tuesday March 10 in New York, Wednesday in Tokyo.
NOW = datetime(2026, 3, 11, 3, 30, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dates, "utc_now", lambda: NOW)


def create(tmp_path: Path, **config: Any) -> EvenkeelEntityExtractor:
    return EvenkeelEntityExtractor.create(
        {**EvenkeelEntityExtractor.get_default_config(), **config},
        LocalModelStorage(tmp_path),
        Resource("x"),
        ExecutionContext(GraphSchema({}), "1"),
    )


@pytest.fixture(scope="module")
def component(tmp_path_factory: pytest.TempPathFactory) -> EvenkeelEntityExtractor:
    return create(tmp_path_factory.mktemp("model"))


def message(text: str, metadata: dict | None = None, **data: Any) -> Message:
    """A message as NLUMessageConverter builds it (text, message_id, metadata), plus what the
    classifiers before us would have set."""
    return Message(data={"text": text, "message_id": "m1", "metadata": metadata, **data})


def parsed(component: EvenkeelEntityExtractor, msg: Message) -> dict:
    component.process([msg])
    return msg.as_dict(only_output_properties=True)


def diet_intent(name: str, confidence: float, *others: tuple[str, float]) -> dict:
    ranking = [{"name": name, "confidence": confidence}] + [{"name": n, "confidence": c} for n, c in others]
    return {"intent": {"name": name, "confidence": confidence}, "intent_ranking": ranking}


def test_entities_have_normalized_values_and_rasa_shape(component: EvenkeelEntityExtractor) -> None:
    out = parsed(
        component, message("I can pay $200 on the 15th, card 4821, zip 78701", {"timezone": "America/New_York"})
    )
    assert out["entities"] == [
        {
            "entity": "amount",
            "value": 20000,
            "start": 10,
            "end": 14,
            "confidence_entity": 1.0,
            "extractor": "EvenkeelEntityExtractor",
        },
        {
            "entity": "date",
            "value": "2026-03-15",
            "start": 18,
            "end": 26,
            "confidence_entity": 1.0,
            "extractor": "EvenkeelEntityExtractor",
        },
        {
            "entity": "card_last4",
            "value": "4821",
            "start": 33,
            "end": 37,
            "confidence_entity": 1.0,
            "extractor": "EvenkeelEntityExtractor",
        },
        {
            "entity": "zip",
            "value": "78701",
            "start": 43,
            "end": 48,
            "confidence_entity": 1.0,
            "extractor": "EvenkeelEntityExtractor",
        },
    ]


@pytest.mark.parametrize(
    ("metadata", "today"),
    [
        ({"timezone": "America/New_York"}, "2026-03-10"),
        ({"timezone": "America/Los_Angeles"}, "2026-03-10"),
        ({"timezone": "Asia/Tokyo"}, "2026-03-11"),
        ({"timezone": "Not/AZone"}, "2026-03-10"),  # unknown: the default zone
        ({"timezone": 42}, "2026-03-10"),
        ({}, "2026-03-10"),
        (None, "2026-03-10"),
    ],
)
def test_today_is_the_customers_today(component: EvenkeelEntityExtractor, metadata: dict | None, today: str) -> None:
    out = parsed(component, message("today", metadata))
    assert [e["value"] for e in out["entities"]] == [today]


def test_default_timezone_is_configurable(tmp_path: Path) -> None:
    tokyo = create(tmp_path, default_timezone="Asia/Tokyo")
    assert [e["value"] for e in parsed(tokyo, message("tomorrow"))["entities"]] == ["2026-03-12"]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", None])
def test_a_bad_default_timezone_fails_at_creation(tmp_path: Path, zone: Any) -> None:
    with pytest.raises(InvalidConfigException):
        create(tmp_path, default_timezone=zone)


def test_self_harm_overrides_the_intent_and_keeps_the_ranking(component: EvenkeelEntityExtractor) -> None:
    msg = message("I'm not going to kill myself, I just can't pay", **diet_intent("deny", 0.98, ("inform", 0.02)))
    out = parsed(component, msg)
    assert out["intent"] == {"name": "distress", "confidence": 1.0}
    assert out["intent_ranking"] == [
        {"name": "distress", "confidence": 1.0},
        {"name": "deny", "confidence": pytest.approx(0.49)},
        {"name": "inform", "confidence": pytest.approx(0.01)},
    ]
    assert [(e["entity"], e["value"]) for e in out["entities"]] == [("self_harm", True)]


def test_general_distress_overrides_the_intent_without_self_harm(component: EvenkeelEntityExtractor) -> None:
    out = parsed(component, message("I'm falling apart", **diet_intent("dispute", 0.7, ("hardship", 0.3))))
    assert out["intent"] == {"name": "distress", "confidence": 1.0}
    assert [r["name"] for r in out["intent_ranking"]] == ["distress", "dispute", "hardship"]
    assert [e for e in out["entities"] if e["entity"] == "self_harm"] == []


def test_distress_already_ranked_by_diet_is_not_listed_twice(component: EvenkeelEntityExtractor) -> None:
    out = parsed(component, message("i wanna die", **diet_intent("distress", 0.6, ("greet", 0.4))))
    assert [r["name"] for r in out["intent_ranking"]] == ["distress", "greet"]


def test_distress_without_an_earlier_classifier(component: EvenkeelEntityExtractor) -> None:
    out = parsed(component, message("kms"))
    assert out["intent"] == {"name": "distress", "confidence": 1.0}
    assert out["intent_ranking"] == [{"name": "distress", "confidence": 1.0}]


@pytest.mark.parametrize("diet_confidence", [0.2, 0.5, 0.999])
def test_fallback_classifier_after_us_never_turns_distress_into_nlu_fallback(
    component: EvenkeelEntityExtractor, diet_confidence: float
) -> None:
    """Our config's FallbackClassifier: threshold 0.45, ambiguity_threshold 0.1. An untouched
    DIET 0.999 next to our 1.0 would look ambiguous; a 0.2 would look unsure."""
    config = read_yaml_file(ROOT / "bot/config.yml")
    fallback_config = next(c for c in config["pipeline"] if c["name"] == "FallbackClassifier")
    fallback = FallbackClassifier.create(
        {**FallbackClassifier.get_default_config(), **{k: v for k, v in fallback_config.items() if k != "name"}},
        None,
        Resource("f"),
        ExecutionContext(GraphSchema({}), "1"),
    )
    msg = message("I can't go on", **diet_intent("deny", diet_confidence, ("affirm", 1 - diet_confidence)))
    fallback.process(component.process([msg]))
    assert msg.get("intent") == {"name": "distress", "confidence": 1.0}


def test_an_ordinary_message_keeps_its_intent(component: EvenkeelEntityExtractor) -> None:
    intent = diet_intent("make_payment", 0.9, ("inform", 0.1))
    msg = message("I'm killing it at work, I can pay $200 friday", **copy.deepcopy(intent))
    out = parsed(component, msg)
    assert msg.get("intent") == intent["intent"] and msg.get("intent_ranking") == intent["intent_ranking"]
    assert [(e["entity"], e["value"]) for e in out["entities"]] == [("amount", 20000), ("date", "2026-03-13")]


def test_our_entities_replace_overlapping_ones_of_the_same_type(component: EvenkeelEntityExtractor) -> None:
    """DIET's raw `200 dollars` would give a slot two values; its other entities stay."""
    diet = [
        {"entity": "amount", "value": "200 dollars", "start": 10, "end": 21, "extractor": "DIETClassifier"},
        {"entity": "payment_id", "value": "p1", "start": 0, "end": 1, "extractor": "DIETClassifier"},
        {"entity": "date", "value": "someday", "start": 40, "end": 47, "extractor": "DIETClassifier"},
    ]
    out = parsed(component, message("I can pay 200 dollars", entities=copy.deepcopy(diet)))
    assert [(e["entity"], e["value"], e["extractor"]) for e in out["entities"]] == [
        ("payment_id", "p1", "DIETClassifier"),
        ("date", "someday", "DIETClassifier"),
        ("amount", 20000, "EvenkeelEntityExtractor"),
    ]


@pytest.mark.parametrize("text", ["", None])
def test_messages_without_text_are_left_alone(component: EvenkeelEntityExtractor, text: str | None) -> None:
    msg = Message(data={"text": text, "intent": {"name": "greet", "confidence": 0.9}})
    before = copy.deepcopy(msg.data)
    assert component.process([msg]) == [msg]
    assert msg.data == before


def test_a_batch_is_processed_message_by_message(component: EvenkeelEntityExtractor) -> None:
    batch = [message("$5"), message("78701"), message("hello")]
    component.process(batch)
    assert [[e["value"] for e in m.get("entities", [])] for m in batch] == [[500], ["78701"], []]


def test_the_pipeline_entry_validates_in_our_config() -> None:
    """bot/config.yml with our entry between EntitySynonymMapper and FallbackClassifier builds
    and passes Rasa's graph validation (component lookup by module path, registration,
    `create`/`process` signatures, languages, packages)."""
    config = read_yaml_file(ROOT / "bot/config.yml")
    pipeline = [c for c in config["pipeline"] if c["name"] != COMPONENT]
    position = next(i for i, c in enumerate(pipeline) if c["name"] == "FallbackClassifier")
    pipeline.insert(position, {"name": COMPONENT, "default_timezone": "America/New_York"})
    config["pipeline"] = pipeline
    recipe = Recipe.recipe_for_name(config.get("recipe"))
    model_configuration = recipe.graph_config_for_recipe(config, {})
    validation.validate(model_configuration)
    nodes = model_configuration.predict_schema.nodes
    ours = next(name for name, node in nodes.items() if node.uses is EvenkeelEntityExtractor)
    fallback = next(name for name, node in nodes.items() if node.uses is FallbackClassifier)
    assert nodes[fallback].needs["messages"] == ours


def test_an_extraction_error_keeps_the_message_and_logs_no_text(
    component: EvenkeelEntityExtractor, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(text: str, today: object) -> None:
        raise ValueError(f"cannot read {text}")

    monkeypatch.setattr(component._finder, "find", explode)
    msg = message("my card is 4242424242424242")
    [out] = component.process([msg])
    assert out.get("text") == "my card is 4242424242424242"
    assert "4242" not in caplog.text and "entity extraction failed (ValueError)" in caplog.text
