"""The training loop: exact resume, learning on a short clip, export into the app's codec API, configs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from codec.api import Codec, load_codec
from codec.training.config import ConfigError, load_config
from codec.training.logger import read_csv
from codec.training.trainer import Trainer

SAMPLE_RATE = 24_000


def write_clips(folder: Path, count: int = 4, duration_s: float = 2.0) -> Path:
    """Harmonic tones with vibrato and a little noise: easy to learn, not trivial."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    t = np.arange(int(duration_s * SAMPLE_RATE)) / SAMPLE_RATE
    for i in range(count):
        f0 = 150.0 * (i + 1)
        phase = 2 * np.pi * f0 * t + 3 * np.sin(2 * np.pi * 5 * t)
        audio = sum(np.sin(k * phase) / k for k in range(1, 6)) * 0.2 + 0.01 * rng.standard_normal(t.size)
        sf.write(folder / f"clip{i}.flac", audio.astype(np.float32), SAMPLE_RATE)
    return folder


def tiny_config(tmp_path: Path, data: Path, extra: list[str] | None = None):  # type: ignore[no-untyped-def]
    overrides = [
        f"data.manifest={data}", "data.segment_s=0.5", "data.valid_items=2", "data.mix_probability=0.0",
        "model.n_filters=4", "model.lstm_layers=1", "model.dimension=32", "model.name=tiny",
        "batch_size=2", "steps=4", "threads=1", "log_every_steps=1", "checkpoint_every_steps=1000",
        "validation.every_steps=1000", "validation.visqol_clips=0", "validation.bitrates_kbps=[6.0]",
        "validation.selection_metric=mel", f"out_dir={tmp_path / 'run'}", "loss.discriminator_filters=4",
    ]
    return load_config([Path("codec/training/configs/base.yaml")], overrides + (extra or []))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clips(tmp_path_factory.mktemp("clips"))


def test_resumed_run_equals_an_uninterrupted_one(tmp_path: Path, clips: Path) -> None:
    straight = Trainer(tiny_config(tmp_path / "a", clips, ["steps=6"]), show_progress=False)
    straight.fit()

    first = Trainer(tiny_config(tmp_path / "b", clips, ["steps=3"]), show_progress=False)
    first.fit()
    resumed = Trainer(tiny_config(tmp_path / "b", clips, ["steps=6"]), show_progress=False)
    assert resumed.resume()
    assert resumed.step == 3
    resumed.fit()

    for name, (a, b) in _pairs(straight.model.state_dict(), resumed.model.state_dict()):
        assert torch.equal(a, b), name
    for name, (a, b) in _pairs(straight.discriminators.state_dict(), resumed.discriminators.state_dict()):
        assert torch.equal(a, b), name
    assert straight.ema is not None and resumed.ema is not None
    for name, (a, b) in _pairs(straight.ema.state_dict(), resumed.ema.state_dict()):
        assert torch.equal(a, b), name


def test_adversarial_step_updates_discriminator_and_logs(tmp_path: Path, clips: Path) -> None:
    trainer = Trainer(tiny_config(tmp_path, clips, ["loss.discriminator_probability=1.0", "steps=2"]),
                      show_progress=False)
    before = {k: v.clone() for k, v in trainer.discriminators.state_dict().items()}
    trainer.fit()
    changed = [k for k, v in trainer.discriminators.state_dict().items() if not torch.equal(v, before[k])]
    assert changed, "the discriminator used in a step must learn"
    rows = read_csv(Path(trainer.config.out_dir) / "train.csv")
    assert [int(r["step"]) for r in rows] == [1, 2]
    assert all(float(r["adv"]) >= 0 and float(r["feat"]) > 0 and r["d_loss"] for r in rows)
    assert (Path(trainer.config.out_dir) / "tensorboard").is_dir()


def test_learning_lowers_validation_mel_distance(tmp_path: Path, clips: Path) -> None:
    """CI's learning test: a small model, reconstruction losses, a few hundred steps on short clips."""
    config = tiny_config(tmp_path, clips, [
        "steps=240", "loss.adversarial=false", "validation.every_steps=120", "batch_size=4", "optim.lr=1e-3",
        "optim.ema_decay=0.9", "model.n_filters=8"])
    trainer = Trainer(config, show_progress=False)
    exported = trainer.fit()
    rows = read_csv(Path(config.out_dir) / "valid.csv")
    mel = [float(r["mel"]) for r in rows]
    assert [int(r["step"]) for r in rows] == [0, 120, 240]
    assert mel[-1] < 0.7 * mel[0], mel

    assert exported is not None
    codec = load_codec(exported)
    assert isinstance(codec, Codec) and codec.trained
    audio, rate = sf.read(clips / "clip0.flac", dtype="float32")
    decoded = codec.reconstruct(audio[None, :], rate, 6.0)
    assert decoded.shape == (1, audio.shape[0]) and np.isfinite(decoded).all()


def test_config_rejects_unknown_keys(tmp_path: Path, clips: Path) -> None:
    with pytest.raises(ConfigError, match=r"loss\.weightz"):
        tiny_config(tmp_path, clips, ["loss.weightz=1"])
    with pytest.raises(ConfigError, match="not key=value"):
        tiny_config(tmp_path, clips, ["steps"])


def test_override_files_merge_over_the_base() -> None:
    config = load_config([Path("codec/training/configs/base.yaml"), Path("codec/training/configs/small.yaml")])
    assert config.model.n_filters == 16 and config.model.lstm_layers == 2
    assert config.optim.betas == (0.5, 0.9) and config.loss.weights["adv"] == 3.0
    model_config = config.model.build_config()
    assert model_config.seanet.n_filters == 16 and model_config.seanet.causal
    # Small batches need a dead-code threshold under the average use per code, or every code is re-drawn each step.
    uses_per_code = config.batch_size * config.data.segment_s * model_config.frame_rate / model_config.quantizer.bins
    assert model_config.quantizer.threshold_ema_dead_code < uses_per_code / 2


def _pairs(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]):  # type: ignore[no-untyped-def]
    assert a.keys() == b.keys()
    return [(k, (a[k], b[k])) for k in a]
