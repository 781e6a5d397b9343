"""Evaluation runs: condition parsing, rendering with real bitrates, alignment, and the per-condition summary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from codec import CodecError, load_codec
from codec.evaluation.conditions import parse_condition
from codec.evaluation.report import evaluate, format_table, summarise, write_csv, write_json
from codec.testing import random_codec_checkpoint


def error_db(reference: np.ndarray, degraded: np.ndarray, sample_rate: int) -> dict[str, float | None]:
    """A small real metric for these tests: the error energy relative to the signal, in dB."""
    error = float(np.sum((reference - degraded) ** 2)) / float(np.sum(reference**2))
    return {"error_db": 10 * np.log10(max(error, 1e-12)), "speech_only": None}


@pytest.mark.parametrize(("text", "kind", "value", "label"), [
    ("reference", "reference", None, "reference"),
    ("opus@12", "opus", 12.0, "opus@12"),
    ("MP3@64", "mp3", 64.0, "mp3@64"),
    ("anchor@3.5", "anchor", 3.5, "anchor@3.5"),
    ("anchor@7", "anchor", 7.0, "anchor@7"),
    ("encodec_24khz@6", "codec", 6.0, "encodec_24khz@6"),
    ("models/my@model.safetensors@1.5", "codec", 1.5, "my@model@1.5"),
])
def test_parse_conditions(text: str, kind: str, value: float | None, label: str) -> None:
    spec = parse_condition(text)
    assert (spec.kind, spec.value, spec.label) == (kind, value, label)


@pytest.mark.parametrize("text", ["opus", "opus@", "@6", "opus@x", "anchor@5", "opus@-3", "opus@nan"])
def test_bad_conditions_name_the_syntax(text: str) -> None:
    with pytest.raises(CodecError):
        parse_condition(text)


def test_run_summary_and_files(tmp_path: Path) -> None:
    model = random_codec_checkpoint(tmp_path / "m.safetensors")
    rng = np.random.default_rng(0)
    t = np.arange(48_000) / 48_000
    items = [
        (f"clip{i}", (0.3 * np.sin(2 * np.pi * (300 + 200 * i) * t) + 0.01 * rng.standard_normal(t.size))[None]
         .astype(np.float32), 48_000)
        for i in range(3)
    ]
    specs = [parse_condition(c) for c in ("reference", "anchor@3.5", "opus@12", f"{model}@6")]
    seen = []
    records = evaluate(items, specs, error_db, load_codec, progress=lambda d, n: seen.append((d, n)),
                       cache_dir=tmp_path / "cache")
    assert len(records) == 12 and seen[-1] == (12, 12)
    by = {(r.file, r.condition): r for r in records}
    assert by[("clip0", "reference")].metrics["error_db"] == pytest.approx(-120)
    assert by[("clip0", "opus@12")].achieved_kbps == pytest.approx(12, rel=0.15)
    assert by[("clip0", "m@6")].achieved_kbps == pytest.approx(6, rel=0.02)
    assert all(r.lag_samples == 0 for r in records if r.condition == "anchor@3.5")

    summaries = summarise(records)
    assert [s.condition for s in summaries] == ["reference", "anchor@3.5", "opus@12", "m@6"]
    mean, low, high, count = summaries[2].metrics["error_db"]
    assert count == 3 and low is not None and high is not None and low <= mean <= high
    assert "speech_only" not in summaries[0].metrics  # a metric that never applies gets no summary

    table = format_table(summaries, ["error_db", "speech_only"])
    assert "| opus@12 | 12.00 |" in table and "n/a" in table
    write_json(tmp_path / "out.json", records, summaries)
    payload = json.loads((tmp_path / "out.json").read_text())
    assert len(payload["records"]) == 12 and payload["records"][0]["metrics"]["speech_only"] is None
    write_csv(tmp_path / "out.csv", records, ["error_db", "speech_only"])
    assert (tmp_path / "out.csv").read_text().count("\n") == 13


def test_eval_command_prints_table_and_writes_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import soundfile as sf

    from codec.cli import main

    folder = tmp_path / "clips"
    folder.mkdir()
    t = np.arange(24_000) / 24_000
    for i in range(2):
        sf.write(folder / f"c{i}.wav", 0.3 * np.sin(2 * np.pi * (220 + 110 * i) * t), 24_000)
    model = random_codec_checkpoint(tmp_path / "m.safetensors")
    args = ["eval", str(folder), "-c", "reference", "-c", "anchor@3.5", "-c", "opus@12", "-c", f"{model}@6",
            "--metrics", "si_sdr", "mel_distance", "--content", "music",
            "--json", str(tmp_path / "r.json"), "--csv", str(tmp_path / "r.csv")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "| condition | kbps | real kbps | si_sdr | mel_distance |" in out
    assert "| opus@12 | 12.00 |" in out and "| m@6 | 6.00 |" in out
    summary = {s["condition"]: s for s in json.loads((tmp_path / "r.json").read_text())["summary"]}
    # The hidden reference scores best on both metrics.
    assert summary["reference"]["metrics"]["si_sdr"][0] > summary["opus@12"]["metrics"]["si_sdr"][0]
    assert summary["reference"]["metrics"]["mel_distance"][0] < summary["anchor@3.5"]["metrics"]["mel_distance"][0]


def test_eval_command_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from codec.cli import main

    assert main(["eval", str(tmp_path), "-c", "reference"]) == 2
    assert "no audio files" in capsys.readouterr().err
    assert main(["eval", str(tmp_path / "x.wav"), "-c", "opus@"]) == 2
