"""`rasa test` on tests/test_stories.yml (every capability of the assistant) with the trained
model: no prediction errors, neither intents (the stories carry real customer text) nor actions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models/evenkeel.tar.gz"


def test_test_stories_have_no_prediction_errors(tmp_path: Path) -> None:
    if not MODEL.exists():
        pytest.fail("no trained model: run `make model` (make test does)")
    rasa = Path(sys.executable).parent / "rasa"
    result = subprocess.run(
        [
            str(rasa),
            "test",
            "core",
            "--model",
            str(MODEL),
            "--stories",
            "tests/test_stories.yml",
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
            "--no-plot",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT)},
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:] + "\n" + details
    assert "story_report.json" in {p.name for p in tmp_path.iterdir()}
