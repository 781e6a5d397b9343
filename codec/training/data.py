"""Training crops from a corpus manifest (or a plain folder of audio).

:class:`TrainingCrops` is a map-style dataset of virtual length: item ``index`` is drawn with
``np.random.default_rng([seed, index])`` only, so the same index always gives the same crop. A resumed run therefore
continues exactly and any sampler can split indices between ranks or workers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyloudnorm
import soundfile as sf
import soxr
import torch

log = logging.getLogger(__name__)

VALID_FRACTION = 0.03
MIN_FILES_FOR_VALID = 4  # a package (or folder) with fewer files keeps them all for training
VIRTUAL_LENGTH = 10**9
MAX_DRAWS = 24  # redraws before giving up on a silent or clipping crop
SILENCE_DBFS = -60.0  # crops quieter than this after normalisation and gain are rejected
DIGITAL_SILENCE_DBFS = -100.0
CLIP_LEVEL = 0.999
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".opus", ".oga", ".mp3", ".aif", ".aiff"})
_VALID_STREAM = 1  # separates validation draws from training draws of the same index


def path_fraction(key: str) -> float:
    """A stable pseudo-random number in [0, 1) from ``key`` (e.g. a relative path)."""
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:15], 16) / 16**15


def assign_splits(keys: Sequence[str], valid_fraction: float = VALID_FRACTION) -> list[str]:
    """``"train"`` or ``"valid"`` for each key, by hashing it, so a file keeps its split across rebuilds.

    When no key of a group of at least :data:`MIN_FILES_FOR_VALID` falls into the validation fraction, the key with
    the smallest hash does, so every sizeable package has validation audio.
    """
    fractions = [path_fraction(key) for key in keys]
    splits = ["valid" if fraction < valid_fraction else "train" for fraction in fractions]
    if "valid" not in splits and len(keys) >= MIN_FILES_FOR_VALID:
        splits[min(range(len(keys)), key=fractions.__getitem__)] = "valid"
    return splits


@dataclass(frozen=True)
class DataConfig:
    """Where the audio is and how crops are drawn from it."""

    manifest: str  # manifest.json (paths inside relative to its folder), or a folder of audio files
    sample_rate: int = 24_000
    channels: int = 1
    segment_s: float = 1.0
    gain_db_range: tuple[float, float] = (-10.0, 6.0)  # random gain after per-file loudness normalisation
    target_lufs: float = -23.0
    mix_probability: float = 0.24  # sum of two random crops (each normalised), then renormalised
    speech_fraction: float = 0.5  # sampling weight of speech vs music (within a kind, weighted by duration)
    valid_items: int = 32  # fixed number of validation crops
    seed: int = 0


@dataclass(frozen=True)
class AudioFile:
    """One file of the corpus: absolute path, kind, duration in seconds and loudness in LUFS (None: per crop)."""

    path: Path
    kind: str
    duration_s: float
    loudness_lufs: float | None
    split: str


def load_files(location: str | Path) -> list[AudioFile]:
    """The files of a manifest (``.json``) or, for a folder, of every audio file under it (kind ``"unknown"``)."""
    location = Path(location)
    if location.is_dir():
        return _scan_folder(location)
    manifest = json.loads(location.read_text(encoding="utf-8"))
    entries = manifest["files"] if isinstance(manifest, dict) else manifest
    return [AudioFile(location.parent / e["path"], e.get("kind", "unknown"), float(e["duration_s"]),
                      e.get("loudness_lufs"), e.get("split", "train")) for e in entries]


def _scan_folder(folder: Path) -> list[AudioFile]:
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    files, keys = [], []
    for path in paths:
        try:
            info = sf.info(str(path))
        except (sf.LibsndfileError, RuntimeError) as error:
            log.warning("skipping unreadable %s: %s", path, error)
            continue
        files.append((path, info.frames / info.samplerate))
        keys.append(path.relative_to(folder).as_posix())
    return [AudioFile(path, "unknown", duration_s, None, split)
            for (path, duration_s), split in zip(files, assign_splits(keys), strict=True)]


@cache
def _meter(rate_hz: int, block_s: float) -> pyloudnorm.Meter:
    return pyloudnorm.Meter(rate_hz, block_size=block_s)


def crop_loudness_lufs(audio: np.ndarray, rate_hz: int) -> float:
    """BS.1770 loudness of a ``[T, C]`` crop (gating blocks shortened for crops under 0.4 s); -inf when silent."""
    block_s = min(0.4, audio.shape[0] / rate_hz)
    return float(_meter(rate_hz, block_s).integrated_loudness(audio.astype(np.float64)))


def _rms_dbfs(audio: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    return 20.0 * math.log10(rms) if rms > 0 else -math.inf


class TrainingCrops(torch.utils.data.Dataset):
    """Loudness-normalised random crops ``[C, T]`` (float32, ``T = segment_s * sample_rate``).

    ``split="train"``: virtual length :data:`VIRTUAL_LENGTH`; each item picks kind, file (weighted by duration),
    offset, random gain and an optional mix partner from ``default_rng([seed, index])``. ``split="valid"``: a fixed
    list of ``valid_items`` crops from the validation files, loudness-normalised, without random gain or mixing.
    """

    def __init__(self, config: DataConfig, split: str = "train") -> None:
        if split not in ("train", "valid"):
            raise ValueError(f"split must be 'train' or 'valid', not {split!r}")
        self.config = config
        self.split = split
        self.segment = round(config.segment_s * config.sample_rate)
        every = [f for f in load_files(config.manifest) if f.duration_s > 0]
        files = [f for f in every if f.split == split]
        if not files and split == "valid" and every:
            # Too few files to hold any out (a small folder of one's own audio): validate on all of them.
            log.warning("no validation files in %s; validating on the training files", config.manifest)
            files = every
        if not files:
            raise ValueError(f"no {split} files in {config.manifest}")
        speech = [f for f in files if f.kind == "speech"]
        other = [f for f in files if f.kind != "speech"]
        self._pools = [pool for pool in (speech, other) if pool]
        share = config.speech_fraction if len(self._pools) == 2 else 1.0
        self._pool_weights = np.array([share, 1.0 - share][: len(self._pools)])
        self._file_weights = [np.array([f.duration_s for f in pool]) / sum(f.duration_s for f in pool)
                              for pool in self._pools]

    def __len__(self) -> int:
        return VIRTUAL_LENGTH if self.split == "train" else self.config.valid_items

    def __getitem__(self, index: int) -> torch.Tensor:
        if not 0 <= index < len(self):
            raise IndexError(index)
        if self.split == "valid":
            rng = np.random.default_rng([self.config.seed, _VALID_STREAM, index])
            audio = self._draw(rng, random_gain=False, mix=False)
        else:
            rng = np.random.default_rng([self.config.seed, index])
            audio = self._draw(rng, random_gain=True, mix=True)
        return torch.from_numpy(np.ascontiguousarray(audio.T, dtype=np.float32))

    def _draw(self, rng: np.random.Generator, random_gain: bool, mix: bool) -> np.ndarray:
        """One accepted ``[T, C]`` crop: not silent, not clipping; redrawn up to :data:`MAX_DRAWS` times."""
        fallback = None
        low_db, high_db = self.config.gain_db_range
        for _ in range(MAX_DRAWS):
            audio = self._normalised_crop(rng)
            if audio is not None and mix and rng.random() < self.config.mix_probability:
                partner = self._normalised_crop(rng)
                audio = self._normalise(audio + partner, None) if partner is not None else audio
            if audio is None:
                continue
            gain_db = rng.uniform(low_db, high_db) if random_gain else 0.0
            # The gain that brings the peak just below clipping; clipping crops get this lower gain, but never one
            # below the configured range (then they are redrawn).
            headroom_db = 20.0 * math.log10((CLIP_LEVEL - 1e-3) / float(np.max(np.abs(audio))))
            if gain_db > headroom_db and random_gain and headroom_db < low_db:
                fallback = audio * np.float32(10.0 ** (headroom_db / 20.0))
                continue
            audio = audio * np.float32(10.0 ** (min(gain_db, headroom_db) / 20.0))
            if _rms_dbfs(audio) >= SILENCE_DBFS:
                return audio
        log.warning("no acceptable crop after %d draws", MAX_DRAWS)
        if fallback is not None:
            return fallback
        return np.zeros((self.segment, self.config.channels), dtype=np.float32)

    def _normalised_crop(self, rng: np.random.Generator) -> np.ndarray | None:
        """A random ``[T, C]`` crop at the file's (or, without a file loudness, the crop's) target loudness."""
        pool_index = rng.choice(len(self._pools), p=self._pool_weights)
        pool = self._pools[pool_index]
        file = pool[rng.choice(len(pool), p=self._file_weights[pool_index])]
        audio = self._read_crop(file, rng)
        if _rms_dbfs(audio) < DIGITAL_SILENCE_DBFS:  # nothing to normalise; quiet crops are judged after the gain
            return None
        return self._normalise(audio, file.loudness_lufs)

    def _normalise(self, audio: np.ndarray, loudness_lufs: float | None) -> np.ndarray | None:
        if loudness_lufs is None:
            loudness_lufs = crop_loudness_lufs(audio, self.config.sample_rate)
            if not math.isfinite(loudness_lufs):
                return None
        return audio * np.float32(10.0 ** ((self.config.target_lufs - loudness_lufs) / 20.0))

    def _read_crop(self, file: AudioFile, rng: np.random.Generator) -> np.ndarray:
        """Read only the crop from disk: ``[T, C]`` float32 at the configured rate and channel count."""
        with sf.SoundFile(str(file.path)) as f:
            rate = f.samplerate
            needed = self.segment if rate == self.config.sample_rate else math.ceil(
                self.segment * rate / self.config.sample_rate) + 16
            start = int(rng.integers(0, max(f.frames - needed, 0) + 1))
            f.seek(start)
            audio = f.read(min(needed, f.frames - start), dtype="float32", always_2d=True)
        audio = _to_channels(audio, self.config.channels)
        if rate != self.config.sample_rate:
            audio = soxr.resample(audio, rate, self.config.sample_rate, quality="VHQ")
        audio = audio[: self.segment]
        if audio.shape[0] < self.segment:  # file shorter than a segment
            audio = np.pad(audio, ((0, self.segment - audio.shape[0]), (0, 0)))
        return np.ascontiguousarray(audio, dtype=np.float32)


def _to_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """``[T, C_file]`` → ``[T, channels]``: downmix to mono, duplicate mono, or keep the first channels."""
    if audio.shape[1] == channels:
        return audio
    if channels == 1:
        return audio.mean(axis=1, keepdims=True)
    if audio.shape[1] == 1:
        return np.repeat(audio, channels, axis=1)
    if audio.shape[1] > channels:
        return audio[:, :channels]
    raise ValueError(f"cannot make {channels} channels from {audio.shape[1]}")


def collate(batch: Sequence[torch.Tensor]) -> torch.Tensor:
    """Stack ``[C, T]`` crops into a ``[B, C, T]`` batch."""
    return torch.stack(list(batch))


def describe(config: DataConfig) -> dict[str, Any]:
    """Hours of audio per split and kind of the corpus behind ``config`` (for logs and model cards)."""
    hours: dict[str, dict[str, float]] = {}
    for f in load_files(config.manifest):
        per_kind = hours.setdefault(f.split, {})
        per_kind[f.kind] = per_kind.get(f.kind, 0.0) + f.duration_s / 3600.0
    return hours
