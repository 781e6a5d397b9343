"""Evaluation runs: every file through every condition, aligned and scored, then summarised per condition.

The summary gives each metric's mean and a 95% confidence interval over files (Student's t, since the number of
files is small and per-file scores are roughly normal; with one file the interval is undefined and left empty).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats

from codec.evaluation.conditions import CodecLoader, ConditionSpec, render_condition

MetricFunction = Callable[[np.ndarray, np.ndarray, int], dict[str, float | None]]
"""``(reference [C, T], aligned condition [C, T], sample_rate) -> {metric: value or None (does not apply)}``."""


@dataclass(frozen=True)
class Record:
    """One condition on one file."""

    file: str
    condition: str
    requested_kbps: float | None
    achieved_kbps: float | None
    lag_samples: int
    metrics: dict[str, float | None]


@dataclass(frozen=True)
class Summary:
    """One condition over all files: per metric (mean, CI low, CI high, files counted)."""

    condition: str
    requested_kbps: float | None
    achieved_kbps: float | None
    metrics: dict[str, tuple[float, float | None, float | None, int]] = field(default_factory=dict)


def evaluate(items: Iterable[tuple[str, np.ndarray, int]], specs: Sequence[ConditionSpec], metric_fn: MetricFunction,
             load_codec: CodecLoader, progress: Callable[[int, int], None] | None = None,
             cache_dir: Path | None = None) -> list[Record]:
    """Score every (file, condition). ``items`` yields ``(name, audio [C, T], sample_rate)``."""
    from codec.evaluation.alignment import align

    records = []
    items = list(items)
    total, done = len(items) * len(specs), 0
    for name, audio, sample_rate in items:
        for spec in specs:
            rendered = render_condition(spec, audio, sample_rate, load_codec, cache_dir)
            aligned = align(audio, rendered.audio, sample_rate)
            metrics = metric_fn(audio, aligned.audio, sample_rate)
            records.append(Record(name, spec.label, rendered.requested_kbps, rendered.achieved_kbps,
                                  aligned.lag_samples, metrics))
            done += 1
            if progress is not None:
                progress(done, total)
    return records


def summarise(records: Sequence[Record]) -> list[Summary]:
    """Per condition, in first-seen order: mean and 95% CI of each metric over the files where it applies."""
    order = list(dict.fromkeys(r.condition for r in records))
    summaries = []
    for condition in order:
        rows = [r for r in records if r.condition == condition]
        achieved = [r.achieved_kbps for r in rows if r.achieved_kbps is not None]
        metrics = {}
        for name in dict.fromkeys(k for r in rows for k in r.metrics):
            values = [v for r in rows if (v := r.metrics.get(name)) is not None and math.isfinite(v)]
            if values:
                metrics[name] = (float(np.mean(values)), *_confidence_interval(values), len(values))
        summaries.append(Summary(condition, rows[0].requested_kbps,
                                 float(np.mean(achieved)) if achieved else None, metrics))
    return summaries


def _confidence_interval(values: list[float], level: float = 0.95) -> tuple[float | None, float | None]:
    if len(values) < 2:
        return None, None
    mean, sem = float(np.mean(values)), float(stats.sem(values))
    if sem == 0:
        return mean, mean
    half = float(stats.t.ppf(0.5 + level / 2, len(values) - 1)) * sem
    return mean - half, mean + half


def format_table(summaries: Sequence[Summary], metric_names: Sequence[str]) -> str:
    """A Markdown table: condition, requested and achieved kbps, then ``mean ± half-CI`` per metric."""
    header = ["condition", "kbps", "real kbps", *metric_names]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for s in summaries:
        cells = [s.condition, _num(s.requested_kbps), _num(s.achieved_kbps)]
        for name in metric_names:
            if name not in s.metrics:
                cells.append("n/a")
                continue
            mean, low, high, _ = s.metrics[name]
            cells.append(f"{mean:.3f}" if low is None or high is None else f"{mean:.3f} ± {(high - low) / 2:.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def write_json(path: Path, records: Sequence[Record], summaries: Sequence[Summary]) -> None:
    """One record per (condition, file) plus the summary, metric names as keys."""
    payload = {"records": [asdict(r) for r in records], "summary": [asdict(s) for s in summaries]}
    path.write_text(json.dumps(payload, indent=2, allow_nan=False, default=_json_default))


def _json_default(value: object) -> object:
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def write_csv(path: Path, records: Sequence[Record], metric_names: Sequence[str]) -> None:
    """One row per (condition, file)."""
    with open(path, "w", newline="") as fo:
        writer = csv.writer(fo)
        writer.writerow(["file", "condition", "requested_kbps", "achieved_kbps", "lag_samples", *metric_names])
        for r in records:
            values = [r.metrics.get(name) for name in metric_names]
            writer.writerow([r.file, r.condition, r.requested_kbps, r.achieved_kbps, r.lag_samples,
                             *["" if v is None else v for v in values]])
