"""Build a training corpus from freely licensed Debian packages.

``python -m codec.training.corpus --out DIR`` fetches the packages in :data:`codec.training.sources.SOURCES`,
decodes every audio file, downmixes it to mono, resamples it to 24 kHz (soxr VHQ), writes 16-bit FLAC under
``DIR/{speech,music}/{package}/...`` and a ``manifest.json`` with each file's source, licence, duration, BS.1770
loudness and train/valid split. ``--compact OUT`` then writes a small Ogg/Opus copy to carry to a GPU machine.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import math
import shutil
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
from codec.training.sources import (
    ESPEAK_SOURCE,
    Source,
    check_not_reserved,
    copyright_text,
    default_cache_dir,
    espeak_languages,
    espeak_plan,
    espeak_wav,
    fetch_package,
    matching_files,
    select_sources,
)

log = logging.getLogger(__name__)

CORPUS_RATE_HZ = 24_000
MIN_DURATION_S = 1.0
MIN_CLIP_S = 0.1  # shorter clips are clicks, not words
JOINED_S = 4.0
JOIN_PAUSE_S = 0.15
SILENCE_LUFS = -70.0  # BS.1770 absolute gate: quieter files carry nothing to learn from
MAX_MEMBER_BYTES = 512 * 2**20  # refuse absurdly large (or zip-bomb) archive members
MANIFEST = "manifest.json"
COMPACT_MAX_FILE_S = 60.0
COMPACT_VALID_SHARE = 0.1


@dataclass(frozen=True)
class AudioItem:
    """One audio file to take from a package: its path relative to the package root and how to open it."""

    rel_path: str
    open: Callable[[], Any]  # returns a path or a binary file object soundfile can read


def _hash_order(key: str) -> str:
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
    items.sort(key=lambda item: _hash_order(f"{source.package}/{item.rel_path}"))
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


def totals(entries: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Hours of audio per kind and split: ``{"speech": {"train": h, "valid": h}, ...}``."""
    hours: dict[str, dict[str, float]] = {}
    for entry in entries:
        per_split = hours.setdefault(entry["kind"], {"train": 0.0, "valid": 0.0})
        per_split[entry["split"]] = per_split.get(entry["split"], 0.0) + entry["duration_s"] / 3600.0
    return {kind: {split: round(h, 3) for split, h in per_split.items()} for kind, per_split in sorted(hours.items())}


def write_manifest(out: Path, entries: Sequence[dict[str, Any]], sample_rate: int = CORPUS_RATE_HZ) -> dict[str, Any]:
    """Write ``out/manifest.json`` atomically (a training run may be waiting for it) and return its content."""
    manifest = {"format": "earbench-corpus-1", "sample_rate": sample_rate, "hours": totals(entries),
                "files": list(entries)}
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    tmp.replace(out / MANIFEST)
    return manifest


def build_corpus(out: Path, sources: Sequence[Source], cache_dir: Path, max_minutes_per_package: float | None = None,
                 espeak_minutes: float = 0.0) -> dict[str, Any]:
    """Fetch, convert and describe ``sources`` (plus optional espeak-ng speech) under ``out``; return the manifest."""
    entries: list[dict[str, Any]] = []
    roots: dict[str, Path] = {}
    for source in sources:
        check_not_reserved(source.package)
        root = fetch_package(source.package, cache_dir)
        if root is None:
            continue
        roots[source.package] = root
        licence_dir = out / "licences"
        text = copyright_text(root, source.package)
        if text is not None:
            licence_dir.mkdir(parents=True, exist_ok=True)
            (licence_dir / f"{source.package}.copyright").write_text(text, encoding="utf-8")
        package_entries = convert_source(source, root, out, max_minutes_per_package)
        minutes = sum(entry["duration_s"] for entry in package_entries) / 60.0
        log.info("%s: %d files, %.1f min", source.package, len(package_entries), minutes)
        entries.extend(package_entries)
    tuxpaint = roots.get("tuxpaint-stamps-default")
    if espeak_minutes > 0 and tuxpaint is not None:
        entries.extend(convert_source(ESPEAK_SOURCE, tuxpaint, out, espeak_minutes, espeak_items(tuxpaint)))
    return write_manifest(out, entries)


def espeak_items(tuxpaint_root: Path) -> list[AudioItem]:
    """Synthetic speech items (synthesised when opened), empty when espeak-ng is not installed."""
    plan = espeak_plan(tuxpaint_root, espeak_languages())
    plan.sort(key=lambda step: _hash_order(step[0]))
    return [AudioItem(rel, lambda t=text, v=voice, w=wpm: io.BytesIO(espeak_wav(t, v, w)))
            for rel, text, voice, wpm in plan]


