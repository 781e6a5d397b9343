"""Build the held-out evaluation set from the packages reserved for evaluation (never used for training).

Music: 8 excerpts of 10 s from different tracks of ``wesnoth-1.16-music``. Speech: 6 clips of short spoken words
from ``ktuberling-data`` (one language each) and 2 clips of the spoken channel names of ``alsa-utils``, words
joined with short pauses. Files keep their original sample rate and channels (``codec eval`` resamples itself) and
are written as FLAC under ``OUT/music`` and ``OUT/speech``, with ``OUT/manifest.json`` (source, licence, kind).

Everything is deterministic: tracks, words and offsets are picked by hashing names and by measuring levels.

With ``--mono`` every clip is mixed down to one channel (the mean of its channels) before it is written: the set on
which mono models are compared at equal bitrates (a stereo file would cost a mono model twice the bits).

Usage: ``python benchmarks/build_eval_set.py --out /work/data/eval [--mono]``, then
``python -m codec eval OUT/speech --content speech -c ...`` and ``python -m codec eval OUT/music --content music``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from codec.training.sources import RESERVED_FOR_EVALUATION, copyright_text, default_cache_dir, fetch_package

MUSIC = ("wesnoth-1.16-music", "GPL-2+ (Battle for Wesnoth music)", "usr/share/games/wesnoth/*/data/core/music/*.ogg")
WORDS = ("ktuberling-data", "GPL-2+ (KTuberling)", "usr/share/ktuberling/sounds")
CHANNELS = ("alsa-utils", "GPL-2 (alsa-utils test sounds)", "usr/share/sounds/alsa")
SPEECH_LANGUAGES = ("en", "de", "fr", "ru", "es", "el", "ca", "uk", "lt")  # first SPEECH_WORD_ITEMS wideband
SPEECH_WORD_ITEMS = 6
MIN_SPEECH_RATE_HZ = 32_000  # skip narrowband recordings: the codecs under test are wideband
CHANNEL_GROUPS = (("Front_Left", "Front_Center", "Front_Right", "Side_Left"),
                  ("Side_Right", "Rear_Left", "Rear_Center", "Rear_Right"))
MUSIC_ITEMS = 8
EXCERPT_S = 10.0
WORDS_S = 5.0  # join words until the clip is at least this long
PAUSE_S = 0.3


def _hash(name: str) -> str:
    return hashlib.sha1(name.encode("utf-8")).hexdigest()


def _second_levels_db(audio: np.ndarray, rate: int) -> np.ndarray:
    """RMS level in dBFS of each whole second of ``[T, C]`` audio."""
    seconds = audio.shape[0] // rate
    blocks = audio[: seconds * rate].reshape(seconds, rate * audio.shape[1])
    return 10.0 * np.log10(np.mean(np.square(blocks, dtype=np.float64), axis=1) + 1e-12)


def excerpt_start_s(audio: np.ndarray, rate: int, excerpt_s: float = EXCERPT_S) -> int | None:
    """Start (whole seconds) of a representative excerpt: the first window after the intro whose every second is
    within 12 dB of the track's loud (80th percentile) level; the loudest window when none is. None if too short."""
    levels = _second_levels_db(audio, rate)
    width = int(excerpt_s)
    if levels.size < width + 2:
        return None
    loud = np.percentile(levels, 80)
    windows = np.lib.stride_tricks.sliding_window_view(levels, width)
    for start in range(int(0.2 * (levels.size - width)), levels.size - width + 1):
        if windows[start].min() >= loud - 12.0:
            return start
    return int(np.argmax(windows.mean(axis=1)))


def music_items(root: Path) -> list[dict[str, Any]]:
    """Excerpts of :data:`MUSIC_ITEMS` different tracks, tracks in hash order."""
    tracks = sorted(root.glob(MUSIC[2]), key=lambda p: _hash(p.name))
    items = []
    for track in tracks:
        audio, rate = sf.read(track, dtype="float32", always_2d=True)
        start_s = excerpt_start_s(audio, rate)
        if start_s is None:
            continue
        excerpt = audio[start_s * rate: start_s * rate + int(EXCERPT_S * rate)]
        items.append({"name": f"music/{track.stem}.flac", "audio": excerpt, "rate": rate, "kind": "music",
                      "source_package": MUSIC[0], "licence": MUSIC[1], "source_files": [track.name],
                      "offset_s": start_s})
        if len(items) == MUSIC_ITEMS:
            break
    return items


