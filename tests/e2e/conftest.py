from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from testkit.stack import MODEL, ROOT, Stack


@pytest.fixture(scope="session")
def trained_model() -> None:
    """Train once per run, and only if data or config changed (make tracks the files)."""
    subprocess.run(["make", "-s", "model"], cwd=ROOT, check=True)
    assert MODEL.exists()


@pytest.fixture(scope="module")
def stack(trained_model: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A fresh stack and freshly seeded database per test module: modules that take payments
    cannot change the amounts another module asserts."""
    running = Stack(tmp_path_factory.mktemp("stack"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


from tests.e2e.browser import browser  # noqa: E402, F401 - the module-scoped Chromium fixture
