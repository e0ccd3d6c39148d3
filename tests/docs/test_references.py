"""The compliance matrix and the README point at code by `path.py:Name` (a class, a function, a
constant, `Class.method`) and at tests by `path.py::test_name`; a reference that no longer resolves is a rule nobody can find.
This reads the files as text (no import), so it runs in either environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ["docs/compliance.md", "README.md", "docs/benchmarks.md"]
# `some/path.py` or `some/path.py:Name`, `some/path.py:Class.method`; several names may follow
# one path separated by commas or slashes inside the same backticks. Only paths from the root
# (with a folder); a bare `base.py` in a table row is relative to the row's folder.
REFERENCE = re.compile(r"`([\w.-]+/[\w./-]+\.(?:py|yml|toml|html|js|css|md|sh|Dockerfile))(?:::?([\w., /\[\]-]+))?`")
GENERATED = ("results/",)  # written by make bench and make nlu-report


def references() -> list[tuple[str, str, str | None]]:
    found = []
    for document in DOCUMENTS:
        for match in REFERENCE.finditer((ROOT / document).read_text()):
            path, names = match.group(1), match.group(2)
            if path.startswith(GENERATED):
                continue
            if names is None:
                found.append((document, path, None))
                continue
            for name in re.split(r"[,/ ]+", names):
                name = name.split("[")[0]  # a parametrized test's id
                if name:
                    found.append((document, path, name))
    return found


def defines(source: str, dotted: str) -> bool:
    """Every part of `Class.method` is defined (def, async def, class, or an assignment) in the file."""
    for part in dotted.split("."):
        pattern = rf"^\s*(?:async\s+def|def|class)\s+{re.escape(part)}\b|^\s*{re.escape(part)}\s*[:=]"
        if not re.search(pattern, source, flags=re.MULTILINE):
            return False
    return True


@pytest.mark.parametrize(("document", "path", "name"), references(), ids=lambda v: str(v))
def test_each_reference_resolves(document: str, path: str, name: str | None) -> None:
    target = ROOT / path
    assert target.exists(), f"{document} names {path}, which does not exist"
    if name is not None:
        assert defines(target.read_text(), name), f"{document} names {path}:{name}, which {path} does not define"