def join_words(paths: list[Path], min_s: float = WORDS_S) -> tuple[np.ndarray, int, list[str]]:
    """Words (files of one sample rate and channel count, those of the first) joined with pauses until ``min_s``."""
    parts, names, rate, channels = [], [], None, None
    for path in paths:
        audio, file_rate = sf.read(path, dtype="float32", always_2d=True)
        if rate is None:
            rate, channels = file_rate, audio.shape[1]
        if (file_rate, audio.shape[1]) != (rate, channels):
            continue
        parts += [audio, np.zeros((int(PAUSE_S * rate), channels), dtype=np.float32)]
        names.append(path.name)
        if sum(p.shape[0] for p in parts) >= min_s * rate:
            break
    return np.concatenate(parts[:-1]), rate, names


def speech_items(words_root: Path | None, channels_root: Path | None) -> list[dict[str, Any]]:
    """Spoken words of several languages (ktuberling) and the spoken channel names (alsa-utils)."""
    items = []
    if words_root is not None:
        for language in SPEECH_LANGUAGES:
            folder = words_root / WORDS[2] / language
            paths = sorted((p for p in folder.glob("*") if p.suffix in (".ogg", ".wav", ".opus")),
                           key=lambda p: _hash(p.name))
            if paths and len(items) < SPEECH_WORD_ITEMS:
                audio, rate, names = join_words(paths)
                if rate < MIN_SPEECH_RATE_HZ:
                    continue
                items.append({"name": f"speech/ktuberling_{language}.flac", "audio": audio, "rate": rate,
                              "kind": "speech", "source_package": WORDS[0], "licence": WORDS[1],
                              "language": language, "source_files": [f"{language}/{n}" for n in names]})
    if channels_root is not None:
        for index, group in enumerate(CHANNEL_GROUPS):
            paths = [channels_root / CHANNELS[2] / f"{name}.wav" for name in group]
            audio, rate, names = join_words([p for p in paths if p.exists()], min_s=float("inf"))
            items.append({"name": f"speech/alsa_channels_{index + 1}.flac", "audio": audio, "rate": rate,
                          "kind": "speech", "source_package": CHANNELS[0], "licence": CHANNELS[1],
                          "language": "en", "source_files": names})
    return items


def build_eval_set(out: Path, cache_dir: Path, mono: bool = False) -> dict[str, Any]:
    """Fetch the reserved packages, write the clips (mixed down to mono if ``mono``) and ``manifest.json`` under
    ``out``; return the manifest."""
    roots = {package: fetch_package(package, cache_dir) for package in (MUSIC[0], WORDS[0], CHANNELS[0])}
    assert set(roots) <= RESERVED_FOR_EVALUATION  # the evaluation set only ever comes from reserved packages
    items = (music_items(roots[MUSIC[0]]) if roots[MUSIC[0]] is not None else []) + speech_items(
        roots[WORDS[0]], roots[CHANNELS[0]])
    entries = []
    for item in items:
        audio, rate = item.pop("audio"), item.pop("rate")
        if mono:
            audio = audio.mean(axis=1, keepdims=True)
        path = out / item.pop("name")
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, audio, rate, subtype="PCM_24", format="FLAC")
        entries.append({"path": path.relative_to(out).as_posix(), **item, "sample_rate": rate,
                        "channels": audio.shape[1], "duration_s": round(audio.shape[0] / rate, 3)})
    for package, root in roots.items():
        text = copyright_text(root, package) if root is not None else None
        if text is not None:
            (out / "licences").mkdir(parents=True, exist_ok=True)
            (out / "licences" / f"{package}.copyright").write_text(text, encoding="utf-8")
    manifest = {"format": "earbench-eval-1", "mono_downmix": mono,
                "usage": "python -m codec eval OUT/speech --content speech; "
                "python -m codec eval OUT/music --content music", "files": entries}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=None, help="where .deb files are downloaded and unpacked")
    parser.add_argument("--mono", action="store_true", help="mix every clip down to mono (mean of its channels)")
    args = parser.parse_args()
    manifest = build_eval_set(args.out, args.cache or default_cache_dir(), args.mono)
    for entry in manifest["files"]:
        print(f"{entry['path']:40s} {entry['sample_rate']} Hz x{entry['channels']} {entry['duration_s']:6.2f} s")


if __name__ == "__main__":
    main()
