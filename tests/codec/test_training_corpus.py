"""The corpus builder on a fake unpacked package tree (no network, no apt)."""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from codec.training import corpus
from codec.training.corpus import build_corpus, compact_corpus, write_manifest
from codec.training.corpus_convert import convert_source
from codec.training.sources import (
    RESERVED_FOR_EVALUATION,
    SOURCES,
    Source,
    description_texts,
    select_sources,
)


def _tone(freq_hz: float, duration_s: float, rate: int, channels: int = 1) -> np.ndarray:
    t = np.arange(int(duration_s * rate)) / rate
    tone = (0.2 * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)
    return np.stack([tone] * channels, axis=1) if channels > 1 else tone


def _fake_package(root: Path) -> Source:
    """An unpacked package: long and short clips at several rates, a broken, a silent and a zipped file."""
    audio = root / "usr" / "share" / "fake"
    audio.mkdir(parents=True)
    sf.write(audio / "long_stereo.wav", _tone(440, 3.0, 44_100, channels=2), 44_100)
    sf.write(audio / "narrowband.wav", _tone(300, 2.0, 8_000), 8_000)
    for i in range(12):  # letters: too short alone, joined into longer files
        sf.write(audio / f"letter{i:02d}.wav", _tone(500 + 20 * i, 0.4, 22_050), 22_050)
    sf.write(audio / "silent.wav", np.zeros(24_000 * 2, dtype=np.float32), 24_000)
    (audio / "broken.wav").write_bytes(b"RIFF not really a wave file")
    (audio / "link.wav").symlink_to(audio / "long_stereo.wav")
    member = root / "member.wav"
    sf.write(member, _tone(660, 1.5, 16_000), 16_000)
    with zipfile.ZipFile(audio / "music.pk3", "w") as zf:
        zf.write(member, "music/track.wav")
        zf.write(member, "../escape.wav")
        zf.writestr("music/readme.txt", "not audio")
    member.unlink()
    return Source("fake-pkg", "speech", "CC0-1.0", ("usr/share/fake/*.wav",),
                  archive_globs=("usr/share/fake/*.pk3",), member_globs=("*.wav",))


def test_convert_source_writes_mono_24k_flac_and_skips_bad_files(tmp_path: Path, caplog) -> None:
    source = _fake_package(tmp_path / "pkg")
    with caplog.at_level(logging.WARNING):
        entries = convert_source(source, tmp_path / "pkg", tmp_path / "out")
    paths = {entry["path"] for entry in entries}
    assert "speech/fake-pkg/usr/share/fake/long_stereo.flac" in paths
    assert "speech/fake-pkg/usr/share/fake/narrowband.flac" in paths
    assert "speech/fake-pkg/usr/share/fake/music.pk3/music/track.flac" in paths
    assert not any("broken" in p or "silent" in p or "link" in p or "escape" in p for p in paths)
    assert "broken.wav" in caplog.text  # unreadable: a warning, not a failure
    joined = [entry for entry in entries if "/joined/" in entry["path"]]
    assert joined and all(entry["duration_s"] >= 1.0 for entry in joined)
    for entry in entries:
        info = sf.info(tmp_path / "out" / entry["path"])
        assert (info.samplerate, info.channels, info.subtype) == (24_000, 1, "PCM_16")
        assert entry["duration_s"] == pytest.approx(info.frames / 24_000, abs=1e-3)
        assert entry["sample_rate"] == 24_000 and entry["licence"] == "CC0-1.0"
        assert -30 < entry["loudness_lufs"] < -5
        assert entry["split"] in ("train", "valid") and entry["kind"] == "speech"
    assert sum(entry["split"] == "valid" for entry in entries) >= 1  # every sizeable package validates


