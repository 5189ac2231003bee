"""Writing outputs: every file atomically, a report folder all at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from govcompare.io import write_text_atomic

__all__ = ["write_evaluation"]


def write_evaluation(out_dir: Path, evaluation: Any) -> Path:
    """Write evaluation.json and its tables as CSV into ``out_dir``; return the JSON path."""
    out_dir = Path(out_dir)
    summary = {**evaluation.summary, "notes": evaluation.notes}
    write_text_atomic(out_dir / "evaluation.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    write_text_atomic(
        out_dir / "per_class.csv", evaluation.per_class.to_csv(index=False, lineterminator="\n")
    )
    write_text_atomic(out_dir / "confusion.csv", evaluation.confusion.to_csv(lineterminator="\n"))
    write_text_atomic(out_dir / "items.csv", evaluation.items.to_csv(index=False, lineterminator="\n"))
    return out_dir / "evaluation.json"
