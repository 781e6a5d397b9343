"""The content-hash cache of reference-codec round trips: hits skip encoding, bad entries are recomputed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codec.baselines import cache_key, cached_encode_decode, default_cache_dir, encode_decode, lossy
from codec.baselines.lossy import LossyResult

SAMPLE_RATE = 16000


def tone(seed: int = 0) -> np.ndarray:
    """Mono ``[1, T]``, 1 s: two partials and a little noise."""
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    noise = 0.01 * np.random.default_rng(seed).standard_normal(t.size)
    return (0.3 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 1320 * t) + noise)[np.newaxis].astype(
        np.float32
    )


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts real encodes; the cache must call ``lossy.encode_decode`` only on a miss."""
    calls: list[int] = []
    real = lossy.encode_decode

    def counting(*args: object, **kwargs: object) -> LossyResult:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(lossy, "encode_decode", counting)
    return calls


def assert_same(a: LossyResult, b: LossyResult) -> None:
    np.testing.assert_array_equal(a.audio, b.audio)
    assert a.audio.dtype == b.audio.dtype == np.float32
    fields = ("codec", "requested_kbps", "achieved_kbps", "encoded_bytes", "codec_sample_rate", "settings")
    assert [getattr(a, name) for name in fields] == [getattr(b, name) for name in fields]


def entry_files(cache_dir: Path) -> list[Path]:
    return sorted(path for path in cache_dir.rglob("*") if path.is_file())


def test_second_call_is_served_from_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = cached_encode_decode(tone(), SAMPLE_RATE, "vorbis", 48, cache_dir=tmp_path)
    assert_same(first, encode_decode(tone(), SAMPLE_RATE, "vorbis", 48))

    def fail(*args: object, **kwargs: object) -> LossyResult:
        raise AssertionError("encoded again although the result is cached")

    monkeypatch.setattr(lossy, "encode_decode", fail)
    second = cached_encode_decode(tone(), SAMPLE_RATE, "vorbis", 48, cache_dir=tmp_path)
    assert_same(first, second)
    assert not second.audio.flags.writeable
    assert [path.suffix for path in entry_files(tmp_path)] == [".json", ".npy"]  # no temporary files left


def test_key_depends_on_everything_that_changes_the_result() -> None:
    base = cache_key(tone(), SAMPLE_RATE, "vorbis", 48)
    assert base == cache_key(tone(), SAMPLE_RATE, "VORBIS", 48.0)
    others = [cache_key(tone(seed=1), SAMPLE_RATE, "vorbis", 48), cache_key(tone(), 16001, "vorbis", 48),
              cache_key(tone(), SAMPLE_RATE, "mp3", 48), cache_key(tone(), SAMPLE_RATE, "vorbis", 48.5),
              cache_key(np.repeat(tone(), 2, axis=0), SAMPLE_RATE, "vorbis", 48)]
    assert len({base, *others}) == 6


def test_encoder_version_is_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from codec.baselines import cache

    before = cache_key(tone(), SAMPLE_RATE, "vorbis", 48)
    cache._encoder_fingerprint.cache_clear()
    monkeypatch.setattr(lossy, "ENCODER_VERSION", "lossy-test")
    try:
        assert cache_key(tone(), SAMPLE_RATE, "vorbis", 48) != before
    finally:
        cache._encoder_fingerprint.cache_clear()


@pytest.mark.parametrize("damage", ["truncate_npy", "garbage_json", "wrong_shape", "delete_npy", "empty_json"])
def test_damaged_entries_are_recomputed(tmp_path: Path, counted: list[int], damage: str) -> None:
    first = cached_encode_decode(tone(), SAMPLE_RATE, "vorbis", 48, cache_dir=tmp_path)
    json_path, npy_path = entry_files(tmp_path)
    if damage == "truncate_npy":
        npy_path.write_bytes(npy_path.read_bytes()[:100])
    elif damage == "garbage_json":
        json_path.write_bytes(b"\x00{not json")
    elif damage == "wrong_shape":
        np.save(npy_path, np.zeros((2, 10), np.float32))
    elif damage == "delete_npy":
        npy_path.unlink()
    else:
        json_path.write_text("")
    again = cached_encode_decode(tone(), SAMPLE_RATE, "vorbis", 48, cache_dir=tmp_path)
    assert len(counted) == 2
    assert_same(first, again)
    cached_encode_decode(tone(), SAMPLE_RATE, "vorbis", 48, cache_dir=tmp_path)
    assert len(counted) == 2  # the repaired entry serves the next call


def test_an_unwritable_cache_still_returns_the_result(tmp_path: Path, counted: list[int]) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    result = cached_encode_decode(tone(), SAMPLE_RATE, "vorbis", 48, cache_dir=blocker)
    assert result.audio.shape == tone().shape
    assert len(counted) == 1


def test_errors_are_not_cached(tmp_path: Path) -> None:
    with pytest.raises(lossy.CodecError):
        cached_encode_decode(tone(), SAMPLE_RATE, "aac", 48, cache_dir=tmp_path)
    assert entry_files(tmp_path) == []


def test_default_cache_dir_is_per_user() -> None:
    folder = default_cache_dir()
    assert folder.name == "baselines"
    assert any(part.lower() == "earbench" for part in folder.parts)
