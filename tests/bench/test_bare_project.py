"""The bare Rasa project stays comparable with bot/: same intents and entities, same pipeline and
policies, and every intent answered."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BARE = ROOT / "bench/bare_rasa"


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_bare_domain_has_the_same_intents_and_entities() -> None:
    ours_intents, ours_entities = set(), set()
    for path in (ROOT / "bot/domain").glob("*.yml"):
        domain = load(path)
        ours_intents |= set(domain.get("intents") or [])
        ours_entities |= set(domain.get("entities") or [])
    bare = load(BARE / "domain.yml")
    assert set(bare["intents"]) == ours_intents
    assert set(bare["entities"]) == ours_entities


def test_bare_config_has_our_pipeline_and_policies() -> None:
    ours, bare = load(ROOT / "bot/config.yml"), load(BARE / "config.yml")
    assert bare["pipeline"] == ours["pipeline"]
    assert bare["policies"] == ours["policies"]


def test_every_intent_has_a_response_rule_and_story() -> None:
    bare = load(BARE / "domain.yml")
    rules = {r["steps"][0]["intent"]: r["steps"][1]["action"] for r in load(BARE / "data/rules.yml")["rules"]}
    stories = {s["steps"][0]["intent"]: s["steps"][1]["action"] for s in load(BARE / "data/stories.yml")["stories"]}
    for intent in bare["intents"]:
        assert rules[intent] == stories[intent] == f"utter_{intent}"
        assert f"utter_{intent}" in bare["responses"]
    assert rules["nlu_fallback"] in bare["responses"]
    assert "actions" not in bare  # responses only: no custom actions
