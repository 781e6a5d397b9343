"""Debian packages that hold freely licensed speech and music, and how to fetch and unpack them.

Packages are fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x`` into a cache outside git, so a
corpus can be rebuilt offline from the same archive. Packages reserved for independent evaluation are refused here,
so no training corpus can contain them by mistake.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)

#: Never train, tune or pick checkpoints on these: they make the held-out evaluation set.
RESERVED_FOR_EVALUATION: frozenset[str] = frozenset({"wesnoth-1.16-music", "ktuberling-data", "alsa-utils"})


@dataclass(frozen=True)
class Source:
    """One Debian package and the audio files to take from it.

    ``globs`` are relative to the unpacked package root. ``archive_globs`` name zip archives (Quake-style .pk3)
    inside the package whose members matching ``member_globs`` are audio.
    """

    package: str
    kind: str  # "speech" | "music"
    licence: str
    globs: tuple[str, ...] = ()
    archive_globs: tuple[str, ...] = ()
    member_globs: tuple[str, ...] = ()


SOURCES: tuple[Source, ...] = (
    # Speech: many voices and languages.
    Source("tuxpaint-stamps-default", "speech", "GPL-2",
           ("usr/share/tuxpaint/stamps/**/*_desc*.ogg", "usr/share/tuxpaint/stamps/**/*_desc*.wav")),
    Source("klettres-data", "speech", "GPL-2+", ("usr/share/klettres/**/*.ogg",)),
    Source("fillets-ng-data", "speech", "GPL-2+", ("usr/share/games/fillets-ng/sound/*/en/*.ogg",)),
    Source("gcin-voice", "speech", "GPL-3 or LGPL-3 (*/3.ogg), CC-BY-3.0 (*/5.ogg)",
           ("usr/share/gcin-voice/ogg/**/*.ogg",)),
    Source("festvox-ru", "speech", "BSD-like (msu_ru_nsh voice database)",
           ("usr/share/festival/voices/russian/*/wav/*.wav",)),
    Source("asterisk-core-sounds-en-wav", "speech", "CC-BY-SA-3.0 (Allison Smith / Digium)",
           ("usr/share/asterisk/sounds/**/*.wav",)),
    # Music: mostly lossy Vorbis game soundtracks.
    Source("ufoai-music", "music", "GPL-2+, CC-BY-3.0, CC-BY-SA-3.0 or public domain (per track, see copyright)",
           archive_globs=("usr/share/games/ufoai/base/*.pk3",), member_globs=("music/*.ogg",)),
    Source("planetblupi-music-ogg", "music", "GPL-3+", ("usr/share/planetblupi/music/*.ogg",)),
    Source("nexuiz-music", "music", "GPL-2+",
           archive_globs=("usr/share/games/nexuiz/data/*.pk3",), member_globs=("sound/cdtracks/*.ogg",)),
    Source("colobot-common-sounds", "music", "GPL-3+", ("usr/share/games/colobot/music/*.ogg",)),
    Source("singularity-music", "music", "CC-BY-SA-3.0 (Max McCracken)",
           ("usr/share/games/singularity/music/**/*.ogg",)),
    Source("drascula-music", "music", "Drascula licence (free redistribution)",
           ("usr/share/scummvm/drascula/audio/*.ogg",)),
    Source("hyperrogue-music", "music", "CC-BY-SA-3.0 / CC-BY-SA-4.0 / CC0 (per track, see copyright)",
           ("usr/share/hyperrogue/music/*.ogg",)),
)


def default_cache_dir() -> Path:
    """Where downloaded .deb files and their unpacked trees live (outside git)."""
    return Path(platformdirs.user_cache_dir("earbench")) / "debs"


def select_sources(packages: Iterable[str] | None = None, allow_reserved: bool = False) -> list[Source]:
    """The training sources named in ``packages`` (all when None), in table order.

    Raises ValueError for a reserved evaluation package (unless ``allow_reserved``) or an unknown name.
    """
    if packages is None:
        return list(SOURCES)
    wanted = list(packages)
    reserved = sorted(set(wanted) & RESERVED_FOR_EVALUATION)
    if reserved and not allow_reserved:
        raise ValueError(f"reserved for evaluation, never used for training: {', '.join(reserved)}")
    known = {source.package for source in SOURCES}
    unknown = sorted(set(wanted) - known)
    if unknown:
        raise ValueError(f"unknown corpus packages: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return [source for source in SOURCES if source.package in wanted]


def check_not_reserved(package: str) -> None:
    """Raise ValueError when ``package`` is reserved for evaluation."""
    if package in RESERVED_FOR_EVALUATION:
        raise ValueError(f"{package} is reserved for evaluation, never used for training")


def fetch_package(package: str, cache_dir: Path) -> Path | None:
    """Download (``apt-get download``) and unpack (``dpkg-deb -x``) ``package``; return its unpacked root.

    Reuses an earlier download or unpacked tree. Returns None, with a warning, when the package cannot be fetched.
    """
    root = cache_dir / "unpacked" / package
    if (root / ".complete").exists():
        return root
    cache_dir.mkdir(parents=True, exist_ok=True)
    debs = sorted(cache_dir.glob(f"{package}_*.deb"))
    if not debs:
        result = subprocess.run(["apt-get", "download", package], cwd=cache_dir, capture_output=True, text=True)
        debs = sorted(cache_dir.glob(f"{package}_*.deb"))
        if not debs:
            log.warning("skipping %s: apt-get download failed: %s", package, result.stderr.strip()[-500:])
            return None
    root.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(root)], capture_output=True, text=True)
    if result.returncode != 0:
        log.warning("skipping %s: dpkg-deb -x failed: %s", package, result.stderr.strip()[-500:])
        return None
    (root / ".complete").touch()
    return root


def matching_files(root: Path, globs: Sequence[str]) -> list[Path]:
    """Regular files (no symlinks, which duplicate other files) under ``root`` matching any glob, sorted."""
    found = {path for pattern in globs for path in root.glob(pattern) if path.is_file() and not path.is_symlink()}
    return sorted(found)


def copyright_text(root: Path, package: str) -> str | None:
    """The package's Debian copyright file, or None when absent."""
    path = root / "usr" / "share" / "doc" / package / "copyright"
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None


