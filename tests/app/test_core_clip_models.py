"""app.core clips and the model catalog (Qt-free; real ``codec`` package)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from app_testing import write_tone

from app.core.clip import load_clip
from app.core.errors import ClipLoadError, ModelLoadError
from app.core.models import ModelCatalog
from app.core.waveform import peak_envelope


def test_load_clip_reads_audio_rate_and_hash(tone_file: Path) -> None:
    clip = load_clip(tone_file)
    assert clip.audio.shape == (1, 12_000) and clip.audio.dtype == np.float32
    assert clip.sample_rate == 24_000 and clip.channels == 1 and clip.duration_s == pytest.approx(0.5)
    assert clip.sha256 == hashlib.sha256(tone_file.read_bytes()).hexdigest()
    assert clip.name == "tone.wav" and not clip.audio.flags.writeable
    assert np.abs(clip.audio).max() == pytest.approx(0.5, abs=1e-3)


def test_load_stereo_flac(tmp_path: Path) -> None:
    clip = load_clip(write_tone(tmp_path / "s.flac", sample_rate=44_100, channels=2, duration_s=0.2))
    assert clip.audio.shape == (2, 8820) and clip.sample_rate == 44_100


@pytest.mark.parametrize("content", [None, b"this is not audio at all" * 10])
def test_load_clip_errors_are_clear(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "broken.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ClipLoadError, match=r"broken\.wav"):
        load_clip(path)


def test_load_clip_rejects_non_finite_samples(tone_file: Path) -> None:
    def reader(path: Path) -> tuple[np.ndarray, int]:
        return np.array([[0.0, np.nan]], dtype=np.float32), 8000

    with pytest.raises(ClipLoadError, match="NaN"):
        load_clip(tone_file, reader=reader)


def info(name: str, trained: bool) -> SimpleNamespace:
    return SimpleNamespace(
        name=name,
        path=Path(f"/models/{name}.th"),
        sample_rate=24_000,
        channels=1,
        bitrates_kbps=(6.0, 1.5, 3.0),
        trained=trained,
    )


def test_catalog_offers_only_trained_installed_models() -> None:
    catalog = ModelCatalog(lister=lambda: [info("good", True), info("random", False)])
    entries = catalog.refresh()
    assert [e.model_id for e in entries] == ["good"]
    assert entries[0].bitrates_kbps == (1.5, 3.0, 6.0) and entries[0].default_bitrate_kbps == 6.0
    assert ModelCatalog(lister=list).refresh() == ()


def test_catalog_labels_a_file_known_to_be_untrained(tmp_path: Path) -> None:
    fake = SimpleNamespace(name="x", sample_rate=24_000, channels=1, bitrates_kbps=(3.0,), trained=False)
    path = tmp_path / "x.safetensors"
    path.write_bytes(b"0")
    calls = []
    catalog = ModelCatalog(lister=list, loader=lambda source: calls.append(source) or fake)
    entry = catalog.add_file(path)
    assert "untrained" in entry.display_name and entry.trained is False
    assert catalog.codec(entry.model_id) is fake and len(calls) == 1  # loaded once, then cached


def test_catalog_adds_a_real_checkpoint_file(random_checkpoint: Path) -> None:
    catalog = ModelCatalog(lister=list)
    entry = catalog.add_file(random_checkpoint)
    assert entry.sample_rate == 24_000 and entry.channels == 1
    assert 6.0 in entry.bitrates_kbps and entry.source == str(random_checkpoint.resolve())
    assert catalog.entries() == (entry,)
    assert catalog.codec(entry.model_id).sample_rate == 24_000


def test_catalog_rejects_missing_and_foreign_files(tmp_path: Path) -> None:
    catalog = ModelCatalog(lister=list)
    with pytest.raises(ModelLoadError, match="No such model file"):
        catalog.add_file(tmp_path / "nope.safetensors")
    foreign = tmp_path / "foreign.safetensors"
    foreign.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelLoadError):
        catalog.add_file(foreign)
    assert catalog.entries() == ()


def test_real_list_models_runs_here() -> None:
    entries = ModelCatalog().refresh()  # whatever is installed; never random weights
    assert all(entry.trained for entry in entries)


def test_peak_envelope_bins_min_and_max() -> None:
    audio = np.zeros((2, 1000), np.float32)
    audio[0, 10] = 0.9
    audio[1, 995] = -0.7
    envelope = peak_envelope(audio, 1000, max_bins=100)
    assert len(envelope.times_s) == 100 and envelope.times_s[1] == pytest.approx(0.01)
    assert envelope.upper[1] == pytest.approx(0.9) and envelope.lower[99] == pytest.approx(-0.7)
    assert envelope.upper[50] == 0 and envelope.lower[50] == 0
    with pytest.raises(ValueError):
        peak_envelope(np.zeros((1, 0), np.float32), 1000)
