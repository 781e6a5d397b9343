"""Checkpoint re-scoring: every checkpoint is scored on the same fuller validation crops, and the best one wins."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_training_loop import tiny_config, write_clips

from codec.errors import CheckpointError
from codec.training.select import select_best
from codec.training.trainer import Trainer


@pytest.fixture(scope="module")
def two_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("select")
    clips = write_clips(root / "clips")
    extra = ["loss.adversarial=false", "optim.lr=3e-3", "steps=40", "validation.every_steps=20",
             "validation.keep_snapshots=true"]
    Trainer(tiny_config(root, clips, extra), show_progress=False).fit()
    snapshots = root / "run" / "snapshots"
    assert sorted(p.name for p in snapshots.iterdir()) == ["step_0.pt", "step_20.pt", "step_40.pt"]
    return snapshots / "step_0.pt", snapshots / "step_40.pt"


def test_scores_validation_snapshots_on_the_same_crops_and_picks_the_better(two_checkpoints: tuple[Path, Path]) -> None:
    early, late = two_checkpoints
    best, scored = select_best([early, late], items=2, segment_s=0.5, bitrates_kbps=(6.0,), metric="mel")
    assert [int(metrics["step"]) for _, metrics in scored] == [0, 40]
    mel = {path: metrics["mel"] for path, metrics in scored}
    assert best == min(mel, key=mel.get)
    assert best == late  # 40 steps of a tiny model on four tones lower the mel distance


def test_refuses_files_that_are_not_training_checkpoints(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        select_best([bogus], items=2, segment_s=0.5)
    with pytest.raises(ValueError):
        select_best([])
