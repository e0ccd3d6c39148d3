"""NLU cross-validation report: F1 per intent (`make nlu-report`, part of `make bench`).

Runs `rasa test nlu --cross-validation` on data/nlu with bot/config.yml and writes
results/nlu_report.md and results/nlu_report.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RASA = ROOT / ".venv/rasa/bin/rasa"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "results"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        subprocess.run(
            [
                str(RASA),
                "test",
                "nlu",
                "--nlu",
                "data/nlu",
                "--config",
                "bot/config.yml",
                "--cross-validation",
                "--folds",
                str(args.folds),
                "--out",
                tmp,
                "--no-plot",
            ],
            cwd=ROOT,
            check=True,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT)},
        )
        seconds = time.monotonic() - started
        report = json.loads(Path(tmp, "intent_report.json").read_text())
    intents = {
        k: v
        for k, v in report.items()
        if isinstance(v, dict) and "f1-score" in v and k not in ("micro avg", "macro avg", "weighted avg")
    }
    rows = sorted(intents.items(), key=lambda kv: kv[1]["f1-score"])
    summary = {
        "folds": args.folds,
        "seconds": round(seconds, 1),
        "accuracy": report.get("accuracy"),
        "macro_f1": report.get("macro avg", {}).get("f1-score"),
        "weighted_f1": report.get("weighted avg", {}).get("f1-score"),
        "intents": {
            k: {
                "f1": round(v["f1-score"], 3),
                "precision": round(v["precision"], 3),
                "recall": round(v["recall"], 3),
                "support": v["support"],
            }
            for k, v in rows
        },
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "nlu_report.json").write_text(json.dumps(summary, indent=2))
    lines = [
        f"## NLU cross-validation ({args.folds} folds, {seconds:.0f} s)",
        "",
        f"Accuracy {summary['accuracy']:.3f}, macro F1 {summary['macro_f1']:.3f}, "
        f"weighted F1 {summary['weighted_f1']:.3f}.",
        "",
        "| intent | F1 | precision | recall | examples |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {k} | {v['f1']:.3f} | {v['precision']:.3f} | {v['recall']:.3f} | {v['support']} |"
        for k, v in summary["intents"].items()
    ]
    (out / "nlu_report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
