"""A content-addressed disk cache for reference-codec round trips.

Encoding with a bitrate search costs several encodes per clip, and the app asks for the same clip at the same
bitrate again and again, so :func:`cached_encode_decode` keys each result by the SHA-256 of the samples, sample rate,
codec, bitrate and an encoder fingerprint (:data:`codec.baselines.lossy.ENCODER_VERSION` plus the libsndfile and
libopus versions, so an upgraded library or a changed search never serves stale results).

Each entry is two files in ``<cache_dir>/<key[:2]>/``: ``<key>.npy`` (the decoded float32 ``[C, T]``, saved without
pickle) and ``<key>.json`` (the other :class:`LossyResult` fields). Both are written to a temporary file and moved
into place with :func:`os.replace`, the JSON last, so a reader sees a whole entry or none. An entry that cannot be
read or does not match (truncated, edited, wrong shape) is ignored and recomputed; a cache folder that cannot be
written only costs the caching, never the result.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs
import soundfile as sf

from codec.audio import as_audio_array, check_sample_rate
from codec.baselines import lossy
from codec.baselines.lossy import LossyResult

__all__ = ["cache_key", "cached_encode_decode", "default_cache_dir"]

_FORMAT = 1  # layout of the JSON file itself


def default_cache_dir() -> Path:
    """``<user cache dir>/earbench/baselines`` (e.g. ``~/.cache/earbench/baselines`` on Linux)."""
    return Path(platformdirs.user_cache_dir("earbench")) / "baselines"


@functools.cache
def _encoder_fingerprint() -> str:
    libopus = lossy.libopus_version() or "no libopus"  # without it Opus raises; the other codecs do not need it
    return f"{lossy.ENCODER_VERSION}; libsndfile {sf.__libsndfile_version__}; {libopus}"


def cache_key(audio: np.ndarray, sample_rate: int, codec: str, bitrate_kbps: float) -> str:
    """Hex SHA-256 identifying one round trip: samples (as float32 ``[C, T]``), rate, codec, bitrate, encoder."""
    samples = as_audio_array(audio)
    digest = hashlib.sha256()
    header = {"shape": list(samples.shape), "sample_rate": int(sample_rate), "codec": str(codec).lower(),
              "bitrate_kbps": float(bitrate_kbps), "encoder": _encoder_fingerprint()}
    digest.update(json.dumps(header, sort_keys=True).encode())
    digest.update(samples.tobytes())
    return digest.hexdigest()


def _atomic_write(path: Path, write: Any) -> None:
    """Write through ``write(file)`` to a temporary file beside ``path``, then rename it over ``path``."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _load(folder: Path, key: str, shape: tuple[int, int]) -> LossyResult | None:
    """The cached result, or None when the entry is missing, unreadable or does not match."""
    try:
        meta = json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
        if meta.get("format") != _FORMAT or meta.get("key") != key:
            return None
        audio = np.load(folder / f"{key}.npy", allow_pickle=False)
        if audio.dtype != np.float32 or audio.shape != shape or not np.isfinite(audio).all():
            return None
        audio.flags.writeable = False
        return LossyResult(audio=audio, codec=str(meta["codec"]), requested_kbps=float(meta["requested_kbps"]),
                           achieved_kbps=float(meta["achieved_kbps"]), encoded_bytes=int(meta["encoded_bytes"]),
                           codec_sample_rate=int(meta["codec_sample_rate"]), settings=dict(meta["settings"]))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _store(folder: Path, key: str, result: LossyResult) -> None:
    meta = {"format": _FORMAT, "key": key, "codec": result.codec, "requested_kbps": result.requested_kbps,
            "achieved_kbps": result.achieved_kbps, "encoded_bytes": result.encoded_bytes,
            "codec_sample_rate": result.codec_sample_rate, "settings": result.settings}
    folder.mkdir(parents=True, exist_ok=True)
    _atomic_write(folder / f"{key}.npy", lambda file: np.save(file, result.audio, allow_pickle=False))
    _atomic_write(folder / f"{key}.json", lambda file: file.write(json.dumps(meta, indent=1).encode()))


def cached_encode_decode(audio: np.ndarray, sample_rate: int, codec: str, bitrate_kbps: float,
                         cache_dir: str | os.PathLike | None = None) -> LossyResult:
    """:func:`codec.baselines.lossy.encode_decode`, remembered on disk by content.

    Parameters
    ----------
    audio : np.ndarray
        ``[C, T]`` or ``[T]`` samples.
    sample_rate : int
        In Hz.
    codec : {"opus", "mp3", "vorbis"}
    bitrate_kbps : float
        Requested bitrate in kbit/s.
    cache_dir : path, optional
        Cache folder; :func:`default_cache_dir` when None.

    Returns
    -------
    LossyResult
        Equal in every field to what ``encode_decode`` returns; its ``audio`` is read-only.

    Raises
    ------
    InvalidAudioError, CodecError
        As ``encode_decode`` (errors are not cached).
    """
    samples = as_audio_array(audio)
    sample_rate = check_sample_rate(sample_rate)
    key = cache_key(samples, sample_rate, codec, bitrate_kbps)
    folder = Path(cache_dir if cache_dir is not None else default_cache_dir()) / key[:2]
    cached = _load(folder, key, samples.shape)
    if cached is not None:
        return cached
    result = lossy.encode_decode(samples, sample_rate, codec, bitrate_kbps)
    with contextlib.suppress(OSError):  # a read-only or full disk loses the cache, not the result
        _store(folder, key, result)
    return result