def test_split_is_stable_across_rebuilds_and_budgets(tmp_path: Path) -> None:
    source = _fake_package(tmp_path / "pkg")
    full = convert_source(source, tmp_path / "pkg", tmp_path / "a")
    again = convert_source(source, tmp_path / "pkg", tmp_path / "b")
    assert [(e["path"], e["split"]) for e in full] == [(e["path"], e["split"]) for e in again]
    budget = convert_source(source, tmp_path / "pkg", tmp_path / "c", max_minutes=0.05)
    assert 0 < sum(e["duration_s"] for e in budget) < sum(e["duration_s"] for e in full)
    assert {e["path"] for e in budget} < {e["path"] for e in full}


def test_manifest_totals_hours_per_kind_and_split(tmp_path: Path) -> None:
    entries = [{"path": "a.flac", "kind": "speech", "split": "train", "duration_s": 1800.0},
               {"path": "b.flac", "kind": "speech", "split": "valid", "duration_s": 360.0},
               {"path": "c.flac", "kind": "music", "split": "train", "duration_s": 7200.0}]
    manifest = write_manifest(tmp_path, entries)
    assert manifest["hours"] == {"music": {"train": 2.0, "valid": 0.0}, "speech": {"train": 0.5, "valid": 0.1}}
    assert json.loads((tmp_path / "manifest.json").read_text()) == manifest


def test_reserved_evaluation_packages_are_refused(tmp_path: Path) -> None:
    assert {"wesnoth-1.16-music", "ktuberling-data", "alsa-utils"} <= RESERVED_FOR_EVALUATION
    assert not {source.package for source in SOURCES} & RESERVED_FOR_EVALUATION
    for package in sorted(RESERVED_FOR_EVALUATION):
        with pytest.raises(ValueError, match="reserved"):
            select_sources([package])
        with pytest.raises(ValueError, match="reserved"):
            convert_source(Source(package, "music", "?", ("*.wav",)), tmp_path, tmp_path / "out")
        with pytest.raises(ValueError, match="reserved"):
            build_corpus(tmp_path / "out", [Source(package, "music", "?", ("*.wav",))], tmp_path / "cache")
    with pytest.raises(ValueError, match="unknown"):
        select_sources(["no-such-package"])


def test_build_corpus_skips_packages_that_fail_to_download(tmp_path: Path, monkeypatch) -> None:
    source = _fake_package(tmp_path / "pkg")
    missing = Source("missing-pkg", "music", "?", ("*.ogg",))
    roots = {"fake-pkg": tmp_path / "pkg", "missing-pkg": None}
    monkeypatch.setattr(corpus, "fetch_package", lambda package, cache_dir: roots[package])
    manifest = build_corpus(tmp_path / "out", [missing, source], tmp_path / "cache")
    assert {entry["source_package"] for entry in manifest["files"]} == {"fake-pkg"}
    assert manifest["hours"]["speech"]["train"] > 0
    assert (tmp_path / "out" / "manifest.json").exists()


def test_compact_copy_is_opus_with_its_own_manifest(tmp_path: Path) -> None:
    source = _fake_package(tmp_path / "pkg")
    write_manifest(tmp_path / "out", convert_source(source, tmp_path / "pkg", tmp_path / "out"))
    manifest = compact_corpus(tmp_path / "out", tmp_path / "small", bitrate_kbps=64.0, minutes=0.1)
    files = manifest["files"]
    assert files and all(entry["path"].endswith(".opus") for entry in files)
    assert {entry["split"] for entry in files} == {"train", "valid"}
    assert sum(entry["duration_s"] for entry in files) < 20.0  # about the budget, not the whole corpus
    info = sf.info(tmp_path / "small" / files[0]["path"])
    assert info.subtype == "OPUS" and info.samplerate == 24_000
    assert (tmp_path / "small" / "manifest.json").exists()


def test_tuxpaint_descriptions_parse_per_language() -> None:
    text = "A red apple.\nde.utf8=Ein roter Apfel.\npt_BR.utf8=Uma maçã vermelha.\nxx.utf8=\n"
    assert description_texts(text) == [("en", "A red apple."), ("de", "Ein roter Apfel."),
                                       ("pt-br", "Uma maçã vermelha.")]