def _opus_compression_level(bitrate_kbps: float) -> float:
    """libsndfile maps compression level 0..1 linearly onto Opus bitrates 256..6 kbps (per stream)."""
    return float(np.clip((256.0 - bitrate_kbps) / (256.0 - 6.0), 0.0, 1.0))


def _compact_file(corpus: Path, out: Path, entry: dict[str, Any], level: float) -> dict[str, Any] | None:
    """Write the middle (at most :data:`COMPACT_MAX_FILE_S`) of one corpus file as Opus; return its entry."""
    with sf.SoundFile(corpus / entry["path"]) as f:
        rate, length = f.samplerate, min(f.frames, int(COMPACT_MAX_FILE_S * f.samplerate))
        f.seek((f.frames - length) // 2)
        audio = f.read(length, dtype="float32")
    loudness = loudness_lufs(audio, rate)
    if loudness is None:
        return None
    rel = PurePosixPath(entry["path"]).with_suffix(".opus").as_posix()
    (out / rel).parent.mkdir(parents=True, exist_ok=True)
    # Opus in Ogg accepts 8, 12, 16, 24 or 48 kHz; the corpus is at 24 kHz.
    with sf.SoundFile(out / rel, "w", rate, 1, format="OGG", subtype="OPUS", compression_level=level) as f:
        f.write(audio)
    return {**entry, "path": rel, "duration_s": round(length / rate, 4), "loudness_lufs": round(loudness, 3)}


def compact_corpus(corpus: Path, out: Path, bitrate_kbps: float = 64.0, minutes: float = 45.0) -> dict[str, Any]:
    """Write an Ogg/Opus copy of a balanced part of ``corpus`` under ``out``, with its own manifest.

    Takes about ``minutes`` of audio, half speech and half music, spread evenly over packages in hash order; long
    files are cut to their middle :data:`COMPACT_MAX_FILE_S`. About :data:`COMPACT_VALID_SHARE` of each package's
    share goes to its validation files (at least one), so the copy keeps the corpus's split.
    """
    manifest = json.loads((corpus / MANIFEST).read_text(encoding="utf-8"))
    by_package: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in manifest["files"]:
        by_package.setdefault((entry["kind"], entry["source_package"]), []).append(entry)
    kinds = sorted({kind for kind, _ in by_package})
    level = _opus_compression_level(bitrate_kbps)
    chosen: list[dict[str, Any]] = []
    for (kind, _package), files in sorted(by_package.items()):
        budget_s = 60.0 * minutes / len(kinds) / sum(1 for k, _ in by_package if k == kind)
        for split, share in (("valid", COMPACT_VALID_SHARE), ("train", 1.0 - COMPACT_VALID_SHARE)):
            used_s = 0.0
            for entry in sorted((e for e in files if e["split"] == split), key=lambda e: _hash_order(e["path"])):
                if used_s >= share * budget_s:
                    break
                compact = _compact_file(corpus, out, entry, level)
                if compact is not None:
                    used_s += compact["duration_s"]
                    chosen.append(compact)
    if (corpus / "licences").is_dir():
        shutil.copytree(corpus / "licences", out / "licences", dirs_exist_ok=True)
    return write_manifest(out, chosen, manifest.get("sample_rate", CORPUS_RATE_HZ))


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m codec.training.corpus", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="corpus folder (written, or read with --compact)")
    parser.add_argument("--cache", type=Path, default=None, help="where .deb files are downloaded and unpacked")
    parser.add_argument("--packages", nargs="+", default=None, help="only these source packages")
    parser.add_argument("--max-minutes-per-package", type=float, default=None)
    espeak_default = 20.0 if shutil.which("espeak-ng") else 0.0
    parser.add_argument("--espeak-minutes", type=float, default=espeak_default,
                        help=f"synthetic espeak-ng speech (default {espeak_default:g}; 0 when not installed)")
    parser.add_argument("--compact", type=Path, default=None, help="write an Opus copy of the built corpus here")
    parser.add_argument("--compact-bitrate-kbps", type=float, default=64.0)
    parser.add_argument("--compact-minutes", type=float, default=45.0)
    return parser.parse_args(argv)


def _print_totals(manifest: dict[str, Any]) -> None:
    for kind, per_split in manifest["hours"].items():
        print(f"{kind}: " + ", ".join(f"{split} {hours:.2f} h" for split, hours in per_split.items()))
    print(f"{len(manifest['files'])} files")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    args = _parse_args(argv)
    if args.compact is not None:
        manifest = compact_corpus(args.out, args.compact, args.compact_bitrate_kbps, args.compact_minutes)
    else:
        sources = select_sources(args.packages)
        cache = args.cache if args.cache is not None else default_cache_dir()
        manifest = build_corpus(args.out, sources, cache, args.max_minutes_per_package, args.espeak_minutes)
    _print_totals(manifest)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
