"""Training logs: one CSV row per logged step, TensorBoard scalars when tensorboard is installed, a progress bar."""

from __future__ import annotations

import csv
import math
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm


class TrainingLogger:
    """Writes ``train.csv`` / ``valid.csv`` under ``out_dir`` (appending on resume) and TensorBoard events.

    Only rank 0 creates one. CSV columns are fixed by the first row written to each file; later rows with other
    keys put them in the columns that exist and drop the rest (a resumed run keeps its header).
    """

    def __init__(self, out_dir: Path, total_steps: int, start_step: int, show_progress: bool = True) -> None:
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        self._writer = _tensorboard_writer(out_dir / "tensorboard")
        self._columns: dict[str, list[str]] = {}
        self._started = time.monotonic()
        self._start_step = start_step
        self._bar = tqdm(total=total_steps, initial=start_step, unit="step", dynamic_ncols=True,
                         disable=not show_progress, file=sys.stderr)

    def log(self, kind: str, step: int, values: dict[str, float]) -> None:
        """Append ``values`` at ``step`` to ``{kind}.csv`` and TensorBoard (tag ``kind/name``)."""
        row = {"step": step, "wall_s": round(time.monotonic() - self._started, 3), **values}
        self._append_csv(self.out_dir / f"{kind}.csv", kind, row)
        if self._writer is not None:
            for name, value in values.items():
                if isinstance(value, (int, float)) and math.isfinite(value):
                    self._writer.add_scalar(f"{kind}/{name}", value, step)

    def advance(self, step: int, values: dict[str, float]) -> None:
        """Move the progress bar to ``step`` with a short summary (the bar shows steps/s and ETA)."""
        self._bar.update(step - self._bar.n)
        self._bar.set_postfix({k: f"{v:.3g}" for k, v in values.items()}, refresh=False)

    def steps_per_s(self, step: int) -> float:
        elapsed = time.monotonic() - self._started
        return (step - self._start_step) / elapsed if elapsed > 0 else 0.0

    def close(self) -> None:
        self._bar.close()
        if self._writer is not None:
            self._writer.close()

    def _append_csv(self, path: Path, kind: str, row: dict[str, Any]) -> None:
        columns = self._columns.get(kind)
        if columns is None:
            columns = _existing_header(path) or list(row)
            self._columns[kind] = columns
            if not path.exists():
                with path.open("w", newline="", encoding="utf-8") as handle:
                    csv.writer(handle).writerow(columns)
        with path.open("a", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow([row.get(c, "") for c in columns])


def _existing_header(path: Path) -> list[str] | None:
    if not path.exists():
        return None
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle), None)


def _tensorboard_writer(log_dir: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is an optional extra; CSV logs are always written
        return None
    return SummaryWriter(log_dir=str(log_dir))


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a training CSV log (for tests and reports)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