#: Synthetic speech: Tux Paint's translated stamp descriptions read by espeak-ng in their own languages.
ESPEAK_SOURCE = Source("espeak-ng", "speech",
                       "text GPL-2 (Tux Paint stamp descriptions), voices GPL-3+ (espeak-ng); synthetic")
_ESPEAK_VARIANTS = ("", "+m1", "+m3", "+m5", "+m7", "+f1", "+f2", "+f3", "+f4")


def espeak_languages() -> frozenset[str]:
    """Languages of the installed espeak-ng voices (lower case, e.g. ``"en-gb"``), empty when not installed."""
    try:
        listing = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return frozenset()
    return frozenset(line.split()[1].lower() for line in listing.splitlines()[1:] if len(line.split()) > 1)


def description_texts(txt: str) -> list[tuple[str, str]]:
    """``(language, text)`` pairs of a Tux Paint stamp description file (first line English, then ``xx.utf8=...``)."""
    lines = [line.strip() for line in txt.splitlines() if line.strip()]
    pairs = [("en", lines[0])] if lines and "=" not in lines[0] else []
    for line in lines:
        key, sep, text = line.partition("=")
        if sep and key.endswith(".utf8") and text.strip():
            pairs.append((key.removesuffix(".utf8").replace("_", "-").lower(), text.strip()))
    return pairs


def espeak_wav(text: str, voice: str, words_per_minute: int) -> bytes:
    """Synthesise ``text`` with espeak-ng; returns WAV bytes (22.05 kHz mono)."""
    # A file (not --stdout) so the WAV header carries the real length.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(words_per_minute), "-w", str(path), "--", text],
                       capture_output=True, check=True)
        return path.read_bytes()


def espeak_plan(tuxpaint_root: Path, languages: frozenset[str]) -> list[tuple[str, str, str, int]]:
    """``(rel_path, text, voice, words_per_minute)`` for each stamp description, one language per stamp.

    Language, voice variant and speed are picked from a hash of the stamp name, so rebuilding gives the same plan.
    """
    plan = []
    for txt in matching_files(tuxpaint_root, ("usr/share/tuxpaint/stamps/**/*.txt",)):
        pairs = [(lang if lang in languages else lang.split("-")[0], text)
                 for lang, text in description_texts(txt.read_text(encoding="utf-8", errors="replace"))]
        pairs = [(lang, text) for lang, text in pairs if lang in languages and len(text) >= 20]
        if not pairs:
            continue
        digest = int(hashlib.sha1(txt.stem.encode("utf-8")).hexdigest(), 16)
        lang, text = pairs[digest % len(pairs)]
        voice = lang + _ESPEAK_VARIANTS[(digest // 97) % len(_ESPEAK_VARIANTS)]
        plan.append((f"{lang}/{txt.stem}.wav", text, voice, 130 + (digest // 7919) % 60))
    return plan
