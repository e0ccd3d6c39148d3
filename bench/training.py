"""Training for the benchmark: the bare model (bench/bare_rasa), retrained only when its inputs
change, and an optional timed cold training of the real model into a temporary folder.

Both train with Rasa's cache off (RASA_MAX_CACHE_SIZE=0), so the time is a full training, not a
cache hit, and neither touches models/ or the cache that `make model` uses."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.processes import BARE_PROJECT
from testkit.processes import ROOT
from testkit.stack import RASA_BIN

BARE_MODEL = ROOT / "var/bench/bare.tar.gz"
BARE_RECORD = ROOT / "var/bench/bare_training.json"  # {"inputs": sha256, "seconds": ..., "trained_at": ...}


def bare_inputs_digest() -> str:
    """Everything the bare model is trained from: its project, the NLU data, our NLU component."""
    digest = hashlib.sha256()
    files = [
        *BARE_PROJECT.rglob("*.yml"),
        *(ROOT / "data/nlu").rglob("*.yml"),
        *(ROOT / "bot/components").rglob("*.py"),
    ]
    for path in sorted(files):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def rasa_train(config: Path, domain: Path, data: list[Path], out_dir: Path, name: str) -> float:
    """`rasa train` without the cache; seconds taken. Raises CalledProcessError with its output."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "RASA_MAX_CACHE_SIZE": "0",
    }
    started = time.monotonic()
    completed = subprocess.run(
        [
            str(RASA_BIN / "rasa"),
            "train",
            "--config",
            str(config),
            "--domain",
            str(domain),
            "--data",
            *map(str, data),
            "--out",
            str(out_dir),
            "--fixed-model-name",
            name,
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"rasa train failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    return time.monotonic() - started


def ensure_bare_model() -> dict[str, Any]:
    """Train var/bench/bare.tar.gz when its inputs changed; the record of its last training."""
    digest = bare_inputs_digest()
    record = json.loads(BARE_RECORD.read_text()) if BARE_RECORD.exists() else {}
    if BARE_MODEL.exists() and record.get("inputs") == digest:
        return {**record, "trained_now": False}
    print("[bench] training the bare model (bench/bare_rasa, about 2 minutes)...", flush=True)
    BARE_MODEL.parent.mkdir(parents=True, exist_ok=True)
    seconds = rasa_train(
        BARE_PROJECT / "config.yml",
        BARE_PROJECT / "domain.yml",
        [ROOT / "data/nlu", BARE_PROJECT / "data"],
        BARE_MODEL.parent,
        "bare",
    )
    record = {"inputs": digest, "seconds": round(seconds, 1), "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    BARE_RECORD.write_text(json.dumps(record, indent=2))
    print(f"[bench] bare model trained in {seconds:.0f} s", flush=True)
    return {**record, "trained_now": True}


def time_real_training() -> dict[str, Any]:
    """A cold `rasa train` of bot/ + data/ into a temporary folder (models/ is left alone)."""
    print("[bench] timing a full training of the real model (about 5 minutes on 2 cores)...", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        seconds = rasa_train(ROOT / "bot/config.yml", ROOT / "bot/domain", [ROOT / "data"], Path(tmp), "timed")
        size = Path(tmp, "timed.tar.gz").stat().st_size
    print(f"[bench] real model trained in {seconds:.0f} s", flush=True)
    return {"seconds": round(seconds, 1), "model_bytes": size}
