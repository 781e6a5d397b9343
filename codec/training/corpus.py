"""Build a training corpus from freely licensed Debian packages.

``python -m codec.training.corpus --out DIR`` fetches the packages in :data:`codec.training.sources.SOURCES`,
decodes every audio file, downmixes it to mono, resamples it to 24 kHz (soxr VHQ), writes 16-bit FLAC under
``DIR/{speech,music}/{package}/...`` and a ``manifest.json`` with each file's source, licence, duration, BS.1770
loudness and train/valid split. ``--compact OUT`` then writes a small Ogg/Opus copy to carry to a GPU machine.

This file fetches the packages, writes the manifest, makes the compact copy and holds the command line; converting
one package's audio is :mod:`codec.training.corpus_convert`.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import soundfile as sf

from codec.training.corpus_convert import CORPUS_RATE_HZ, AudioItem, convert_source, hash_order, loudness_lufs
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
    select_sources,
)

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
COMPACT_MAX_FILE_S = 60.0
COMPACT_VALID_SHARE = 0.1


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
    plan.sort(key=lambda step: hash_order(step[0]))
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
            for entry in sorted((e for e in files if e["split"] == split), key=lambda e: hash_order(e["path"])):
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
