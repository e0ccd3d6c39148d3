from __future__ import annotations

import pytest

from bot.components.entity_parsers import EntityFinder


@pytest.fixture(scope="session")
def finder() -> EntityFinder:
    """Built once: a spaCy pipeline with its matchers, as the component builds in `create`."""
    return EntityFinder()
