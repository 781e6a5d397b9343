"""The training dataset: deterministic crops, loudness and gain, silence/clipping rejection, splits, folder mode."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
import torch

from codec.training.data import (
    CLIP_LEVEL,
    DataConfig,
    TrainingCrops,
    assign_splits,
    collate,
    crop_loudness_lufs,
    load_files,
)

RATE = 24_000


def _tone(freq_hz: float, duration_s: float = 2.5, amplitude: float = 0.1, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(duration_s * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def _write(folder: Path, name: str, audio: np.ndarray, rate: int = RATE) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, rate, subtype="PCM_16" if path.suffix == ".flac" else "FLOAT")
    return path


def _manifest(folder: Path, files: list[tuple[str, np.ndarray, str, str]], rate: int = RATE) -> str:
    """Write ``(name, audio, kind, split)`` files and a manifest with their measured loudness."""
    entries = []
    for name, audio, kind, split in files:
        _write(folder, name, audio, rate)
        loudness = pyloudnorm.Meter(rate).integrated_loudness(audio.astype(np.float64))
        entries.append({"path": name, "source_package": "test", "kind": kind, "licence": "CC0",
                        "duration_s": audio.shape[0] / rate, "sample_rate": rate, "split": split,
                        "loudness_lufs": float(loudness) if np.isfinite(loudness) else None})
    path = folder / "manifest.json"
    path.write_text(json.dumps({"files": entries}))
    return str(path)


def _dominant_hz(crop: torch.Tensor, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(crop.mean(dim=0).numpy()))
    return float(np.argmax(spectrum)) * rate / crop.shape[-1]


@pytest.fixture
def tones(tmp_path: Path) -> str:
    return _manifest(tmp_path, [("speech/a.flac", _tone(440), "speech", "train"),
                                ("music/b.flac", _tone(880, amplitude=0.3), "music", "train"),
                                ("music/c.flac", _tone(660), "music", "valid")])


def test_items_are_deterministic_shaped_and_distinct(tones: str) -> None:
    config = DataConfig(tones, segment_s=0.5, seed=3)
    data = TrainingCrops(config)
    first = data[7]
    assert first.shape == (1, 12_000) and first.dtype == torch.float32
    assert torch.equal(first, TrainingCrops(config)[7])
    assert not torch.equal(first, data[8])
    assert not torch.equal(first, TrainingCrops(DataConfig(tones, segment_s=0.5, seed=4))[7])
    assert len(data) >= 10**6
    assert collate([data[0], data[1]]).shape == (2, 1, 12_000)


def test_random_gain_stays_in_range_around_target_loudness(tones: str) -> None:
    config = DataConfig(tones, mix_probability=0.0, gain_db_range=(-10.0, 6.0), target_lufs=-30.0)
    data = TrainingCrops(config)
    loudness = [crop_loudness_lufs(data[i].numpy().T, RATE) for i in range(24)]
    assert min(loudness) >= -40.5 and max(loudness) <= -23.5
    assert max(loudness) - min(loudness) > 5.0  # the gain is actually random


def test_speech_fraction_weights_kinds(tones: str) -> None:
    data = TrainingCrops(DataConfig(tones, mix_probability=0.0, speech_fraction=1.0, segment_s=0.25))
    assert all(abs(_dominant_hz(data[i], RATE) - 440) < 10 for i in range(12))


def test_silent_files_never_give_crops(tmp_path: Path) -> None:
    silent = np.zeros(RATE * 3, dtype=np.float32)
    half = np.concatenate([silent[: RATE * 2], _tone(440, 1.0)])  # mostly silent: redraws must find the tone
    manifest = _manifest(tmp_path, [("silent.flac", silent, "music", "train"),
                                    ("half.flac", half, "music", "train")])
    data = TrainingCrops(DataConfig(manifest, segment_s=0.25, mix_probability=0.0))
    for i in range(32):
        crop = data[i]
        assert 20 * np.log10(float(crop.pow(2).mean().sqrt())) >= -60.0
        assert abs(_dominant_hz(crop) - 440) < 10


def test_clipping_crops_get_less_gain_or_are_redrawn(tmp_path: Path) -> None:
    square = np.sign(_tone(100, amplitude=1.0)).astype(np.float32) * 0.9
    spiky = _tone(440, amplitude=0.01)
    spiky[:: RATE // 50] = 0.95  # peaks far above its loudness: normalised and boosted, it always clips
    tone = _tone(220, amplitude=0.2)
    manifest = _manifest(tmp_path, [("square.flac", square, "music", "train"),
                                    ("spiky.flac", spiky, "music", "train"),
                                    ("tone.flac", tone, "music", "train")])
    config = DataConfig(manifest, target_lufs=-8.0, gain_db_range=(3.0, 6.0), mix_probability=0.5)
    data = TrainingCrops(config)
    for i in range(24):
        crop = data[i]
        assert float(crop.abs().max()) < CLIP_LEVEL
        # The spiky file cannot reach the range's lowest gain without clipping, so it is never used.
        assert float(crop.abs().max()) < 4 * float(crop.pow(2).mean().sqrt())


def test_valid_split_is_fixed_and_disjoint_from_train(tones: str) -> None:
    valid = TrainingCrops(DataConfig(tones, valid_items=5), split="valid")
    assert len(valid) == 5
    crops = [valid[i] for i in range(5)]
    again = TrainingCrops(DataConfig(tones, valid_items=5), split="valid")
    assert all(torch.equal(a, again[i]) for i, a in enumerate(crops))
    assert all(abs(_dominant_hz(crop) - 660) < 10 for crop in crops)
    train = TrainingCrops(DataConfig(tones, mix_probability=0.0))
    assert all(abs(_dominant_hz(train[i]) - 660) > 100 for i in range(16))
    # No random gain on validation: each crop sits at the target loudness.
    assert all(abs(crop_loudness_lufs(crop.numpy().T, RATE) + 23.0) < 0.5 for crop in crops)


def test_folder_mode_scans_audio_and_splits_by_path(tmp_path: Path) -> None:
    for i in range(6):
        _write(tmp_path, f"mine/take{i}.wav", _tone(300 + 100 * i, 2.0))
    (tmp_path / "mine" / "notes.txt").write_text("not audio")
    files = load_files(tmp_path / "mine")
    assert len(files) == 6 and {f.kind for f in files} == {"unknown"}
    valid_paths = {f.path for f in files if f.split == "valid"}
    assert valid_paths and len(valid_paths) < 6
    config = DataConfig(str(tmp_path / "mine"), segment_s=0.5)
    assert TrainingCrops(config)[0].shape == (1, 12_000)
    valid = TrainingCrops(config, split="valid")[0]
    valid_freqs = {300 + 100 * int(p.stem[-1]) for p in valid_paths}
    assert min(abs(_dominant_hz(valid) - f) for f in valid_freqs) < 10


def test_channels_mono_duplicated_and_stereo_downmixed(tmp_path: Path) -> None:
    left, right = _tone(440), _tone(440, amplitude=0.05)
    stereo = np.stack([left, right], axis=1)
    _write(tmp_path, "stereo.wav", stereo)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"files": [{"path": "stereo.wav", "kind": "music", "duration_s": 2.5,
                                               "loudness_lufs": None, "split": "train"}]}))
    both = TrainingCrops(DataConfig(str(manifest), channels=2, mix_probability=0.0, gain_db_range=(0.0, 0.0)))[0]
    assert both.shape == (2, RATE)
    assert abs(float(both[0].abs().max() / both[1].abs().max()) - 2.0) < 0.05  # channels kept apart
    mono = TrainingCrops(DataConfig(str(manifest), channels=1))[0]
    assert mono.shape == (1, RATE)
    _write(tmp_path, "mono.wav", left)
    manifest.write_text(json.dumps({"files": [{"path": "mono.wav", "kind": "music", "duration_s": 2.5,
                                               "loudness_lufs": None, "split": "train"}]}))
    duplicated = TrainingCrops(DataConfig(str(manifest), channels=2))[0]
    assert duplicated.shape == (2, RATE) and torch.equal(duplicated[0], duplicated[1])


def test_other_sample_rates_are_resampled(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, [("cd.flac", _tone(1000, rate=44_100), "music", "train")], rate=44_100)
    crop = TrainingCrops(DataConfig(manifest, mix_probability=0.0))[3]
    assert crop.shape == (1, RATE)
    assert abs(_dominant_hz(crop) - 1000) < 2


def test_assign_splits_is_stable_and_small() -> None:
    keys = [f"speech/pkg/file{i}.flac" for i in range(2000)]
    splits = assign_splits(keys)
    assert splits == assign_splits(list(keys))
    assert 0.015 < splits.count("valid") / len(keys) < 0.05
    assert assign_splits(keys[:5]).count("valid") >= 1  # small packages still get one validation file
    assert assign_splits(keys[:2]) == ["train", "train"]


def test_tiny_folder_without_validation_files_validates_on_all(tmp_path: Path) -> None:
    for i in range(2):
        _write(tmp_path, f"take{i}.flac", _tone(440 + 220 * i, 1.5))
    valid = TrainingCrops(DataConfig(str(tmp_path), valid_items=3), split="valid")
    assert len(valid) == 3 and valid[2].shape == (1, RATE)
