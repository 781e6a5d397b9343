"""The prepared GPU run script, exercised here on the CPU at small size (as it is before it travels)."""

from __future__ import annotations

import json
from pathlib import Path

from test_training_loop import write_clips

from codec.api import load_codec
from codec.training import gpu_run


def test_gpu_run_script_trains_for_its_budget_and_leaves_small_outputs(tmp_path: Path) -> None:
    data = write_clips(tmp_path / "clips")
    out = tmp_path / "out"
    code = gpu_run.main([
        "--corpus", str(data), "--budget-min", "0.1", "--out", str(out), "--device", "cpu",
        "--set", "model.n_filters=4", "--set", "model.lstm_layers=1", "--set", "model.dimension=32",
        "--set", "batch_size=2", "--set", "data.segment_s=0.5", "--set", "data.valid_items=2",
        "--set", "validation.visqol_clips=0", "--set", "validation.bitrates_kbps=[6.0]",
        "--set", "validation.selection_metric=mel", "--set", "loss.discriminator_filters=4",
        "--set", "log_every_steps=1", "--set", "threads=1",
    ])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] >= 1 and summary["returncode"] == 0
    assert summary["too_large_to_return"] == []
    assert (out / "train.csv").exists() and (out / "valid.csv").exists()
    for name in ("model_last.safetensors", "model_best.safetensors"):
        codec = load_codec(out / name)
        assert codec.trained and codec.sample_rate == 24_000


def test_gpu_run_reports_a_failed_training_in_its_summary(tmp_path: Path) -> None:
    # The lent machine's output folder must say what went wrong, even when training stops before writing anything.
    out = tmp_path / "not_yet_there"
    code = gpu_run.main(["--corpus", str(tmp_path / "missing_corpus"), "--budget-min", "0.1", "--out", str(out),
                         "--device", "cpu"])
    assert code != 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["returncode"] == code and "steps" not in summary
