"""Metric sanity on a real clip (the bundled example: speech, then notes): every metric orders Opus 6 < 12 < 24
kbps and puts the hidden reference first."""

from __future__ import annotations

from pathlib import Path

import pytest

from codec.audio import read_audio
from codec.evaluation.conditions import parse_condition
from codec.evaluation.metrics import ALL_METRICS, HIGHER_IS_BETTER, compute_metrics
from codec.evaluation.report import evaluate

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "example.flac"


@pytest.fixture(scope="module")
def scores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, float | None]]:
    audio, sample_rate = read_audio(EXAMPLE)
    audio = audio[:, : 3 * sample_rate]  # the spoken part: keeps the test short, and PESQ/STOI apply to it
    specs = [parse_condition(c) for c in ("reference", "opus@6", "opus@12", "opus@24")]

    def metric_fn(reference, degraded, rate):  # type: ignore[no-untyped-def]
        return {k: v.value for k, v in compute_metrics(reference, degraded, rate, content="speech").items()}

    records = evaluate([("example", audio, sample_rate)], specs, metric_fn, lambda name: None,
                       cache_dir=tmp_path_factory.mktemp("cache"))
    return {r.condition: r.metrics for r in records}


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_opus_bitrates_are_ordered_and_reference_is_best(scores, metric: str) -> None:  # type: ignore[no-untyped-def]
    order = ["opus@6", "opus@12", "opus@24", "reference"]
    values = [scores[c][metric] for c in order]
    assert all(v is not None for v in values), values
    if not HIGHER_IS_BETTER[metric]:
        values = [-v for v in values]  # type: ignore[operator]
    assert values == sorted(values) and len(set(values)) == len(values), f"{metric}: {values}"
