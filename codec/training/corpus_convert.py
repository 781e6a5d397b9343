"""One package's audio into the corpus: find its files, decode them to mono 24 kHz, write 16-bit FLAC.

:func:`convert_source` returns the package's manifest entries (path, source, licence, duration, BS.1770 loudness,
train/valid split); :mod:`codec.training.corpus` builds the whole corpus and its manifest from them.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import subprocess
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pyloudnorm
import soundfile as sf
import soxr

from codec.training.data import assign_splits
from codec.training.sources import Source, check_not_reserved, matching_files

log = logging.getLogger(__name__)

CORPUS_RATE_HZ = 24_000
MIN_DURATION_S = 1.0
MIN_CLIP_S = 0.1  # shorter clips are clicks, not words
JOINED_S = 4.0
JOIN_PAUSE_S = 0.15
SILENCE_LUFS = -70.0  # BS.1770 absolute gate: quieter files carry nothing to learn from
MAX_MEMBER_BYTES = 512 * 2**20  # refuse absurdly large (or zip-bomb) archive members


@dataclass(frozen=True)
class AudioItem:
    """One audio file to take from a package: its path relative to the package root and how to open it."""

    rel_path: str
    open: Callable[[], Any]  # returns a path or a binary file object soundfile can read


def hash_order(key: str) -> str:
    """A stable pseudo-random sort key for ``key`` (its SHA-1 in hex)."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def _safe_member(name: str) -> bool:
    """A zip member name that cannot escape its folder when used as a relative path."""
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


def iter_audio(source: Source, root: Path) -> Iterator[AudioItem]:
    """Audio files of ``source`` in its unpacked tree ``root``, in a stable pseudo-random (hash) order.

    Zip archives (.pk3) are read in memory; members are never extracted to disk.
    """
    items: list[AudioItem] = []
    for path in matching_files(root, source.globs):
        items.append(AudioItem(path.relative_to(root).as_posix(), lambda path=path: path))
    for archive in matching_files(root, source.archive_globs):
        try:
            with zipfile.ZipFile(archive) as zf:
                members = [m for m in zf.infolist() if not m.is_dir()]
        except (OSError, zipfile.BadZipFile) as error:
            log.warning("skipping unreadable archive %s: %s", archive, error)
            continue
        for member in members:
            matched = any(PurePosixPath(member.filename).match(pattern) for pattern in source.member_globs)
            if not matched or not _safe_member(member.filename) or member.file_size > MAX_MEMBER_BYTES:
                continue
            rel = f"{archive.relative_to(root).as_posix()}/{member.filename}"
            items.append(AudioItem(rel, lambda a=archive, m=member.filename: io.BytesIO(zipfile.ZipFile(a).read(m))))
    # Hash order spreads a --max-minutes-per-package budget over the whole package (all languages, all tracks).
    items.sort(key=lambda item: hash_order(f"{source.package}/{item.rel_path}"))
    yield from items


def decode_mono(source: Any, rate_hz: int = CORPUS_RATE_HZ) -> np.ndarray:
    """Decode ``source`` (path or file object), downmix to mono and resample: float32 ``[T]`` at ``rate_hz``."""
    audio, file_rate = sf.read(source, dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    if file_rate != rate_hz:
        mono = soxr.resample(mono, file_rate, rate_hz, quality="VHQ")
    peak = float(np.max(np.abs(mono))) if mono.size else 0.0
    if peak > 1.0:  # downmix/resampling overshoot: scale rather than hard-clip in PCM_16
        mono = mono / peak
    return mono.astype(np.float32)


def loudness_lufs(audio: np.ndarray, rate_hz: int) -> float | None:
    """Integrated BS.1770 loudness of mono ``[T]`` audio in LUFS, or None when silent (or too short to measure)."""
    if audio.size < int(0.4 * rate_hz):
        return None
    value = pyloudnorm.Meter(rate_hz).integrated_loudness(audio.astype(np.float64))
    return float(value) if math.isfinite(value) and value > SILENCE_LUFS else None


def decode_item(item: AudioItem, rate_hz: int = CORPUS_RATE_HZ) -> np.ndarray | None:
    """Mono float32 ``[T]`` audio of ``item`` at ``rate_hz``, or None (with a warning) when it cannot be decoded."""
    try:
        return decode_mono(item.open(), rate_hz)
    except (sf.LibsndfileError, RuntimeError, ValueError, OSError, zipfile.BadZipFile,
            subprocess.CalledProcessError) as error:
        log.warning("skipping unreadable %s: %s", item.rel_path, error)
        return None


def write_audio(audio: np.ndarray, out_path: Path, rate_hz: int = CORPUS_RATE_HZ) -> dict[str, Any] | None:
    """Write mono ``[T]`` audio as 16-bit FLAC; return its duration and loudness, None (nothing written) if silent."""
    loudness = loudness_lufs(audio, rate_hz)
    if loudness is None:
        log.warning("skipping silent %s", out_path.name)
        return None
    out_path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(out_path, audio, rate_hz, subtype="PCM_16", format="FLAC")
    return {"duration_s": round(audio.size / rate_hz, 4), "sample_rate": rate_hz, "loudness_lufs": round(loudness, 3)}


def _converted(source: Source, root: Path, out: Path, items: Sequence[AudioItem] | None,
               rate_hz: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(relative output path, info)`` for each file written. Clips shorter than a second (letters, syllables)
    are joined, with short pauses, into files of about :data:`JOINED_S` seconds instead of being lost."""
    pending: list[np.ndarray] = []
    first_rel = ""
    pause = np.zeros(int(JOIN_PAUSE_S * rate_hz), dtype=np.float32)
    for item in items if items is not None else iter_audio(source, root):
        audio = decode_item(item, rate_hz)
        if audio is None or audio.size < int(MIN_CLIP_S * rate_hz):
            continue
        if audio.size >= int(MIN_DURATION_S * rate_hz):
            rel = (PurePosixPath(source.kind) / source.package / item.rel_path).with_suffix(".flac").as_posix()
        else:
            first_rel = first_rel or item.rel_path
            pending += [audio, pause]
            if sum(part.size for part in pending) < JOINED_S * rate_hz:
                continue
            rel = (PurePosixPath(source.kind) / source.package / "joined" / first_rel).with_suffix(".flac").as_posix()
            audio, pending, first_rel = np.concatenate(pending), [], ""
        info = write_audio(audio, out / rel, rate_hz)
        if info is not None:
            yield rel, info


def convert_source(source: Source, root: Path, out: Path, max_minutes: float | None = None,
                   items: Sequence[AudioItem] | None = None, rate_hz: int = CORPUS_RATE_HZ) -> list[dict[str, Any]]:
    """Convert the audio of one unpacked package into ``out/{kind}/{package}/``; return its manifest entries."""
    check_not_reserved(source.package)
    entries: list[dict[str, Any]] = []
    total_s = 0.0
    for rel, info in _converted(source, root, out, items, rate_hz):
        entries.append({"path": rel, "source_package": source.package, "kind": source.kind,
                        "licence": source.licence, **info})
        total_s += info["duration_s"]
        if max_minutes is not None and total_s >= 60.0 * max_minutes:
            break
    splits = assign_splits([entry["path"] for entry in entries])
    for entry, split in zip(entries, splits, strict=True):
        entry["split"] = split
    return entries
